package dev.gemulator.client;

import dev.gemulator.proto.v1.CreateDumb;
import dev.gemulator.proto.v1.DestroyDumb;
import dev.gemulator.proto.v1.FdToHandle;
import dev.gemulator.proto.v1.FenceAttach;
import dev.gemulator.proto.v1.FenceSignal;
import dev.gemulator.proto.v1.Flink;
import dev.gemulator.proto.v1.GemClose;
import dev.gemulator.proto.v1.GemOpen;
import dev.gemulator.proto.v1.GetCap;
import dev.gemulator.proto.v1.HandleToFd;
import dev.gemulator.proto.v1.MapDumb;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.Version;

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

    private SyscallResult call(Syscall.Builder b, String op) {
        return process.call(b.build(), op);
    }

    /** drmGetVersion's name. */
    public String version() {
        return call(Syscall.newBuilder().setVersion(Version.newBuilder().setFd(number())), "version").getText();
    }

    /** drmGetCap. */
    public long getCap(long capability) {
        return call(Syscall.newBuilder().setGetCap(GetCap.newBuilder().setFd(number()).setCapability(capability)),
                "get_cap").getValues(0);
    }

    /** DRM_IOCTL_MODE_CREATE_DUMB. */
    public Dumb createDumb(int width, int height, int bpp) {
        SyscallResult r = call(Syscall.newBuilder().setCreateDumb(CreateDumb.newBuilder().setFd(number())
                .setWidth(width).setHeight(height).setBpp(bpp)), "create_dumb");
        return new Dumb((int) r.getValues(0), (int) r.getValues(1), r.getValues(2));
    }

    /** DRM_IOCTL_MODE_MAP_DUMB: the fake offset to mmap this fd at. */
    public long mapDumb(int handle) {
        return call(Syscall.newBuilder().setMapDumb(MapDumb.newBuilder().setFd(number()).setHandle(handle)), "map_dumb")
                .getValues(0);
    }

    public void destroyDumb(int handle) {
        call(Syscall.newBuilder().setDestroyDumb(DestroyDumb.newBuilder().setFd(number()).setHandle(handle)), "destroy_dumb");
    }

    /** DRM_IOCTL_GEM_CLOSE. */
    public void gemClose(int handle) {
        call(Syscall.newBuilder().setGemClose(GemClose.newBuilder().setFd(number()).setHandle(handle)), "gem_close");
    }

    /** DRM_IOCTL_GEM_FLINK: the object's global name. */
    public int flink(int handle) {
        return (int) call(Syscall.newBuilder().setFlink(Flink.newBuilder().setFd(number()).setHandle(handle)), "flink")
                .getValues(0);
    }

    /** DRM_IOCTL_GEM_OPEN. */
    public Opened gemOpen(int name) {
        SyscallResult r = call(Syscall.newBuilder().setGemOpen(GemOpen.newBuilder().setFd(number()).setName(name)), "gem_open");
        return new Opened((int) r.getValues(0), r.getValues(1));
    }

    /** drmPrimeHandleToFD. */
    public DmaBufFd primeHandleToFd(int handle, int flags) {
        int n = (int) call(Syscall.newBuilder().setHandleToFd(HandleToFd.newBuilder().setFd(number()).setHandle(handle)
                .setFlags(flags)), "handle_to_fd").getValues(0);
        return new DmaBufFd(process, n);
    }

    /** drmPrimeFDToHandle. */
    public int primeFdToHandle(Fd dmaBuf) {
        return (int) call(Syscall.newBuilder().setFdToHandle(FdToHandle.newBuilder().setFd(number())
                .setDmaBufFd(dmaBuf.number())), "fd_to_handle").getValues(0);
    }

    /** DRM_IOCTL_VGEM_FENCE_ATTACH: a read fence, or a write fence with {@code write}; returns its id. */
    public int fenceAttach(int handle, boolean write) {
        return (int) call(Syscall.newBuilder().setFenceAttach(FenceAttach.newBuilder().setFd(number()).setHandle(handle)
                .setFlags(write ? 1 : 0)), "fence_attach").getValues(0);
    }

    /** DRM_IOCTL_VGEM_FENCE_SIGNAL. */
    public void fenceSignal(int fence) {
        call(Syscall.newBuilder().setFenceSignal(FenceSignal.newBuilder().setFd(number()).setFence(fence)), "fence_signal");
    }
}
