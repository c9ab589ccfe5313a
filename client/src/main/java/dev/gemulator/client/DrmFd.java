package dev.gemulator.client;

import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.server.WireIoctl;


/** An fd on a DRM node: the GEM, PRIME and vgem ioctls, shaped like libdrm's calls. */
public final class DrmFd extends Fd {
    /** DRM_CLOEXEC. */
    public static final int CLOEXEC = 0x80000;
    /** DRM_RDWR. */
    public static final int RDWR = 2;

    /** A dumb buffer: its handle, pitch and size in bytes. */
    public record Dumb(int handle, int pitch, long size) {
    }

    /** What GEM_OPEN returns: a new handle and the object's size. */
    public record Opened(int handle, long size) {
    }

    DrmFd(ClientProcess process, int number) {
        super(process, number);
    }

    @Override
    Fd in(ClientProcess p, int n) {
        return new DrmFd(p, n);
    }

    /** Runs {@code ioctl} on this fd: its request number and struct go to the kernel as a program's would. */
    private SyscallResult call(Ioctl ioctl, String op) {
        return process.call(WireIoctl.syscall(number(), ioctl).build(), op);
    }

    /** drmGetVersion's name. */
    public String version() {
        return call(new Ioctl.Version(), "version").getText();
    }

    /** drmGetCap. */
    public long getCap(long capability) {
        return call(new Ioctl.GetCap(capability), "get_cap").getValues(0);
    }

    /** DRM_IOCTL_MODE_CREATE_DUMB. */
    public Dumb createDumb(int width, int height, int bpp) {
        SyscallResult r = call(new Ioctl.ModeCreateDumb(width, height, bpp, 0), "create_dumb");
        return new Dumb((int) r.getValues(0), (int) r.getValues(1), r.getValues(2));
    }

    /** DRM_IOCTL_MODE_MAP_DUMB: the fake offset to mmap this fd at. */
    public long mapDumb(int handle) {
        return call(new Ioctl.ModeMapDumb(handle), "map_dumb")
                .getValues(0);
    }

    public void destroyDumb(int handle) {
        call(new Ioctl.ModeDestroyDumb(handle), "destroy_dumb");
    }

    /** DRM_IOCTL_GEM_CLOSE. */
    public void gemClose(int handle) {
        call(new Ioctl.GemClose(handle), "gem_close");
    }

    /** DRM_IOCTL_GEM_FLINK: the object's global name. */
    public int flink(int handle) {
        return (int) call(new Ioctl.GemFlink(handle), "flink")
                .getValues(0);
    }

    /** DRM_IOCTL_GEM_OPEN. */
    public Opened gemOpen(int name) {
        SyscallResult r = call(new Ioctl.GemOpen(name), "gem_open");
        return new Opened((int) r.getValues(0), r.getValues(1));
    }

    /** drmPrimeHandleToFD. */
    public DmaBufFd primeHandleToFd(int handle, int flags) {
        int n = (int) call(new Ioctl.PrimeHandleToFd(handle, flags), "handle_to_fd").getValues(0);
        return new DmaBufFd(process, n);
    }

    /** drmPrimeFDToHandle. */
    public int primeFdToHandle(Fd dmaBuf) {
        return (int) call(new Ioctl.PrimeFdToHandle(dmaBuf.number()), "fd_to_handle").getValues(0);
    }

    /** DRM_IOCTL_VGEM_FENCE_ATTACH: a read fence, or a write fence with {@code write}; returns its id. */
    public int fenceAttach(int handle, boolean write) {
        return (int) call(new Ioctl.VgemFenceAttach(handle, write ? 1 : 0, 0), "fence_attach").getValues(0);
    }

    /** DRM_IOCTL_VGEM_FENCE_SIGNAL. */
    public void fenceSignal(int fence) {
        call(new Ioctl.VgemFenceSignal(fence, 0), "fence_signal");
    }
}
