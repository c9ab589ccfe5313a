package dev.gemulator.kernel.proc;

import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.vfs.KFile;

/**
 * A shared read/write mapping (struct vm_area_struct) as a gemscript map id
 * sees it. It owns one reference on the GEM object whose pages it shows and
 * one on the file it was mapped through (vm_file: a drm file or a dma-buf):
 * a mapping keeps both alive after every handle and fd is gone.
 *
 * <p>Faults use the address within the mapping and ignore the offset it was
 * mapped at, as drm_gem_shmem's fault handler does (conformance mmap.gem).
 */
public final class Vma {
    private long mapId;
    private final long lengthBytes;
    private final long pageOffset;
    private final KFile file;
    private GemObject object;
    private long start;

    public Vma(long lengthBytes, long pageOffset, KFile file) {
        this.lengthBytes = lengthBytes;
        this.pageOffset = pageOffset;
        this.file = file;
    }

    public long mapId() {
        return mapId;
    }

    /** Numbers the mapping once it is in place (ids are never reused). */
    public void setMapId(long mapId) {
        this.mapId = mapId;
    }

    /** The length given to mmap (reads and writes are checked against it). */
    public long lengthBytes() {
        return lengthBytes;
    }

    /** Whole pages the mapping covers. */
    public long pages() {
        return (lengthBytes + 4095) >>> 12;
    }

    /** vm_start: where the mapping is in the process's address space. */
    public long start() {
        return start;
    }

    /** vm_end: the first address after the mapping (whole pages). */
    public long end() {
        return start + (pages() << 12);
    }

    public void setStart(long start) {
        this.start = start;
    }

    /** vm_pgoff as mmap passed it. */
    public long pageOffset() {
        return pageOffset;
    }

    /** vm_file: the file the mapping pins (the drm file or the dma-buf it was mapped through). */
    public KFile file() {
        return file;
    }

    /** The object whose pages the mapping shows (vm_private_data). */
    public GemObject object() {
        return object;
    }

    public void setObject(GemObject object) {
        this.object = object;
    }
}
