package dev.gemulator.kernel.gem;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * drm_vma_offset_manager over a drm_mm range allocator: the fake mmap offsets
 * of GEM objects, in pages, from DRM_FILE_PAGE_OFFSET_START.
 *
 * <p>Allocation is drm_mm's DRM_MM_INSERT_BEST: the smallest hole that fits;
 * among holes of the same size the one most recently (re)inserted into the
 * size tree, which is where the kernel's rb-tree walk ends. The node goes at
 * the start of the hole. Every hole belongs to the node before it (or to the
 * head), and freeing a node grows the previous node's hole, re-inserting it.
 */
public final class VmaOffsetManager {
    /** DRM_FILE_PAGE_OFFSET_START on 64-bit: (0xffffffff >> PAGE_SHIFT) + 1. */
    public static final long START_PAGE = (0xFFFFFFFFL >>> 12) + 1;
    /** DRM_FILE_PAGE_OFFSET_SIZE on 64-bit: (0xffffffff >> PAGE_SHIFT) * 256. */
    public static final long SIZE_PAGES = (0xFFFFFFFFL >>> 12) * 256;
    private static final long HEAD = -1;

    private record Hole(long sizePages, long sequence, long ownerStart, long startPage) {
    }

    /** Allocated nodes by start page. */
    private final TreeMap<Long, GemObject> nodes = new TreeMap<>();
    /** Holes by size ascending, then newest first. */
    private final TreeSet<Hole> holesBySize = new TreeSet<>((a, b) -> {
        int c = Long.compare(a.sizePages, b.sizePages);
        return c != 0 ? c : Long.compare(b.sequence, a.sequence);
    });
    /** The hole after each node (HEAD for the one before the first node). */
    private final Map<Long, Hole> holeAfter = new HashMap<>();
    private long sequence;

    public VmaOffsetManager() {
        addHole(HEAD, START_PAGE, START_PAGE + SIZE_PAGES);
    }

    private void addHole(long ownerStart, long from, long to) {
        if (to > from) {
            Hole h = new Hole(to - from, sequence++, ownerStart, from);
            holesBySize.add(h);
            holeAfter.put(ownerStart, h);
        }
    }

    private void removeHole(long ownerStart) {
        Hole h = holeAfter.remove(ownerStart);
        if (h != null) {
            holesBySize.remove(h);
        }
    }

    /**
     * drm_vma_offset_add: gives {@code object} a range of {@code pages}
     * pages. Returns false when none fits or {@code pages} is 0 (ENOSPC).
     */
    public boolean add(GemObject object, long pages) {
        if (pages == 0) {
            return false;
        }
        Hole best = holesBySize.ceiling(new Hole(pages, Long.MAX_VALUE, 0, 0));
        if (best == null) {
            return false;
        }
        long start = best.startPage;
        long holeEnd = best.startPage + best.sizePages;
        removeHole(best.ownerStart);
        nodes.put(start, object);
        object.setVmaNode(start, pages);
        addHole(start, start + pages, holeEnd);
        return true;
    }

    /** drm_vma_offset_remove: frees the object's range, merging it into the hole before it. */
    public void remove(GemObject object) {
        long start = object.vmaStartPage();
        if (start < 0) {
            return;
        }
        nodes.remove(start);
        removeHole(start);
        Map.Entry<Long, GemObject> prev = nodes.lowerEntry(start);
        long prevOwner = prev == null ? HEAD : prev.getKey();
        long from = prev == null ? START_PAGE : prev.getKey() + prev.getValue().vmaPages();
        Map.Entry<Long, GemObject> next = nodes.higherEntry(start);
        long to = next == null ? START_PAGE + SIZE_PAGES : next.getKey();
        removeHole(prevOwner);
        addHole(prevOwner, from, to);
        object.setVmaNode(-1, 0);
    }

    /**
     * drm_vma_offset_exact_lookup_locked: the object whose range starts at
     * {@code startPage} and holds {@code pages} pages, or null.
     */
    public GemObject exactLookup(long startPage, long pages) {
        Map.Entry<Long, GemObject> e = nodes.floorEntry(startPage);
        if (e == null) {
            return null;
        }
        GemObject o = e.getValue();
        if (startPage + pages > e.getKey() + o.vmaPages() || e.getKey() != startPage) {
            return null;
        }
        return o;
    }
}
