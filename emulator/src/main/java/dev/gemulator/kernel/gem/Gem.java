package dev.gemulator.kernel.gem;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Idr;
import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.drm.DrmDriver;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.prime.Prime;
import dev.gemulator.kernel.uapi.Uapi;
import dev.gemulator.kernel.proc.Vma;

/**
 * drm_gem.c (Linux 6.x): handles, flink names and the lifetime of GEM objects.
 *
 * <p>Locks, in the order they nest: dev->object_name_lock (names, handle
 * counts, the dma-buf link), then file->table_lock (the handle table, a
 * spinlock never held across a sleep). GEM_CLOSE never holds two at once.
 *
 * <p>A handle is created in two stages: its id is reserved (mapped to
 * nothing) while the name lock is held, then published once the object may be
 * mapped through the file. It is deleted in two stages too: the entry is
 * emptied, everything the handle held is released, and only then is the id
 * freed for reuse.
 */
public final class Gem {
    private Gem() {
    }

    // --- objects ---

    /**
     * drm_gem_object_init + drm_gem_create_mmap_offset for a shmem object of
     * {@code sizeBytes} (already page aligned). The caller owns the only
     * reference. Errors: ENOSPC when no fake offset range fits (a 0-page
     * object never fits).
     */
    public static KResult<GemObject> objectCreate(DrmDevice dev, long sizeBytes) {
        Kernel k = dev.kernel();
        k.point("drm_gem_object_init", StepKind.WRITE, null);
        GemObject obj = new GemObject(dev, sizeBytes);
        dev.liveObjects().link(obj);
        k.observer().created(obj);
        if (!dev.vmaOffsetManager().add(obj, sizeBytes >>> 12)) {
            objectPut(obj, "drm_gem_create_mmap_offset");
            return KResult.err(Errno.ENOSPC, "no fake mmap offset range for an object of " + sizeBytes + " bytes");
        }
        return KResult.ok(obj);
    }

    /**
     * drm_gem_shmem_prime_import_sg_table: an object wrapping a foreign
     * dma-buf; it shares the dma-buf's reservation object and owns the
     * attachment's dma-buf reference, which the caller has taken.
     */
    public static KResult<GemObject> objectCreateImported(DrmDevice dev, DmaBuf buf) {
        KResult<GemObject> created = objectCreate(dev, Uapi.pageAlign(buf.size()));
        if (!created.isErr()) {
            created.value().setImportBuf(buf);
            created.value().setResv(buf.resv());
        }
        return created;
    }

    /** drm_gem_object_put: the last reference frees the object. */
    public static void objectPut(GemObject obj, String function) {
        if (obj.put(function)) {
            objectFree(obj, function);
        }
    }

    /**
     * drm_gem_object_free / drm_gem_object_release: drops the backing pages,
     * the reservation object's fences and the fake offset. WARNs when the
     * dma-buf link is still set (its reference is then leaked).
     */
    private static void objectFree(GemObject obj, String function) {
        Kernel k = obj.dev().kernel();
        if (k.profile().linkKind() == Profile.LinkKind.STRONG) {
            k.warnOn(obj.dmaBuf() != null, "drm_gem_object_release", "obj->dma_buf still set", obj, obj.dmaBuf());
        }
        obj.dropPages();
        if (obj.importBuf() != null) {
            obj.importBuf().put("drm_prime_gem_destroy");
        } else {
            obj.finiResv("drm_gem_object_release");
        }
        obj.dev().vmaOffsetManager().remove(obj);
        obj.dev().liveObjects().unlink(obj);
        obj.markFreedBy(function);
    }

    /**
     * drm_gem_object_lookup: the object behind {@code handle} in {@code file}
     * with a new reference, or null. A reserved (unpublished) handle finds nothing.
     */
    public static GemObject objectLookup(DrmFile file, int handle) {
        String fn = "drm_gem_object_lookup";
        file.tableLock().lock(fn);
        GemObject obj = file.objectIdr().find(Integer.toUnsignedLong(handle));
        if (obj != null) {
            obj.get(fn);
        }
        file.tableLock().unlock(fn);
        return obj;
    }

    // --- handles ---

    /**
     * drm_gem_handle_create_tail: called with object_name_lock held, which it
     * drops. The first handle of an object takes the handles' object
     * reference. Returns the new handle. Errors: the allocation's ENOMEM, ENOSPC.
     */
    public static KResult<Integer> handleCreateTail(DrmFile file, GemObject obj) {
        if (file.dev().kernel().profile().handlePublication() == Profile.HandlePublication.WITH_COUNT) {
            return handleCreateTailSeed(file, obj);
        }
        String fn = "drm_gem_handle_create_tail";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        Lock nameLock = dev.objectNameLock();
        k.warnOn(!nameLock.heldByCurrent(), fn, "object_name_lock not held");
        k.point(fn, StepKind.WRITE, obj);
        obj.use(fn, "handle_count++");
        if (obj.handleCount() == 0) {
            obj.get(fn);
        }
        obj.setHandleCount(obj.handleCount() + 1);
        file.tableLock().lock(fn);
        KResult<Integer> allocated = allocHandle(file, null);
        file.tableLock().unlock(fn);
        nameLock.unlock(fn);
        if (allocated.isErr()) {
            handlePutUnlocked(obj);
            return allocated;
        }
        int handle = allocated.value();
        obj.vmaAllow(file);
        file.tableLock().lock(fn);
        file.objectIdr().replace(handle, obj);
        file.tableLock().unlock(fn);
        return KResult.ok(handle);
    }

    /**
     * drm_gem_handle_create_tail as of the 2013 series: the id, the object
     * reference and the handle count are taken together under the table lock
     * while object_name_lock is held; then object_name_lock is dropped
     * (PP-H: the handle is visible from here on).
     */
    private static KResult<Integer> handleCreateTailSeed(DrmFile file, GemObject obj) {
        String fn = "drm_gem_handle_create_tail";
        Kernel k = file.dev().kernel();
        Lock nameLock = file.dev().objectNameLock();
        k.warnOn(!nameLock.heldByCurrent(), fn, "object_name_lock not held");
        file.tableLock().lock(fn);
        KResult<Integer> allocated = allocHandle(file, obj);
        obj.get(fn);
        k.point(fn, StepKind.WRITE, obj);
        obj.use(fn, "handle_count++");
        obj.setHandleCount(obj.handleCount() + 1);
        file.tableLock().unlock(fn);
        nameLock.unlock(fn);
        if (allocated.isErr()) {
            handlePutUnlocked(obj);
            return allocated;
        }
        int handle = allocated.value();
        obj.vmaAllow(file);
        return KResult.ok(handle);
    }

    /**
     * idr_alloc into the file's handle table (the table lock is held): the
     * lowest free handle, or a negative errno after failing the call: ENOMEM
     * (by fault injection at drm_gem_handle_create), ENOSPC when the table
     * is full.
     */
    private static KResult<Integer> allocHandle(DrmFile file, GemObject obj) {
        Kernel k = file.dev().kernel();
        if (k.shouldFail("drm_gem_handle_create")) {
            return KResult.err(Errno.ENOMEM, "allocating a handle failed (injected)");
        }
        int handle = file.objectIdr().alloc(obj);
        if (handle < 0) {
            return KResult.err(Errno.ENOSPC, "the file's handle table is full");
        }
        return KResult.ok(handle);
    }

    /** drm_gem_handle_create: takes object_name_lock and creates a handle. */
    public static KResult<Integer> handleCreate(DrmFile file, GemObject obj) {
        if (file.dev().kernel().profile().handlePublication() == Profile.HandlePublication.BEFORE_COUNT) {
            return handleCreateV311(file, obj);
        }
        file.dev().objectNameLock().lock("drm_gem_handle_create");
        return handleCreateTail(file, obj);
    }

    /**
     * drm_gem_handle_create as of 3.10/3.11: the handle is in the table
     * before the object is counted, and every handle owns its own object
     * reference. A GEM_CLOSE of the new id between the two finds a handle
     * count of 0 and drops nothing (L-create-window).
     */
    private static KResult<Integer> handleCreateV311(DrmFile file, GemObject obj) {
        String fn = "drm_gem_handle_create";
        Kernel k = file.dev().kernel();
        file.tableLock().lock(fn);
        KResult<Integer> allocated = allocHandle(file, obj);
        file.tableLock().unlock(fn);
        if (allocated.isErr()) {
            return allocated;
        }
        int handle = allocated.value();
        obj.get(fn);
        k.point(fn, StepKind.WRITE, obj);
        obj.use(fn, "atomic_inc(handle_count)");
        obj.setHandleCount(obj.handleCount() + 1);
        obj.vmaAllow(file);
        return KResult.ok(handle);
    }

    /**
     * drm_gem_handle_delete: empties the handle's entry, releases what the
     * handle held, then frees the id. EINVAL for a handle that is not
     * (or not yet) in the table.
     */
    public static KResult<Void> handleDelete(DrmFile file, int handle) {
        String fn = "drm_gem_handle_delete";
        Kernel k = file.dev().kernel();
        long id = Integer.toUnsignedLong(handle);
        if (k.profile().handleDelete() == Profile.HandleDelete.UNPUBLISH_FIRST) {
            file.tableLock().lock(fn);
            GemObject obj = file.objectIdr().find(id);
            if (obj == null) {
                file.tableLock().unlock(fn);
                return KResult.err(Errno.EINVAL, "handle " + id + " does not exist in this file");
            }
            file.objectIdr().remove(id);
            file.tableLock().unlock(fn);
            objectReleaseHandle((int) id, obj, file);
            return KResult.ok(null);
        }
        file.tableLock().lock(fn);
        Object old = file.objectIdr().replace(id, null);
        file.tableLock().unlock(fn);
        if (old == Idr.NOT_ALLOCATED || old == null) {
            return KResult.err(Errno.EINVAL, "handle " + id + " does not exist in this file");
        }
        objectReleaseHandle((int) id, (GemObject) old, file);
        file.tableLock().lock(fn);
        file.objectIdr().remove(id);
        file.tableLock().unlock(fn);
        return KResult.ok(null);
    }

    /**
     * drm_gem_object_release_handle: removes the handle's PRIME cache member,
     * revokes the file's mmap permission and drops the handle count.
     */
    static void objectReleaseHandle(int handle, GemObject obj, DrmFile file) {
        switch (file.dev().kernel().profile().cacheRemoval()) {
            case BY_HANDLE -> Prime.removeBufHandle(file, handle);
            case BY_BUF -> Prime.removePrimeHandles(file, obj);
            case BY_LINK -> Prime.removeLinkHandles(file, obj);
        }
        obj.vmaRevoke(file);
        if (file.dev().kernel().profile().handleCount() == Profile.HandleCount.ATOMIC_UNLOCKED) {
            handleUnreferenceV311(obj);
        } else {
            handlePutUnlocked(obj);
        }
    }

    /**
     * drm_gem_object_handle_unreference_unlocked as of 3.10/3.11: the handle
     * count is an atomic outside any lock. A count already at 0 returns
     * without dropping the handle's object reference; the last handle frees
     * the name, whose reference goes too.
     */
    public static void handleUnreferenceV311(GemObject obj) {
        String fn = "drm_gem_object_handle_unreference_unlocked";
        Kernel k = obj.dev().kernel();
        k.point(fn, StepKind.READ, obj);
        obj.use(fn, "atomic_read(handle_count)");
        if (obj.handleCount() == 0) {
            return;
        }
        k.point(fn, StepKind.WRITE, obj);
        obj.setHandleCount(obj.handleCount() - 1);
        if (obj.handleCount() == 0) {
            handleFreeV311(obj);
        }
        objectPut(obj, fn);
    }

    /** drm_gem_object_handle_free as of 3.10/3.11: the name's reference must not be the last (BUG). */
    private static void handleFreeV311(GemObject obj) {
        String fn = "drm_gem_object_handle_free";
        DrmDevice dev = obj.dev();
        dev.objectNameLock().lock(fn);
        if (obj.name() != 0) {
            dev.objectNameIdr().remove(obj.name());
            obj.setName(0);
            dev.objectNameLock().unlock(fn);
            if (obj.put(fn)) {
                dev.kernel().observer().warn("drm_gem_object_ref_bug", "BUG: the flink name held the last reference", obj);
                objectFree(obj, fn);
            }
        } else {
            dev.objectNameLock().unlock(fn);
        }
    }

    /**
     * drm_gem_object_handle_put_unlocked (drm_gem_object_handle_unreference_unlocked
     * in the 2013 series): the last handle frees the flink name and drops the
     * dma-buf link, all under object_name_lock, then the object reference the
     * handles held (every handle its own in the 2013 series, one for all of
     * them since).
     */
    public static void handlePutUnlocked(GemObject obj) {
        String fn = "drm_gem_object_handle_put_unlocked";
        DrmDevice dev = obj.dev();
        Kernel k = dev.kernel();
        k.point(fn, StepKind.READ, obj);
        if (k.warnOn(obj.handleCount() == 0, fn, "handle_count == 0", obj)) {
            return;
        }
        boolean last = false;
        dev.objectNameLock().lock(fn);
        obj.use(fn, "handle_count--");
        obj.setHandleCount(obj.handleCount() - 1);
        if (obj.handleCount() == 0) {
            handleFree(obj);
            exportedDmaBufFree(obj);
            last = true;
        }
        dev.objectNameLock().unlock(fn);
        if (last || k.profile().handleRefs() != Profile.HandleRefs.ONE_FOR_ALL) {
            objectPut(obj, fn);
        }
    }

    /**
     * drm_gem_object_handle_free: removes the flink name. Where names own an
     * object reference (up to the 2013 series) it goes too, and must not be
     * the last one (BUG).
     */
    private static void handleFree(GemObject obj) {
        String fn = "drm_gem_object_handle_free";
        if (obj.name() != 0) {
            obj.dev().kernel().point(fn, StepKind.WRITE, obj);
            obj.dev().objectNameIdr().remove(obj.name());
            obj.setName(0);
            if (obj.dev().kernel().profile().nameRef() == Profile.NameRef.OWNS_OBJECT_REF && obj.put(fn)) {
                obj.dev().kernel().observer().warn("drm_gem_object_ref_bug", "BUG: the flink name held the last reference", obj);
                objectFree(obj, fn);
            }
        }
    }

    /** drm_gem_object_exported_dma_buf_free: drops the link and its dma-buf reference. */
    private static void exportedDmaBufFree(GemObject obj) {
        DmaBuf buf = obj.dmaBuf();
        if (buf != null) {
            obj.setDmaBuf(null);
            buf.put("drm_gem_object_exported_dma_buf_free");
        }
    }

    /** drm_gem_release: drops every handle of a closing file, in id order. */
    public static void gemRelease(DrmFile file) {
        Idr<GemObject> idr = file.objectIdr();
        idr.forEachId(id -> {
            GemObject obj = idr.find(id);
            if (obj != null) {
                objectReleaseHandle(id, obj, file);
            }
        });
        idr.clear();
    }

    // --- ioctls ---

    /** drm_gem_close_ioctl. Errors: EINVAL for a handle not in the file. */
    public static SysResult gemCloseIoctl(DrmFile file, int handle) {
        if (!file.dev().hasFeature(DrmDriver.DRIVER_GEM)) {
            return SysResult.err(Errno.EOPNOTSUPP, "the driver has no GEM");
        }
        KResult<Void> deleted = handleDelete(file, handle);
        return deleted.isErr() ? deleted.sysErr() : SysResult.ok();
    }

    /**
     * drm_gem_flink_ioctl: the object's global name, created on first use
     * (lowest free from 1). Errors: ENOENT for a bad handle or an object whose
     * last handle is being closed; ENOMEM when the name cannot be allocated.
     */
    public static SysResult gemFlinkIoctl(DrmFile file, int handle) {
        String fn = "drm_gem_flink_ioctl";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        if (!dev.hasFeature(DrmDriver.DRIVER_GEM)) {
            return SysResult.err(Errno.EOPNOTSUPP, "the driver has no GEM");
        }
        GemObject obj = objectLookup(file, handle);
        if (obj == null) {
            return SysResult.err(Errno.ENOENT, "handle " + Integer.toUnsignedString(handle) + " does not exist in this file");
        }
        if (k.profile().flink() == Profile.Flink.V3_11) {
            return gemFlinkIoctlV311(dev, obj);
        }
        dev.objectNameLock().lock(fn);
        SysResult result;
        if (obj.handleCount() == 0) {
            result = SysResult.err(Errno.ENOENT, "the object's last handle is being closed");
        } else {
            KResult<Integer> allocated = null;
            if (obj.name() == 0) {
                k.point(fn, StepKind.WRITE, obj);
                allocated = allocName(dev, obj);
                if (!allocated.isErr()) {
                    obj.setName(allocated.value());
                    if (k.profile().nameRef() == Profile.NameRef.OWNS_OBJECT_REF) {
                        obj.get(fn);
                    }
                }
            }
            // a name of 0 here means this call's allocation failed
            result = obj.name() == 0 ? allocated.sysErr() : SysResult.ok(obj.name());
        }
        dev.objectNameLock().unlock(fn);
        objectPut(obj, fn);
        return result;
    }

    /**
     * drm_gem_flink_ioctl as of 3.9 to 3.11: no look at the handle count, the
     * result of the name allocation is stored as the name even when it is an
     * error code, and the name's object reference is taken after the name
     * lock is dropped, when a racing GEM_CLOSE of the last handle may have
     * removed the name (and dropped the reference not yet taken) already.
     */
    private static SysResult gemFlinkIoctlV311(DrmDevice dev, GemObject obj) {
        String fn = "drm_gem_flink_ioctl";
        Kernel k = dev.kernel();
        dev.objectNameLock().lock(fn);
        SysResult result;
        if (obj.name() == 0) {
            k.point(fn, StepKind.WRITE, obj);
            obj.use(fn, "obj->name = idr_alloc()");
            KResult<Integer> allocated = allocName(dev, obj);
            // the bug: idr_alloc's negative errno is stored as the name
            int ret = allocated.isErr() ? -allocated.errno().number() : allocated.value();
            obj.setName(ret);
            dev.objectNameLock().unlock(fn);
            if (allocated.isErr()) {
                result = allocated.sysErr();
            } else {
                obj.get(fn);
                result = SysResult.ok(Integer.toUnsignedLong(ret));
            }
        } else {
            k.point(fn, StepKind.READ, obj);
            obj.use(fn, "read obj->name");
            result = SysResult.ok(Integer.toUnsignedLong(obj.name()));
            dev.objectNameLock().unlock(fn);
        }
        objectPut(obj, fn);
        return result;
    }

    /**
     * idr_alloc into the device's name table (object_name_lock is held): the
     * lowest free name. Errors: ENOMEM by fault injection at
     * drm_gem_flink_ioctl, ENOSPC when the table is full.
     */
    private static KResult<Integer> allocName(DrmDevice dev, GemObject obj) {
        Kernel k = dev.kernel();
        if (k.shouldFail("drm_gem_flink_ioctl")) {
            return KResult.err(Errno.ENOMEM, "allocating a flink name failed (injected)");
        }
        int name = dev.objectNameIdr().alloc(obj);
        if (name < 0) {
            return KResult.err(Errno.ENOSPC, "the device's name table is full");
        }
        return KResult.ok(name);
    }

    /**
     * drm_gem_open_ioctl: a new handle in this file for the object with this
     * flink name, and its size. The name lookup and the handle count increment
     * are one critical section. Errors: ENOENT for 0 or an unknown name.
     */
    public static SysResult gemOpenIoctl(DrmFile file, int name) {
        String fn = "drm_gem_open_ioctl";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        if (!dev.hasFeature(DrmDriver.DRIVER_GEM)) {
            return SysResult.err(Errno.EOPNOTSUPP, "the driver has no GEM");
        }
        dev.objectNameLock().lock(fn);
        GemObject obj = name <= 0 ? null : dev.objectNameIdr().find(name);
        if (obj == null) {
            dev.objectNameLock().unlock(fn);
            return SysResult.err(Errno.ENOENT, "no object has flink name " + Integer.toUnsignedString(name));
        }
        obj.get(fn);
        KResult<Integer> created;
        if (k.profile().gemOpen() == Profile.GemOpen.ATOMIC) {
            created = handleCreateTail(file, obj);
        } else {
            dev.objectNameLock().unlock(fn);
            created = handleCreate(file, obj);
        }
        SysResult result;
        if (created.isErr()) {
            objectPut(obj, fn);
            return created.sysErr();
        }
        int handle = created.value();
        if (k.profile().gemOpenSize() != Profile.GemOpenSize.UNDER_REF) {
            objectPut(obj, fn);
        }
        k.point(fn, StepKind.READ, obj);
        obj.use(fn, "read size");
        result = SysResult.ok(handle, obj.size());
        if (k.profile().gemOpenSize() == Profile.GemOpenSize.UNDER_REF) {
            objectPut(obj, fn);
        }
        return result;
    }

    /**
     * drm_gem_dumb_map_offset: the fake offset to mmap the object at.
     * Errors: ENOENT for a bad handle, EINVAL for an imported object.
     */
    public static SysResult dumbMapOffset(DrmFile file, int handle) {
        String fn = "drm_gem_dumb_map_offset";
        GemObject obj = objectLookup(file, handle);
        if (obj == null) {
            return SysResult.err(Errno.ENOENT, "handle " + Integer.toUnsignedString(handle) + " does not exist in this file");
        }
        SysResult result;
        if (obj.importBuf() != null) {
            result = SysResult.err(Errno.EINVAL, "an imported object cannot be mapped through the DRM file");
        } else {
            k(obj).point(fn, StepKind.READ, obj);
            result = SysResult.ok(obj.mmapOffset());
        }
        objectPut(obj, fn);
        return result;
    }

    /**
     * drm_gem_mmap: maps the object whose fake offset range starts at the
     * mapping's offset and holds it. Errors: EINVAL when no object starts
     * there or the mapping is longer than it; EACCES when this file holds no
     * handle to it.
     */
    public static KResult<Void> gemMmap(DrmFile file, Vma vma) {
        String fn = "drm_gem_mmap";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        k.point(fn, StepKind.READ, null);
        GemObject obj = dev.vmaOffsetManager().exactLookup(vma.pageOffset(), vma.pages());
        if (obj != null && !obj.getUnlessZero(fn)) {
            obj = null;
        }
        if (obj == null) {
            return KResult.err(Errno.EINVAL, "no object's fake offset range starts at page 0x"
                    + Long.toHexString(vma.pageOffset()) + " with " + vma.pages() + " pages");
        }
        if (!obj.vmaIsAllowed(file)) {
            objectPut(obj, fn);
            return KResult.err(Errno.EACCES, "this DRM file holds no handle to " + obj);
        }
        obj.get("drm_gem_mmap_obj");
        vma.setObject(obj);
        objectPut(obj, fn);
        return KResult.ok(null);
    }

    /** drm_gem_vm_open: a copy of a mapping (fork's dup_mmap) takes its own object reference. */
    public static void vmOpen(Vma vma) {
        GemObject obj = vma.object();
        if (obj != null) {
            obj.get("drm_gem_vm_open");
        }
    }

    /** drm_gem_vm_close: a mapping goes, with its object reference. */
    public static void vmClose(Vma vma) {
        GemObject obj = vma.object();
        if (obj != null) {
            objectPut(obj, "drm_gem_vm_close");
        }
    }

    private static Kernel k(GemObject obj) {
        return obj.dev().kernel();
    }
}
