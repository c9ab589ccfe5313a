package dev.gemulator.kernel.gem;

import dev.gemulator.kernel.KObject;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.dmabuf.DmaResv;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.drm.DrmFile;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * struct drm_gem_object of a shmem-backed vgem buffer.
 *
 * <p>Lifetime (Linux 6.x): the handles of all files together own one
 * reference (taken when handle_count goes 0 to 1, dropped when it goes back to
 * 0); a dma-buf exported from the object owns one; every mapping owns one;
 * lookups own one for the length of an ioctl. A flink name owns none: it
 * lives as long as some handle does. The link to the object's dma-buf
 * ({@link #dmaBuf()}) owns a reference on that dma-buf and is dropped with the
 * last handle. The fake mmap offset is allocated with the object and freed
 * with it; a file may map it only while it holds a handle (the vma node's
 * allow list).
 *
 * <p>Memory per idle object is kept small on purpose: pages, the reservation
 * object and a second allow entry exist only once needed.
 */
public final class GemObject extends KObject {
    private final DrmDevice dev;
    private final long sizeBytes;
    private int handleCount;
    private int name;
    private DmaBuf dmaBuf;
    private DmaBuf importBuf;
    private long vmaStartPage = -1;
    private long vmaPages;
    private DrmFile allowFile;
    private int allowCount;
    private List<Allow> allowMore;
    private ShmemFile pages;
    /** What the device was charged for the index of the pages (given back with them). */
    private long chargedIndexBytes;
    private DmaResv resv;
    GemObject prevLive;
    GemObject nextLive;

    private static final class Allow {
        final DrmFile file;
        int count;

        Allow(DrmFile file) {
            this.file = file;
        }
    }

    /** drm_gem_object_init: one reference, owned by the creator. */
    public GemObject(DrmDevice dev, long sizeBytes) {
        super(dev.kernel().nextId(Kernel.IdKind.GEM));
        this.dev = dev;
        this.sizeBytes = sizeBytes;
    }

    @Override
    protected Kernel kernel() {
        return dev.kernel();
    }

    @Override
    public String kind() {
        return "gem";
    }

    public DrmDevice dev() {
        return dev;
    }

    /** obj->size, page aligned. */
    public long size() {
        return sizeBytes;
    }

    /** obj->handle_count: handles on this object in all files (under object_name_lock). */
    public int handleCount() {
        return handleCount;
    }

    void setHandleCount(int handleCount) {
        this.handleCount = handleCount;
    }

    /** obj->name: its flink name, 0 for none. */
    public int name() {
        return name;
    }

    void setName(int name) {
        this.name = name;
    }

    /** obj->dma_buf: the dma-buf this object is exported as (the link), or null. */
    public DmaBuf dmaBuf() {
        return dmaBuf;
    }

    public void setDmaBuf(DmaBuf dmaBuf) {
        this.dmaBuf = dmaBuf;
    }

    /** obj->import_attach->dmabuf: the foreign dma-buf this object was imported from, or null. */
    public DmaBuf importBuf() {
        return importBuf;
    }

    public void setImportBuf(DmaBuf importBuf) {
        this.importBuf = importBuf;
    }

    /** obj->resv: the reservation object holding its fences (created on first use). */
    public DmaResv resv() {
        if (resv == null) {
            resv = new DmaResv(dev.kernel());
        }
        return resv;
    }

    /** Shares another reservation object (an import shares its dma-buf's). */
    public void setResv(DmaResv resv) {
        this.resv = resv;
    }

    // --- vma node ---

    public long vmaStartPage() {
        return vmaStartPage;
    }

    public long vmaPages() {
        return vmaPages;
    }

    void setVmaNode(long startPage, long pages) {
        this.vmaStartPage = startPage;
        this.vmaPages = pages;
    }

    /** drm_vma_node_offset_addr: the fake offset in bytes. */
    public long mmapOffset() {
        return vmaStartPage << 12;
    }

    /** drm_vma_node_allow: one more handle of {@code file} may map this object. */
    void vmaAllow(DrmFile file) {
        if (allowFile == file) {
            allowCount++;
            return;
        }
        if (allowFile == null) {
            allowFile = file;
            allowCount = 1;
            return;
        }
        if (allowMore == null) {
            allowMore = new ArrayList<>(2);
        }
        for (Allow a : allowMore) {
            if (a.file == file) {
                a.count++;
                return;
            }
        }
        Allow a = new Allow(file);
        a.count = 1;
        allowMore.add(a);
    }

    /** drm_vma_node_revoke: one handle of {@code file} less. */
    void vmaRevoke(DrmFile file) {
        if (allowFile == file) {
            if (--allowCount == 0) {
                allowFile = null;
                if (allowMore != null && !allowMore.isEmpty()) {
                    Allow a = allowMore.remove(0);
                    allowFile = a.file;
                    allowCount = a.count;
                }
            }
            return;
        }
        if (allowMore != null) {
            for (int i = 0; i < allowMore.size(); i++) {
                Allow a = allowMore.get(i);
                if (a.file == file && --a.count == 0) {
                    allowMore.remove(i);
                    return;
                }
            }
        }
    }

    /** drm_vma_node_is_allowed. */
    public boolean vmaIsAllowed(DrmFile file) {
        if (allowFile == file && file != null) {
            return true;
        }
        if (allowMore != null) {
            for (Allow a : allowMore) {
                if (a.file == file) {
                    return true;
                }
            }
        }
        return false;
    }

    // --- pages ---

    /** Copies bytes out of the object (never-written pages read as zeros). */
    public void readBytes(long offset, byte[] dst) {
        use("shmem_fault", "read");
        if (pages == null) {
            Arrays.fill(dst, (byte) 0);
            return;
        }
        pages.read(offset, dst, 0, dst.length);
    }

    /**
     * Copies bytes into the object, allocating the pages it touches; false
     * (nothing written) when the new pages, with what indexing them costs,
     * would take the device past its memory limit.
     */
    public boolean writeBytes(long offset, byte[] src) {
        use("shmem_fault", "write");
        if (src.length == 0) {
            return true;
        }
        long missing = pages == null ? (offset + src.length - 1) / 4096 - offset / 4096 + 1
                : pages.missing(offset, src.length);
        long had = pages == null ? 0 : pages.allocatedPages();
        long index = indexBytes(had + missing) - chargedIndexBytes;
        if (!dev.chargeResident(missing * 4096, index)) {
            return false;
        }
        if (!shmemFile().write(offset, src, 0, src.length)) {
            dev.releaseResident(missing * 4096, index);
            return false;
        }
        chargedIndexBytes += index;
        return true;
    }

    /**
     * The object's shmem file, made on first use (the kernel makes it with the
     * object; its pages come later either way): the heap's, or one from the
     * device's {@link ShmemMount} that programs map for real.
     */
    public ShmemFile shmemFile() {
        if (pages == null) {
            ShmemMount mount = dev.shmemMount();
            pages = mount != null ? mount.create(this, sizeBytes) : new Pages(sizeBytes);
        }
        return pages;
    }

    /**
     * What the index of the object's pages costs once {@code n} of them
     * exist: its store's figure, or before the store is made, the heap's
     * (none when the device's pages are a mount's, outside the server).
     */
    private long indexBytes(long n) {
        if (pages != null) {
            return pages.indexBytes(n);
        }
        return dev.shmemMount() != null ? 0 : Pages.indexBytes(sizeBytes, n);
    }

    /** Bytes of backing memory that exist (pages written at least once). */
    public long residentBytes() {
        return pages == null ? 0 : pages.allocatedPages() * 4096;
    }

    /** Marks the object freed; Gem.objectFree has released what it owned. */
    void markFreedBy(String function) {
        markFreed(function);
    }

    /** Frees the backing store (shmem file put). */
    void dropPages() {
        dev.releaseResident(residentBytes(), chargedIndexBytes);
        chargedIndexBytes = 0;
        if (pages != null) {
            pages.release();
        }
        pages = null;
    }

    /** Drops the reservation object's fences (dma_resv_fini). */
    void finiResv(String function) {
        if (resv != null) {
            resv.fini(function);
        }
    }

}
