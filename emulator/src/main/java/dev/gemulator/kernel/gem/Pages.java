package dev.gemulator.kernel.gem;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The backing store of a shmem object on the heap: pages come into being on
 * the first write that touches them; a page never written reads as zeros. Its index
 * (what finds a page) costs memory too, and the device counts it with the
 * pages ({@link #indexBytes}): an array for small objects, a map holding
 * only the written pages for big ones, so a huge object that is barely
 * written costs little.
 */
final class Pages implements ShmemFile {
    private static final int PAGE = 4096;
    /** Objects up to this many pages (4 MiB) index pages in an array, larger ones in a map. */
    private static final long ARRAY_LIMIT_PAGES = 1 << 10;
    /** What the array index costs: its header, then one reference a page (counted uncompressed). */
    private static final long ARRAY_HEADER_BYTES = 16;
    private static final long ARRAY_ENTRY_BYTES = 8;
    /** What the map index costs: the map itself, then a node and a boxed index a written page. */
    private static final long MAP_BYTES = 96;
    private static final long MAP_ENTRY_BYTES = 64;

    private final byte[][] array;
    private final Map<Long, byte[]> sparse;
    private final long sizeBytes;
    private long allocatedPages;

    Pages(long sizeBytes) {
        this.sizeBytes = sizeBytes;
        long count = (sizeBytes + PAGE - 1) / PAGE;
        if (count <= ARRAY_LIMIT_PAGES) {
            array = new byte[(int) count][];
            sparse = null;
        } else {
            array = null;
            sparse = new HashMap<>();
        }
    }

    @Override
    public long allocatedPages() {
        return allocatedPages;
    }

    /** What the index of an object of {@code sizeBytes} costs once {@code pages} of its pages exist. */
    static long indexBytes(long sizeBytes, long pages) {
        long count = (sizeBytes + PAGE - 1) / PAGE;
        return count <= ARRAY_LIMIT_PAGES ? ARRAY_HEADER_BYTES + ARRAY_ENTRY_BYTES * count
                : MAP_BYTES + MAP_ENTRY_BYTES * pages;
    }

    private byte[] page(long index, boolean create) {
        byte[] p = array != null ? array[(int) index] : sparse.get(index);
        if (p == null && create) {
            p = new byte[PAGE];
            allocatedPages++;
            if (array != null) {
                array[(int) index] = p;
            } else {
                sparse.put(index, p);
            }
        }
        return p;
    }

    @Override
    public long indexBytes(long pages) {
        return indexBytes(sizeBytes, pages);
    }

    /** How many pages of the range are not there yet (a write would allocate them). */
    @Override
    public long missing(long offset, int length) {
        long n = 0;
        for (long page = offset / PAGE; page <= (offset + length - 1) / PAGE; page++) {
            if (page(page, false) == null) {
                n++;
            }
        }
        return n;
    }

    @Override
    public void read(long offset, byte[] dst, int dstOffset, int length) {
        int done = 0;
        while (done < length) {
            long at = offset + done;
            int inPage = (int) (at % PAGE);
            int n = Math.min(length - done, PAGE - inPage);
            byte[] p = page(at / PAGE, false);
            if (p == null) {
                Arrays.fill(dst, dstOffset + done, dstOffset + done + n, (byte) 0);
            } else {
                System.arraycopy(p, inPage, dst, dstOffset + done, n);
            }
            done += n;
        }
    }

    @Override
    public boolean write(long offset, byte[] src, int srcOffset, int length) {
        int done = 0;
        while (done < length) {
            long at = offset + done;
            int inPage = (int) (at % PAGE);
            int n = Math.min(length - done, PAGE - inPage);
            System.arraycopy(src, srcOffset + done, page(at / PAGE, true), inPage, n);
            done += n;
        }
        return true;
    }

    @Override
    public void release() {
    }
}
