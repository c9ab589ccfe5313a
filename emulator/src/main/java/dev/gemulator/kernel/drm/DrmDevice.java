package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.Idr;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.Mutex;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.SpinLock;
import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.gem.LiveObjects;
import dev.gemulator.kernel.gem.ShmemMount;
import dev.gemulator.kernel.gem.VmaOffsetManager;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.SequencedSet;

/**
 * struct drm_device: one GPU (a vgem instance) with its primary and render
 * nodes, its global flink name table, the fake mmap offset space and the
 * current DRM master.
 */
public final class DrmDevice {
    private final Kernel kernel;
    private final int index;
    private final DrmDriver driver;
    private final DrmMinor primary;
    private final DrmMinor render;
    private final Lock objectNameLock;
    private final Idr<GemObject> objectNameIdr = new Idr<>(1);
    private final Mutex masterMutex;
    private final VmaOffsetManager vmaOffsetManager = new VmaOffsetManager();
    private final LinkedHashSet<DrmFile> files = new LinkedHashSet<>();
    private long residentBytes;
    private long pageIndexBytes;
    private long memoryLimitBytes = Long.MAX_VALUE;
    private int objectLimit = Integer.MAX_VALUE;
    private int handleLimit = Integer.MAX_VALUE - 1;
    private int fenceSlotLimit = DEFAULT_FENCE_SLOTS;
    private int fenceIdLimit = Integer.MAX_VALUE - 1;
    private final LiveObjects liveObjects = new LiveObjects();
    private DrmMaster master;
    private ShmemMount shmemMount;

    public DrmDevice(Kernel kernel, int index, DrmDriver driver) {
        this.kernel = kernel;
        this.index = index;
        this.driver = driver;
        this.primary = new DrmMinor(this, DrmMinor.Type.PRIMARY, index);
        this.render = new DrmMinor(this, DrmMinor.Type.RENDER, 128 + index);
        this.objectNameLock = kernel.profile().nameLock() == Profile.NameLock.SPINLOCK
                ? new SpinLock(kernel, "dev->object_name_lock")
                : new Mutex(kernel, "dev->object_name_lock");
        this.masterMutex = new Mutex(kernel, "dev->master_mutex");
    }

    public Kernel kernel() {
        return kernel;
    }

    /** dev->unique: the bus id, the platform device's name ("vgem"). */
    public String unique() {
        return driver().name();
    }

    public int index() {
        return index;
    }

    public DrmDriver driver() {
        return driver;
    }

    /** drm_core_check_feature. */
    public boolean hasFeature(int feature) {
        return (driver.features() & feature) != 0;
    }

    public DrmMinor primary() {
        return primary;
    }

    public DrmMinor render() {
        return render;
    }

    /**
     * dev->object_name_lock: serializes names, handle counts and the dma-buf
     * link (a spinlock guarding only names before the 2013 series).
     */
    public Lock objectNameLock() {
        return objectNameLock;
    }

    /** dev->object_name_idr: flink name to object. */
    public Idr<GemObject> objectNameIdr() {
        return objectNameIdr;
    }

    public Mutex masterMutex() {
        return masterMutex;
    }

    /** dev->master: the current master, or null. */
    public DrmMaster master() {
        return master;
    }

    void setMaster(DrmMaster master) {
        this.master = master;
    }

    public VmaOffsetManager vmaOffsetManager() {
        return vmaOffsetManager;
    }

    /** dev->filelist: the open drm files, oldest first (read-only). */
    public SequencedSet<DrmFile> files() {
        return Collections.unmodifiableSequencedSet(files);
    }

    /** list_add_tail(&file->lhead, &dev->filelist): an opened file joins the list. */
    public void filelistAdd(DrmFile file) {
        files.add(file);
    }

    /** list_del(&file->lhead): a closed file leaves the list. */
    public void filelistDel(DrmFile file) {
        files.remove(file);
    }

    /** The device's live GEM objects. */
    public LiveObjects liveObjects() {
        return liveObjects;
    }

    @Override
    public String toString() {
        return "card" + index;
    }

    /** Bytes of object memory that exist on this device (pages written at least once). */
    public long residentBytes() {
        return residentBytes;
    }

    /**
     * The most object memory the device may hold, pages and their indexes
     * together (a write that needs more fails with ENOMEM).
     */
    public void setMemoryLimit(long bytes) {
        this.memoryLimitBytes = bytes;
    }

    public long memoryLimit() {
        return memoryLimitBytes;
    }

    /** Bytes the indexes of the objects' pages take (counted against the memory limit with the pages). */
    public long pageIndexBytes() {
        return pageIndexBytes;
    }

    /** Takes {@code bytes} of new object memory and {@code indexBytes} to index it, if the limit allows. */
    public boolean chargeResident(long bytes, long indexBytes) {
        if (bytes + indexBytes > memoryLimitBytes - residentBytes - pageIndexBytes) {
            return false;
        }
        residentBytes += bytes;
        pageIndexBytes += indexBytes;
        return true;
    }

    /** Gives back object memory and its index (an object's pages were freed). */
    public void releaseResident(long bytes, long indexBytes) {
        residentBytes -= bytes;
        pageIndexBytes -= indexBytes;
        if (residentBytes < 0 || pageIndexBytes < 0) {
            throw new IllegalStateException("device memory accounting went below zero");
        }
    }

    /** Where the objects' shmem files are made; null: on the heap. */
    public ShmemMount shmemMount() {
        return shmemMount;
    }

    /** Puts the objects made from now on in files of {@code mount} (a server whose programs map them). */
    public void setShmemMount(ShmemMount mount) {
        this.shmemMount = mount;
    }

    /** The most GEM objects the device may hold at once (creating more fails with ENOMEM). */
    public void setObjectLimit(int objects) {
        this.objectLimit = objects;
    }

    public int objectLimit() {
        return objectLimit;
    }

    /** The most handles one file may hold (more: ENOSPC, as when the kernel's idr runs out). */
    public void setHandleLimit(int handles) {
        this.handleLimit = handles;
    }

    public int handleLimit() {
        return handleLimit;
    }

    /**
     * The fence slots one object's reservation may hold by default. The real
     * kernel has no such cap (its fence list grows until kmalloc fails); this
     * one stands for that memory running out and is far beyond what a
     * program uses.
     */
    public static final int DEFAULT_FENCE_SLOTS = 1 << 16;

    /**
     * The most fence slots one object's reservation may hold: an attach that
     * needs another slot past it fails with ENOMEM, as dma_resv_reserve_fences
     * does when its list cannot grow. Slots of signalled fences are reused.
     */
    public void setFenceSlotLimit(int slots) {
        this.fenceSlotLimit = slots;
    }

    public int fenceSlotLimit() {
        return fenceSlotLimit;
    }

    /**
     * The most fence ids a drm file may hand out in its life (vgem never
     * reuses them): more fail with ENOSPC, as when its idr's range runs out.
     * Applies to files opened after it is set.
     */
    public void setFenceIdLimit(int ids) {
        this.fenceIdLimit = ids;
    }

    public int fenceIdLimit() {
        return fenceIdLimit;
    }
}
