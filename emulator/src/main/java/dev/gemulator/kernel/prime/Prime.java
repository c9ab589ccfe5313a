package dev.gemulator.kernel.prime;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Mutex;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.dmabuf.DmaBufOps;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.gem.Gem;
import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.proc.Vma;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.Uapi;

/**
 * drm_prime.c (Linux 6.x): sharing GEM objects as dma-bufs.
 *
 * <p>Lifetime rules: an object has at most one dma-buf (the link,
 * obj->dma_buf), set under dev->object_name_lock by the first export or
 * import and owning a reference on the dma-buf; it is dropped with the
 * object's last handle. A GEM dma-buf owns a reference on its object, given
 * back when the dma-buf is released. Each file caches (dma-buf, handle)
 * members so that exporting a handle again, or importing a dma-buf this file
 * already knows, returns the same dma-buf or handle.
 *
 * <p>Locks: file->prime.lock is taken first and held across the whole of
 * HANDLE_TO_FD; dev->object_name_lock nests inside it.
 */
public final class Prime {
    private Prime() {
    }

    // --- the exporter side: drm_gem_prime_dmabuf_ops ---

    /** The dma-buf ops of GEM exports. */
    public static final DmaBufOps GEM_PRIME_OPS = new DmaBufOps() {
        @Override
        public String exporter(DmaBuf buf) {
            return ((GemObject) buf.priv()).dev().driver().name();
        }

        /**
         * drm_gem_dmabuf_release: gives back the object reference the
         * dma-buf owned. With the weak link of 3.11 it clears the link and
         * gives the reference back only if the link still points at this
         * dma-buf; a dma-buf that lost the link keeps its reference for ever.
         */
        @Override
        public void release(DmaBuf buf) {
            String fn = "drm_gem_dmabuf_release";
            GemObject obj = (GemObject) buf.priv();
            Kernel k = obj.dev().kernel();
            if (k.profile().linkKind() == Profile.LinkKind.WEAK) {
                k.point(fn, StepKind.READ, obj);
                obj.use(fn, "read export_dma_buf");
                if (obj.dmaBuf() != buf) {
                    return;
                }
                obj.setDmaBuf(null);
            }
            Gem.objectPut(obj, fn);
        }

        /**
         * drm_gem_dmabuf_mmap / drm_gem_prime_mmap: the object has its own
         * mmap (drm_gem_shmem_object_mmap), so the mapping takes a reference
         * on the object and keeps the one mmap_region took on the dma-buf's
         * file as its vm_file (nothing calls vma_set_file on this path). A
         * mapping so keeps the dma-buf alive after its last fd is closed (and
         * with it vgem's module, as IGT's vgem_basic unload sees), and
         * the dma-buf's release, with the object reference it owns, comes
         * from the mapping's fput: at an exit, through the task work after
         * every fd's (conformance/x_dmabuf_mmap_file).
         */
        @Override
        public KResult<Void> mmap(DmaBuf buf, Vma vma) {
            GemObject obj = (GemObject) buf.priv();
            obj.get("drm_gem_prime_mmap");
            vma.setObject(obj);
            return KResult.ok(null);
        }
    };

    // --- the cache ---

    /**
     * drm_prime_add_buf_handle: a new member owning a dma-buf reference.
     * Errors: ENOMEM when the member's allocation fails (by fault injection
     * at this function).
     */
    static KResult<Void> addBufHandle(DrmFile file, DmaBuf buf, int handle) {
        String fn = "drm_prime_add_buf_handle";
        Kernel k = file.dev().kernel();
        k.point(fn, StepKind.WRITE, buf);
        if (k.shouldFail(fn)) {
            return KResult.err(Errno.ENOMEM, "allocating a PRIME cache member failed (injected)");
        }
        buf.get(fn);
        file.prime().add(buf, handle);
        return KResult.ok(null);
    }

    /** drm_prime_lookup_buf_by_handle: the dma-buf cached for a handle, or null. */
    static DmaBuf lookupBufByHandle(DrmFile file, int handle) {
        file.dev().kernel().point("drm_prime_lookup_buf_by_handle", StepKind.READ, null);
        PrimeFile.Member m = file.prime().byHandle(handle);
        return m == null ? null : m.buf();
    }

    /** drm_prime_lookup_buf_handle: the handle cached for a dma-buf, or -1. */
    static long lookupBufHandle(DrmFile file, DmaBuf buf) {
        file.dev().kernel().point("drm_prime_lookup_buf_handle", StepKind.READ, buf);
        PrimeFile.Member m = file.prime().lookupByBuf(buf);
        return m == null ? -1 : Integer.toUnsignedLong(m.handle());
    }

    /** drm_prime_remove_buf_handle: drops the member of a handle being closed, if any. */
    public static void removeBufHandle(DrmFile file, int handle) {
        String fn = "drm_prime_remove_buf_handle";
        Mutex lock = file.prime().lock();
        lock.lock(fn);
        PrimeFile.Member m = file.prime().byHandle(handle);
        if (m != null) {
            file.prime().remove(m);
            m.buf().put(fn);
        }
        lock.unlock(fn);
    }

    /**
     * drm_gem_remove_prime_handles (before 6.0): drops every member of the
     * object's import dma-buf and of its link, each read without a lock.
     */
    public static void removePrimeHandles(DrmFile file, GemObject obj) {
        Kernel k = file.dev().kernel();
        k.point("drm_gem_remove_prime_handles", StepKind.READ, obj);
        obj.use("drm_gem_remove_prime_handles", "read import_attach");
        if (obj.importBuf() != null) {
            removeBufHandleByBuf(file, obj.importBuf());
        }
        k.point("drm_gem_remove_prime_handles", StepKind.READ, obj);
        obj.use("drm_gem_remove_prime_handles", "read export_dma_buf");
        DmaBuf link = obj.dmaBuf();
        if (link != null) {
            removeBufHandleByBuf(file, link);
        }
    }

    /**
     * The cache removal of GEM_CLOSE after the 2013 series (3.12 to 5.x):
     * under the prime lock, every member of the object's link.
     */
    public static void removeLinkHandles(DrmFile file, GemObject obj) {
        String fn = "drm_gem_remove_prime_handles";
        Mutex lock = file.prime().lock();
        lock.lock(fn);
        file.dev().kernel().point(fn, StepKind.READ, obj);
        obj.use(fn, "read dma_buf");
        DmaBuf link = obj.dmaBuf();
        if (link != null) {
            for (PrimeFile.Member m : file.prime().removeAll(link)) {
                m.buf().put("drm_prime_remove_buf_handle_locked");
            }
        }
        lock.unlock(fn);
    }

    /** drm_prime_remove_buf_handle (before 6.0): every member of {@code buf}, each put. */
    private static void removeBufHandleByBuf(DrmFile file, DmaBuf buf) {
        String fn = "drm_prime_remove_buf_handle";
        Mutex lock = file.prime().lock();
        lock.lock(fn);
        for (PrimeFile.Member m : file.prime().removeAll(buf)) {
            m.buf().put(fn);
        }
        lock.unlock(fn);
    }

    /**
     * drm_prime_destroy_file_private: a closing file must have an empty
     * cache. Since the seed commit it only WARNs; before, it freed the
     * members without dropping their dma-buf references (a silent leak).
     */
    public static void destroyFilePrivate(DrmFile file) {
        Kernel k = file.dev().kernel();
        if (k.profile().cacheDestructor() == Profile.CacheDestructor.FREES_WITHOUT_PUTS) {
            file.prime().clearWithoutPuts();
            return;
        }
        k.warnOn(!file.prime().isEmpty(), "drm_prime_destroy_file_private",
                "prime cache not empty at file close", file.prime().members().toArray());
    }

    // --- HANDLE_TO_FD ---

    /**
     * drm_prime_handle_to_fd_ioctl. Errors: EINVAL for flags other than
     * DRM_CLOEXEC|DRM_RDWR; then those of {@link #gemPrimeHandleToFd}.
     */
    public static SysResult primeHandleToFdIoctl(DrmFile file, Ioctl.PrimeHandleToFd args) {
        Profile profile = file.dev().kernel().profile();
        int allowed = profile.exportAllowsRdwr() ? Uapi.DRM_CLOEXEC | Uapi.DRM_RDWR : Uapi.DRM_CLOEXEC;
        if ((args.flags() & ~allowed) != 0) {
            return SysResult.err(Errno.EINVAL, "flags 0x" + Integer.toHexString(args.flags())
                    + " are not a subset of " + (allowed == Uapi.DRM_CLOEXEC ? "DRM_CLOEXEC" : "DRM_CLOEXEC|DRM_RDWR"));
        }
        return switch (profile.handleToFd()) {
            case V3_11 -> gemPrimeHandleToFdV311(file, args.handle(), args.flags());
            case SEED -> gemPrimeHandleToFdSeed(file, args.handle(), args.flags());
            case SERIES -> gemPrimeHandleToFd(file, args.handle(), args.flags());
        };
    }

    /**
     * drm_gem_prime_handle_to_fd as of 3.11. Only the file's prime lock is
     * held, the link holds no dma-buf reference, and the existing dma-buf is
     * read from it before a reference is taken: a release racing between the
     * read and the get hands out a freed dma-buf (the oops of spec §1.4).
     * A fresh export transfers the lookup reference to the dma-buf and
     * caches (dma-buf, handle) even if the handle was closed meanwhile. When
     * caching fails, the out label drops the object reference the new
     * dma-buf owns and returns, leaving the dma-buf (in no fd) and the link
     * in place. The fd installation is not checked: with no free fd the
     * ioctl succeeds with -EMFILE as the fd and the dma-buf reference leaks.
     */
    private static SysResult gemPrimeHandleToFdV311(DrmFile file, int handle, int flags) {
        String fn = "drm_gem_prime_handle_to_fd";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        GemObject obj = Gem.objectLookup(file, handle);
        if (obj == null) {
            return SysResult.err(Errno.ENOENT, "handle " + Integer.toUnsignedString(handle) + " does not exist in this file");
        }
        Mutex primeLock = file.prime().lock();
        primeLock.lock(fn);
        k.point(fn, StepKind.READ, obj);
        obj.use(fn, "read import_attach/export_dma_buf");
        DmaBuf buf = obj.importBuf() != null ? obj.importBuf() : obj.dmaBuf();
        if (buf != null) {
            // out_have_obj
            buf.get(fn);
            KResult<Integer> fd = DmaBuf.fd(k, buf, fn);
            Gem.objectPut(obj, fn);
            primeLock.unlock(fn);
            return uncheckedFd(fd);
        }
        KResult<DmaBuf> exported = DmaBuf.export(k, GEM_PRIME_OPS, obj, obj.size(), flags & Uapi.DRM_CLOEXEC, obj.resv(),
                "drm_gem_prime_export");
        if (exported.isErr()) {
            // out
            Gem.objectPut(obj, fn);
            primeLock.unlock(fn);
            return exported.sysErr();
        }
        buf = exported.value();
        k.point(fn, StepKind.WRITE, obj);
        obj.setDmaBuf(buf);
        KResult<Void> added = addBufHandle(file, buf, handle);
        if (added.isErr()) {
            // out: drops the reference that now belongs to the dma-buf
            Gem.objectPut(obj, fn);
            primeLock.unlock(fn);
            return added.sysErr();
        }
        KResult<Integer> fd = DmaBuf.fd(k, buf, fn);
        primeLock.unlock(fn);
        return uncheckedFd(fd);
    }

    /** 3.11 hands dma_buf_fd's return to user space unchecked: the fd, or -EMFILE as if it were one. */
    private static SysResult uncheckedFd(KResult<Integer> fd) {
        return SysResult.ok(fd.isErr() ? -fd.errno().number() : fd.value());
    }

    /**
     * drm_gem_prime_handle_to_fd as merged in the seed commit (spec §2.5).
     * The link is read and set under object_name_lock, but the cache member
     * is added after that lock is dropped and before the prime lock is taken
     * (PP-E1: a GEM_CLOSE that runs in between leaves a stale member, S-L1),
     * only on a fresh export (S-dup), and both error paths after the export
     * drop an object reference that the new dma-buf owns (refcount
     * underflow); the failed insertion also returns with the prime lock held.
     */
    private static SysResult gemPrimeHandleToFdSeed(DrmFile file, int handle, int flags) {
        String fn = "drm_gem_prime_handle_to_fd";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        GemObject obj = Gem.objectLookup(file, handle);
        if (obj == null) {
            return SysResult.err(Errno.ENOENT, "handle " + Integer.toUnsignedString(handle) + " does not exist in this file");
        }
        DmaBuf buf;
        k.point(fn, StepKind.READ, obj);
        if (obj.importBuf() != null) {
            buf = obj.importBuf();
            buf.get(fn);
            return haveObj(k, obj, buf, fn);
        }
        dev.objectNameLock().lock(fn);
        k.point(fn, StepKind.READ, obj);
        if (obj.dmaBuf() != null) {
            buf = obj.dmaBuf();
            buf.get(fn);
            dev.objectNameLock().unlock(fn);
            return haveObj(k, obj, buf, fn);
        }
        KResult<DmaBuf> registered = exportAndRegisterObjectSeed(dev, obj, flags);
        dev.objectNameLock().unlock(fn);
        if (registered.isErr()) {
            // out
            Gem.objectPut(obj, fn);
            return registered.sysErr();
        }
        buf = registered.value();
        Mutex primeLock = file.prime().lock();
        primeLock.lock(fn);
        KResult<Void> added = addBufHandle(file, buf, handle);
        if (added.isErr()) {
            // the merged code returns here with the prime lock still held
            buf.put(fn);
            Gem.objectPut(obj, fn);
            return added.sysErr();
        }
        KResult<Integer> fd = DmaBuf.fd(k, buf, fn);
        if (fd.isErr()) {
            for (PrimeFile.Member m : file.prime().removeAll(buf)) {
                m.buf().put(fn);
            }
            primeLock.unlock(fn);
            buf.put(fn);
            Gem.objectPut(obj, fn);
            return fd.sysErr();
        }
        primeLock.unlock(fn);
        return SysResult.ok(fd.value());
    }

    /** out_have_obj of the seed commit: no cache member on this path. */
    private static SysResult haveObj(Kernel k, GemObject obj, DmaBuf buf, String fn) {
        KResult<Integer> fd = DmaBuf.fd(k, buf, fn);
        if (fd.isErr()) {
            buf.put(fn);
        }
        Gem.objectPut(obj, fn);
        return fd.isErr() ? fd.sysErr() : SysResult.ok(fd.value());
    }

    /**
     * export_and_register_object as merged: the lookup reference becomes the
     * dma-buf's (no reference of its own is taken); the link takes a dma-buf
     * reference.
     */
    private static KResult<DmaBuf> exportAndRegisterObjectSeed(DrmDevice dev, GemObject obj, int flags) {
        String fn = "export_and_register_object";
        Kernel k = dev.kernel();
        if (obj.handleCount() == 0) {
            return KResult.err(Errno.ENOENT, "the object's last handle was closed");
        }
        KResult<DmaBuf> exported = DmaBuf.export(k, GEM_PRIME_OPS, obj, obj.size(), flags & Uapi.DRM_CLOEXEC,
                obj.resv(), "drm_gem_prime_export");
        if (exported.isErr()) {
            return exported;
        }
        DmaBuf buf = exported.value();
        k.point(fn, StepKind.WRITE, obj);
        obj.setDmaBuf(buf);
        buf.get(fn);
        return KResult.ok(buf);
    }

    /**
     * drm_gem_prime_handle_to_fd: a new fd for the object's dma-buf, exporting
     * it on first use. The member for (dma-buf, handle) is added on every path
     * while object_name_lock is held, so a racing GEM_CLOSE cannot miss it.
     * Errors: ENOENT for a bad handle or one whose object lost its last handle;
     * ENOMEM when the export or the member's allocation fails; EMFILE when the
     * process has no free fd (the member stays).
     */
    static SysResult gemPrimeHandleToFd(DrmFile file, int handle, int flags) {
        String fn = "drm_gem_prime_handle_to_fd";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        Mutex primeLock = file.prime().lock();
        primeLock.lock(fn);
        GemObject obj = Gem.objectLookup(file, handle);
        if (obj == null) {
            primeLock.unlock(fn);
            return SysResult.err(Errno.ENOENT, "handle " + Integer.toUnsignedString(handle) + " does not exist in this file");
        }
        SysResult result;
        KResult<DmaBuf> registered = null;
        DmaBuf buf = lookupBufByHandle(file, handle);
        if (buf != null) {
            buf.get(fn);
            result = installFd(k, buf, fn);
        } else {
            dev.objectNameLock().lock(fn);
            k.point(fn, StepKind.READ, obj);
            if (obj.importBuf() != null) {
                buf = obj.importBuf();
                buf.get(fn);
            } else if (obj.dmaBuf() != null) {
                buf = obj.dmaBuf();
                buf.get(fn);
            } else {
                registered = exportAndRegisterObject(dev, obj, flags);
                buf = registered.isErr() ? null : registered.value();
            }
            KResult<Void> added = buf == null ? null : addBufHandle(file, buf, handle);
            if (buf == null) {
                dev.objectNameLock().unlock(fn);
                result = registered.sysErr();
            } else if (added.isErr()) {
                dev.objectNameLock().unlock(fn);
                buf.put(fn);
                result = added.sysErr();
            } else {
                dev.objectNameLock().unlock(fn);
                result = installFd(k, buf, fn);
            }
        }
        Gem.objectPut(obj, fn);
        primeLock.unlock(fn);
        return result;
    }

    /** dma_buf_fd for HANDLE_TO_FD: on failure the caller's dma-buf reference is dropped. */
    private static SysResult installFd(Kernel k, DmaBuf buf, String fn) {
        KResult<Integer> fd = DmaBuf.fd(k, buf, fn);
        if (fd.isErr()) {
            buf.put(fn);
            return fd.sysErr();
        }
        return SysResult.ok(fd.value());
    }

    /**
     * export_and_register_object: exports the object (the dma-buf takes its
     * own object reference) and sets the link, which owns a dma-buf
     * reference. Called with object_name_lock held. Returns the dma-buf with
     * the caller's reference. Errors: ENOENT when the object has no handle
     * left, the export's ENOMEM.
     */
    static KResult<DmaBuf> exportAndRegisterObject(DrmDevice dev, GemObject obj, int flags) {
        String fn = "export_and_register_object";
        Kernel k = dev.kernel();
        if (obj.handleCount() == 0) {
            return KResult.err(Errno.ENOENT, "the object's last handle was closed");
        }
        KResult<DmaBuf> exported = DmaBuf.export(k, GEM_PRIME_OPS, obj, obj.size(), flags, obj.resv(),
                "drm_gem_prime_export");
        if (exported.isErr()) {
            return exported;
        }
        DmaBuf buf = exported.value();
        obj.get("drm_gem_dmabuf_export");
        k.point(fn, StepKind.WRITE, obj);
        obj.setDmaBuf(buf);
        buf.get(fn);
        return KResult.ok(buf);
    }

    // --- FD_TO_HANDLE ---

    /** drm_prime_fd_to_handle_ioctl. */
    public static SysResult primeFdToHandleIoctl(DrmFile file, int fd) {
        return switch (file.dev().kernel().profile().fdToHandle()) {
            case V3_11 -> gemPrimeFdToHandleV311(file, fd);
            case SERIES -> gemPrimeFdToHandleSeed(file, fd);
            case MODERN -> gemPrimeFdToHandle(file, fd);
        };
    }

    /**
     * drm_gem_prime_fd_to_handle as of 3.11: only the file's prime lock; the
     * import neither reads nor sets the object's link; the handle is made
     * with the plain (3.11) handle creation. The dma_buf_get reference is
     * never put on success: a self-import drops it at once, a foreign import
     * hands it to the new object. So every failure after the import puts it
     * a second time (out_put). When caching the member fails, the fail label
     * drops the handle count and the handle's object reference but leaves
     * the handle in the table, and returns ENOMEM.
     */
    private static SysResult gemPrimeFdToHandleV311(DrmFile file, int fd) {
        String fn = "drm_gem_prime_fd_to_handle";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        KResult<DmaBuf> got = DmaBuf.get(k, fd, fn);
        if (got.isErr()) {
            return got.sysErr();
        }
        DmaBuf buf = got.value();
        Mutex primeLock = file.prime().lock();
        primeLock.lock(fn);
        long cached = lookupBufHandle(file, buf);
        if (cached >= 0) {
            // out_put
            buf.put(fn);
            primeLock.unlock(fn);
            return SysResult.ok(cached);
        }
        KResult<GemObject> imported = gemPrimeImportV311(dev, buf);
        if (imported.isErr()) {
            SysResult err = imported.sysErr();
            buf.put(fn);
            primeLock.unlock(fn);
            return err;
        }
        GemObject obj = imported.value();
        KResult<Integer> created = Gem.handleCreate(file, obj);
        Gem.objectPut(obj, fn);
        if (created.isErr()) {
            SysResult err = created.sysErr();
            buf.put(fn);
            primeLock.unlock(fn);
            return err;
        }
        int handle = created.value();
        KResult<Void> added = addBufHandle(file, buf, handle);
        if (added.isErr()) {
            SysResult err = added.sysErr();
            // fail: the handle's count and reference go, the handle stays published
            Gem.handleUnreferenceV311(obj);
            buf.put(fn);
            primeLock.unlock(fn);
            return err;
        }
        primeLock.unlock(fn);
        return SysResult.ok(Integer.toUnsignedLong(handle));
    }

    /**
     * drm_gem_prime_import as of 3.11: a self-import takes an object
     * reference and drops the caller's dma-buf reference at once; a foreign
     * import attaches and wraps the dma-buf in a new object that keeps the
     * caller's reference. Errors: ENOMEM (by fault injection at
     * dma_buf_attach), the object's creation's; the caller still holds its
     * reference then.
     */
    private static KResult<GemObject> gemPrimeImportV311(DrmDevice dev, DmaBuf buf) {
        String fn = "drm_gem_prime_import";
        if (buf.ops() == GEM_PRIME_OPS) {
            GemObject obj = (GemObject) buf.priv();
            if (obj.dev() == dev) {
                obj.get(fn);
                buf.put(fn);
                return KResult.ok(obj);
            }
        }
        Kernel k = dev.kernel();
        k.point("dma_buf_attach", StepKind.WRITE, buf);
        if (k.shouldFail("dma_buf_attach")) {
            return KResult.err(Errno.ENOMEM, "attaching to " + buf + " (exported by " + buf.exporter()
                    + ") failed (injected)");
        }
        return Gem.objectCreateImported(dev, buf);
    }

    /**
     * drm_gem_prime_fd_to_handle of the 2013 series (the seed to about 5.7):
     * import under object_name_lock, relinking the object to the dma-buf.
     * The prime lock is released after the final dma-buf put on every path
     * but success. When caching the member fails, the fail label closes the
     * new handle while still holding the prime lock, which the close's cache
     * removal takes again (a self-deadlock), then runs out_unlock (see
     * {@link #outUnlock}).
     */
    private static SysResult gemPrimeFdToHandleSeed(DrmFile file, int fd) {
        String fn = "drm_gem_prime_fd_to_handle";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        KResult<DmaBuf> got = DmaBuf.get(k, fd, fn);
        if (got.isErr()) {
            return got.sysErr();
        }
        DmaBuf buf = got.value();
        Mutex primeLock = file.prime().lock();
        primeLock.lock(fn);
        long cached = lookupBufHandle(file, buf);
        if (cached >= 0) {
            // out_put
            buf.put(fn);
            primeLock.unlock(fn);
            return SysResult.ok(cached);
        }
        dev.objectNameLock().lock(fn);
        KResult<GemObject> imported = gemPrimeImport(dev, buf);
        if (imported.isErr()) {
            SysResult err = imported.sysErr();
            outUnlock(dev, fn);
            buf.put(fn);
            primeLock.unlock(fn);
            return err;
        }
        GemObject obj = imported.value();
        relink(k, obj, buf, fn);
        KResult<Integer> created = Gem.handleCreateTail(file, obj);
        Gem.objectPut(obj, fn);
        if (created.isErr()) {
            // out_put
            SysResult err = created.sysErr();
            buf.put(fn);
            primeLock.unlock(fn);
            return err;
        }
        int handle = created.value();
        KResult<Void> added = addBufHandle(file, buf, handle);
        if (added.isErr()) {
            SysResult err = added.sysErr();
            // fail
            Gem.handleDelete(file, handle);
            outUnlock(dev, fn);
            buf.put(fn);
            primeLock.unlock(fn);
            return err;
        }
        primeLock.unlock(fn);
        buf.put(fn);
        return SysResult.ok(Integer.toUnsignedLong(handle));
    }

    /** The import's link: a dma-buf of this device's own export is already the link; any other becomes it. */
    private static void relink(Kernel k, GemObject obj, DmaBuf buf, String fn) {
        k.point(fn, StepKind.READ, obj);
        if (obj.dmaBuf() != null) {
            k.warnOn(obj.dmaBuf() != buf, fn, "obj->dma_buf != dma_buf", obj, obj.dmaBuf(), buf);
        } else {
            obj.setDmaBuf(buf);
            buf.get(fn);
        }
    }

    /**
     * drm_gem_prime_fd_to_handle: the handle this file has for the dma-buf
     * (from the cache), or a new handle for the object behind it. The prime
     * lock is released before the final dma-buf put, and before a failed
     * member insertion closes the new handle.
     * Errors: EBADF for a closed fd, EINVAL for an fd that is not a dma-buf;
     * ENOMEM when the handle or the member cannot be allocated; the
     * importer's errors.
     */
    static SysResult gemPrimeFdToHandle(DrmFile file, int fd) {
        String fn = "drm_gem_prime_fd_to_handle";
        DrmDevice dev = file.dev();
        Kernel k = dev.kernel();
        KResult<DmaBuf> got = DmaBuf.get(k, fd, fn);
        if (got.isErr()) {
            return got.sysErr();
        }
        DmaBuf buf = got.value();
        Mutex primeLock = file.prime().lock();
        primeLock.lock(fn);
        long cached = lookupBufHandle(file, buf);
        if (cached >= 0) {
            // out_put
            primeLock.unlock(fn);
            buf.put(fn);
            return SysResult.ok(cached);
        }
        dev.objectNameLock().lock(fn);
        KResult<GemObject> imported = gemPrimeImport(dev, buf);
        if (imported.isErr()) {
            // out_unlock, out_put
            SysResult err = imported.sysErr();
            dev.objectNameLock().unlock(fn);
            primeLock.unlock(fn);
            buf.put(fn);
            return err;
        }
        GemObject obj = imported.value();
        relink(k, obj, buf, fn);
        KResult<Integer> created = Gem.handleCreateTail(file, obj);
        Gem.objectPut(obj, fn);
        if (created.isErr()) {
            // out_put
            primeLock.unlock(fn);
            buf.put(fn);
            return created.sysErr();
        }
        int handle = created.value();
        KResult<Void> added = addBufHandle(file, buf, handle);
        primeLock.unlock(fn);
        if (added.isErr()) {
            // fail
            SysResult err = added.sysErr();
            Gem.handleDelete(file, handle);
            buf.put(fn);
            return err;
        }
        buf.put(fn);
        return SysResult.ok(Integer.toUnsignedLong(handle));
    }

    /**
     * The out_unlock label of the 2013 series' FD_TO_HANDLE: releases
     * object_name_lock. As merged in the seed commit it takes the lock again
     * instead (the typo): on the import-failure path the task already holds
     * it and sleeps on itself for ever; on the fail path (reached only past
     * the prime-lock deadlock) the typo-fixed code releases a lock it does
     * not hold.
     */
    private static void outUnlock(DrmDevice dev, String fn) {
        if (dev.kernel().profile().outUnlock() == Profile.OutUnlock.RELOCKS) {
            dev.objectNameLock().lock(fn);
        } else {
            dev.objectNameLock().unlock(fn);
        }
    }

    /**
     * drm_gem_prime_import_dev: a dma-buf this device exported is its own
     * object again, with a new reference. Any other dma-buf is attached and
     * mapped, and wrapped in a new object that keeps the attachment (a
     * reference on the dma-buf) until it is freed. Errors: ENOMEM when the
     * attachment fails (by fault injection at dma_buf_attach), the object's
     * creation's.
     */
    static KResult<GemObject> gemPrimeImport(DrmDevice dev, DmaBuf buf) {
        String fn = "drm_gem_prime_import_dev";
        if (buf.ops() == GEM_PRIME_OPS) {
            GemObject obj = (GemObject) buf.priv();
            if (obj.dev() == dev) {
                obj.get(fn);
                return KResult.ok(obj);
            }
        }
        Kernel k = dev.kernel();
        k.point("dma_buf_attach", StepKind.WRITE, buf);
        if (k.shouldFail("dma_buf_attach")) {
            return KResult.err(Errno.ENOMEM, "attaching to " + buf + " (exported by " + buf.exporter()
                    + ") failed (injected)");
        }
        buf.get(fn);
        KResult<GemObject> created = Gem.objectCreateImported(dev, buf);
        if (created.isErr()) {
            buf.put(fn);
        }
        return created;
    }
}
