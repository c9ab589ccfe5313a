package dev.gemulator.kernel.vgem;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Idr;
import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.dmabuf.DmaResv;
import dev.gemulator.kernel.drm.DrmDriver;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.gem.Gem;
import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.Uapi;

/**
 * vgem_drv.c and vgem_fence.c (Linux 6.1): a GEM-only driver whose objects
 * are shmem buffers (drm_gem_shmem), with a render node and two ioctls to
 * attach fences to an object and signal them from user space.
 */
public final class Vgem implements DrmDriver {

    @Override
    public String name() {
        return "vgem";
    }

    @Override
    public String description() {
        return "Virtual GEM provider";
    }

    @Override
    public String date() {
        return "20120112";
    }

    @Override
    public int features() {
        return DRIVER_GEM | DRIVER_RENDER;
    }

    /** vgem_open. */
    @Override
    public Object open(DrmFile file) {
        return new VgemFile(file.dev().kernel(), file.dev().fenceIdLimit());
    }

    /** vgem_postclose / vgem_fence_close: every fence still held is signalled and dropped. */
    @Override
    public void postclose(DrmFile file) {
        VgemFile vfile = (VgemFile) file.driverPriv();
        Idr<VgemFence> idr = vfile.fenceIdr();
        idr.forEachId(id -> {
            VgemFence fence = idr.find(id);
            if (fence != null) {
                fence.signal("vgem_fence_close");
                fence.fencePut("vgem_fence_close");
            }
        });
        idr.clear();
    }

    /** DRIVER_MAJOR. */
    @Override
    public int major() {
        return 1;
    }

    @Override
    public int minor() {
        return 0;
    }

    @Override
    public int patchlevel() {
        return 0;
    }

    /**
     * drm_gem_shmem_dumb_create: pitch = DIV_ROUND_UP(width * bpp, 8) and
     * size = PAGE_ALIGN(pitch * height), both in 32-bit arithmetic (a width*bpp
     * that wraps gives a 0-byte object, which cannot get a fake offset:
     * ENOSPC). The handle holds the object; the creation reference is dropped.
     */
    @Override
    public SysResult dumbCreate(DrmFile file, int width, int height, int bpp) {
        String fn = "drm_gem_shmem_dumb_create";
        Kernel k = file.dev().kernel();
        int minPitch = Integer.divideUnsigned(width * bpp + 7, 8);
        int pitch = minPitch;
        int size = (pitch * height + 4095) & ~4095;
        long sizeBytes = Uapi.pageAlign(Integer.toUnsignedLong(size));
        if (file.dev().liveObjects().count() >= file.dev().objectLimit()) {
            // the allocation of a new shmem object fails, as kzalloc would when memory runs out
            return SysResult.err(Errno.ENOMEM, "the device's limit of " + file.dev().objectLimit()
                    + " objects is reached");
        }
        KResult<GemObject> created = Gem.objectCreate(file.dev(), sizeBytes);
        if (created.isErr()) {
            return created.sysErr();
        }
        GemObject obj = created.value();
        KResult<Integer> handleMade = Gem.handleCreate(file, obj);
        Gem.objectPut(obj, fn);
        if (handleMade.isErr()) {
            return handleMade.sysErr();
        }
        int handle = handleMade.value();
        return SysResult.ok(Integer.toUnsignedLong(handle), Integer.toUnsignedLong(pitch), Integer.toUnsignedLong(size));
    }

    /**
     * vgem_fence_attach_ioctl: a new fence on the object, as a write fence
     * with VGEM_FENCE_WRITE and a read fence otherwise, returned as an id of
     * this file. It never waits: a write conflicts with any pending fence, a
     * read with a pending write fence. Errors: EINVAL for flags other than
     * WRITE or a non-zero pad; ENOENT for a bad handle; EBUSY on a conflict;
     * ENOMEM when the object's reservation cannot take another fence
     * (dma_resv_reserve_fences; here, the device's fence slot limit); ENOSPC
     * when the file has handed out all the fence ids it may. A failed attach
     * uses no id.
     */
    public static SysResult fenceAttachIoctl(DrmFile file, Ioctl.VgemFenceAttach args) {
        String fn = "vgem_fence_attach_ioctl";
        Kernel k = file.dev().kernel();
        if ((args.flags() & ~Uapi.VGEM_FENCE_WRITE) != 0) {
            return SysResult.err(Errno.EINVAL, "flags 0x" + Integer.toHexString(args.flags())
                    + ": vgem knows only VGEM_FENCE_WRITE (0x1)");
        }
        if (args.pad() != 0) {
            return SysResult.err(Errno.EINVAL, "pad must be 0");
        }
        GemObject obj = Gem.objectLookup(file, args.handle());
        if (obj == null) {
            return SysResult.err(Errno.ENOENT, "handle " + Integer.toUnsignedString(args.handle())
                    + " does not exist in this file");
        }
        boolean write = (args.flags() & Uapi.VGEM_FENCE_WRITE) != 0;
        VgemFence fence = new VgemFence(k);
        DmaResv resv = obj.resv();
        SysResult result;
        if (!resv.testSignaled(DmaResv.usageRw(write))) {
            result = SysResult.err(Errno.EBUSY, write
                    ? "a write fence conflicts with the object's pending fences"
                    : "a read fence conflicts with the object's pending write fence");
        } else {
            resv.lock().lock(fn);
            // dma_resv_reserve_fences fails with ENOMEM when its list cannot grow: here, at the device's limit
            boolean room = resv.pendingFences() < file.dev().fenceSlotLimit();
            if (room) {
                resv.reserveFences(1, "dma_resv_reserve_fences");
                resv.addFence(fence, write ? DmaResv.Usage.WRITE : DmaResv.Usage.READ, "dma_resv_add_fence");
            }
            resv.lock().unlock(fn);
            if (!room) {
                result = SysResult.err(Errno.ENOMEM, "the object's reservation holds its limit of "
                        + file.dev().fenceSlotLimit() + " pending fences");
            } else {
                result = fenceIdAlloc(file, fence, fn);
            }
        }
        if (!result.isOk()) {
            fence.signal(fn);
            fence.fencePut(fn);
        }
        Gem.objectPut(obj, fn);
        return result;
    }

    /** The fence's id in the file's table (ENOSPC when it has handed out all it may). */
    private static SysResult fenceIdAlloc(DrmFile file, VgemFence fence, String fn) {
        VgemFile vfile = (VgemFile) file.driverPriv();
        vfile.fenceMutex().lock(fn);
        int id = vfile.fenceIdr().alloc(fence);
        vfile.fenceMutex().unlock(fn);
        return id > 0 ? SysResult.ok(id) : SysResult.err(Errno.ENOSPC, "the file's fence table is full"
                + " (it may hand out " + file.dev().fenceIdLimit() + " fence ids)");
    }

    /**
     * vgem_fence_signal_ioctl: signals the fence with this id and retires the
     * id. Errors: EINVAL for non-zero flags; ENOENT for an id this file never
     * had or already retired; ETIMEDOUT when the fence had already timed out
     * (the id is retired all the same).
     */
    public static SysResult fenceSignalIoctl(DrmFile file, Ioctl.VgemFenceSignal args) {
        String fn = "vgem_fence_signal_ioctl";
        if (args.flags() != 0) {
            return SysResult.err(Errno.EINVAL, "flags must be 0");
        }
        VgemFile vfile = (VgemFile) file.driverPriv();
        vfile.fenceMutex().lock(fn);
        Object old = vfile.fenceIdr().replace(Integer.toUnsignedLong(args.fence()), null);
        vfile.fenceMutex().unlock(fn);
        if (old == null || old == Idr.NOT_ALLOCATED) {
            return SysResult.err(Errno.ENOENT, "fence id " + Integer.toUnsignedString(args.fence())
                    + " is not pending in this file");
        }
        VgemFence fence = (VgemFence) old;
        SysResult result = fence.isSignaled()
                ? SysResult.err(Errno.ETIMEDOUT, "the fence had timed out already")
                : SysResult.ok();
        fence.signal(fn);
        fence.fencePut(fn);
        return result;
    }
}
