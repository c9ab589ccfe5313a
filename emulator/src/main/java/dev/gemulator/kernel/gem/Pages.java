package dev.gemulator.kernel.gem;

import java.util.HashMap;
import java.util.Map;

/**
 * The backing store of a shmem object on the heap: pages come into being on
 * the first write that touches them; a page never written reads as zeros.
 */
final class Pages implements ShmemFile {
    private static final int PAGE = 4096;
    /** Objects up to this many pages index pages in an array, larger ones in a map. */
    private static final long ARRAY_LIMIT_PAGES = 1 << 16;

    private final byte[][] array;
    private final Map<Long, byte[]> sparse;
    private long allocatedPages;

    Pages(long sizeBytes) {
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
                java.util.Arrays.fill(dst, dstOffset + done, dstOffset + done + n, (byte) 0);
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
