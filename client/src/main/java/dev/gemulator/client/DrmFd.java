package dev.gemulator.client;

import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;


/**
 * An fd on a DRM node (card0 or renderD128): the GEM, PRIME, vgem and
 * master/authentication ioctls, shaped like libdrm's calls.
 */
public final class DrmFd extends Fd {
    /** DRM_CLOEXEC. */
    public static final int CLOEXEC = 0x80000;
    /** DRM_RDWR. */
    public static final int RDWR = 2;

    /**
     * A dumb buffer.
     *
     * @param handle its GEM handle in this fd's file
     * @param pitch bytes per row
     * @param size bytes in all
     */
    public record Dumb(int handle, int pitch, long size) {
    }

    /**
     * What GEM_OPEN returns.
     *
     * @param handle the new handle
     * @param size the object's size in bytes
     */
    public record Opened(int handle, long size) {
    }

    DrmFd(ClientProcess process, int number) {
        super(process, number);
    }

    @Override
    Fd in(ClientProcess p, int n) {
        return new DrmFd(p, n);
    }

    /** Runs an ioctl on this fd: its request number and struct go to the kernel as a program's would. */
    private SyscallResult call(Syscall ioctl, String op) {
        return process.call(ioctl, op);
    }

    /**
     * DRM_IOCTL_VERSION (drmGetVersion).
     *
     * @return the driver's name ("vgem")
     */
    public String version() {
        return call(Ioctls.version(number()), "version").getText();
    }

    /**
     * DRM_IOCTL_GET_CAP (drmGetCap).
     *
     * @param capability the DRM_CAP_* number
     * @return its value
     */
    public long getCap(long capability) {
        return call(Ioctls.getCap(number(), capability), "get_cap").getValues(0);
    }

    /**
     * DRM_IOCTL_MODE_CREATE_DUMB.
     *
     * @param width pixels per row
     * @param height rows
     * @param bpp bits per pixel
     * @return the buffer's handle, pitch and size
     */
    public Dumb createDumb(int width, int height, int bpp) {
        SyscallResult r = call(Ioctls.createDumb(number(), width, height, bpp), "create_dumb");
        return new Dumb((int) r.getValues(0), (int) r.getValues(1), r.getValues(2));
    }

    /**
     * DRM_IOCTL_MODE_MAP_DUMB.
     *
     * @param handle the buffer's handle
     * @return the fake offset to {@link #mmap} this fd at
     */
    public long mapDumb(int handle) {
        return call(Ioctls.mapDumb(number(), handle), "map_dumb")
                .getValues(0);
    }

    /**
     * DRM_IOCTL_MODE_DESTROY_DUMB (a GEM_CLOSE by another name).
     *
     * @param handle the buffer's handle
     */
    public void destroyDumb(int handle) {
        call(Ioctls.destroyDumb(number(), handle), "destroy_dumb");
    }

    /**
     * DRM_IOCTL_GEM_CLOSE.
     *
     * @param handle the handle to close
     */
    public void gemClose(int handle) {
        call(Ioctls.gemClose(number(), handle), "gem_close");
    }

    /**
     * DRM_IOCTL_GEM_FLINK.
     *
     * @param handle the object's handle
     * @return the object's global name
     */
    public int flink(int handle) {
        return (int) call(Ioctls.flink(number(), handle), "gem_flink")
                .getValues(0);
    }

    /**
     * DRM_IOCTL_GEM_OPEN.
     *
     * @param name a flink name
     * @return a new handle in this file, and the object's size
     */
    public Opened gemOpen(int name) {
        SyscallResult r = call(Ioctls.gemOpen(number(), name), "gem_open");
        return new Opened((int) r.getValues(0), r.getValues(1));
    }

    /**
     * DRM_IOCTL_PRIME_HANDLE_TO_FD (drmPrimeHandleToFD).
     *
     * @param handle the object's handle
     * @param flags {@link #CLOEXEC}, {@link #RDWR}, both or 0
     * @return the dma-buf's fd
     */
    public DmaBufFd primeHandleToFd(int handle, int flags) {
        int n = (int) call(Ioctls.handleToFd(number(), handle, flags), "prime_handle_to_fd").getValues(0);
        return new DmaBufFd(process, n);
    }

    /**
     * DRM_IOCTL_PRIME_FD_TO_HANDLE (drmPrimeFDToHandle).
     *
     * @param dmaBuf a dma-buf fd of this process
     * @return the object's handle in this file (the same one for every import of one dma-buf)
     */
    public int primeFdToHandle(Fd dmaBuf) {
        return (int) call(Ioctls.fdToHandle(number(), dmaBuf.number()), "prime_fd_to_handle").getValues(0);
    }

    /**
     * DRM_IOCTL_VGEM_FENCE_ATTACH.
     *
     * @param handle the object's handle
     * @param write a write (exclusive) fence rather than a read fence
     * @return the fence's id
     */
    public int fenceAttach(int handle, boolean write) {
        return (int) call(Ioctls.fenceAttach(number(), handle, write ? 1 : 0), "fence_attach").getValues(0);
    }

    /**
     * DRM_IOCTL_VGEM_FENCE_SIGNAL.
     *
     * @param fence the fence's id
     */
    public void fenceSignal(int fence) {
        call(Ioctls.fenceSignal(number(), fence), "fence_signal");
    }

    /**
     * DRM_IOCTL_GET_MAGIC (drmGetMagic): a token another process, the master,
     * authenticates this file with.
     *
     * @return the magic
     */
    public int getMagic() {
        return (int) call(Ioctls.getMagic(number()), "get_magic").getValues(0);
    }

    /**
     * DRM_IOCTL_AUTH_MAGIC (drmAuthMagic): as the master, authenticates the
     * file that got {@code magic}.
     *
     * @param magic what {@link #getMagic} gave the other file
     */
    public void authMagic(int magic) {
        call(Ioctls.authMagic(number(), magic), "auth_magic");
    }

    /** DRM_IOCTL_SET_MASTER (drmSetMaster): this file becomes the device's master. */
    public void setMaster() {
        call(Ioctls.setMaster(number()), "set_master");
    }

    /** DRM_IOCTL_DROP_MASTER (drmDropMaster). */
    public void dropMaster() {
        call(Ioctls.dropMaster(number()), "drop_master");
    }
}
