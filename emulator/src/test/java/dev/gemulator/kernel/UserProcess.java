package dev.gemulator.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gemulator.Machine;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.Uapi;

/**
 * A user process for tests, shaped like a libdrm program: each call returns
 * its value when the kernel succeeds and fails the test otherwise; the
 * {@code try*} forms return the raw result to check an errno.
 */
public final class UserProcess {
    private final Machine machine;
    private final Process process;
    private final Syscalls sys;

    public UserProcess(Machine machine, String name) {
        this.machine = machine;
        this.process = machine.spawn(name);
        this.sys = machine.sys();
    }

    public Process process() {
        return process;
    }

    private Task t() {
        return process.mainTask();
    }

    private static SysResult ok(SysResult r, String what) {
        if (!r.isOk()) {
            fail(what + " failed with " + r.errno() + ": " + r.message());
        }
        return r;
    }

    public static void assertErrno(Errno expected, SysResult r) {
        assertEquals(expected, r.errno(), "errno (" + r.message() + ")");
    }

    public int open(String node) {
        return (int) ok(sys.open(t(), node), "open " + node).v0();
    }

    public void close(int fd) {
        ok(sys.close(t(), fd), "close");
    }

    public SysResult tryClose(int fd) {
        return sys.close(t(), fd);
    }

    public int dup(int fd) {
        return (int) ok(sys.dup(t(), fd), "dup").v0();
    }

    /** Sends {@code fd} to {@code to}; returns the fd it got there. */
    public int sendFd(int fd, UserProcess to) {
        return (int) ok(sys.sendFd(t(), fd, to.t()), "send_fd").v0();
    }

    public SysResult ioctl(int fd, Ioctl ioctl) {
        return sys.ioctl(t(), fd, ioctl);
    }

    /** Handle, pitch, size. */
    public long[] createDumb(int fd, int width, int height, int bpp) {
        SysResult r = ok(ioctl(fd, new Ioctl.ModeCreateDumb(width, height, bpp, 0)), "create_dumb");
        return new long[] {r.v0(), r.v1(), r.v2()};
    }

    public int createBo(int fd, long sizeBytes) {
        return (int) createDumb(fd, 1024, (int) (sizeBytes / 4096), 32)[0];
    }

    public SysResult tryCreateDumb(int fd, int width, int height, int bpp) {
        return ioctl(fd, new Ioctl.ModeCreateDumb(width, height, bpp, 0));
    }

    public long mapDumb(int fd, int handle) {
        return ok(ioctl(fd, new Ioctl.ModeMapDumb(handle)), "map_dumb").v0();
    }

    public void gemClose(int fd, int handle) {
        ok(ioctl(fd, new Ioctl.GemClose(handle)), "gem_close");
    }

    public SysResult tryGemClose(int fd, int handle) {
        return ioctl(fd, new Ioctl.GemClose(handle));
    }

    public int flink(int fd, int handle) {
        return (int) ok(ioctl(fd, new Ioctl.GemFlink(handle)), "flink").v0();
    }

    public SysResult tryFlink(int fd, int handle) {
        return ioctl(fd, new Ioctl.GemFlink(handle));
    }

    /** Handle and size. */
    public long[] gemOpen(int fd, int name) {
        SysResult r = ok(ioctl(fd, new Ioctl.GemOpen(name)), "gem_open");
        return new long[] {r.v0(), r.v1()};
    }

    public SysResult tryGemOpen(int fd, int name) {
        return ioctl(fd, new Ioctl.GemOpen(name));
    }

    public int handleToFd(int fd, int handle, int flags) {
        return (int) ok(ioctl(fd, new Ioctl.PrimeHandleToFd(handle, flags)), "handle_to_fd").v0();
    }

    public int handleToFd(int fd, int handle) {
        return handleToFd(fd, handle, Uapi.DRM_CLOEXEC | Uapi.DRM_RDWR);
    }

    public SysResult tryHandleToFd(int fd, int handle, int flags) {
        return ioctl(fd, new Ioctl.PrimeHandleToFd(handle, flags));
    }

    public int fdToHandle(int fd, int dmaBufFd) {
        return (int) ok(ioctl(fd, new Ioctl.PrimeFdToHandle(dmaBufFd)), "fd_to_handle").v0();
    }

    public SysResult tryFdToHandle(int fd, int dmaBufFd) {
        return ioctl(fd, new Ioctl.PrimeFdToHandle(dmaBufFd));
    }

    public SysResult lseek(int fd, long offset, int whence) {
        return sys.lseek(t(), fd, offset, whence);
    }

    public long mmap(int fd, long offset, long length) {
        return ok(sys.mmap(t(), fd, offset, length), "mmap").v0();
    }

    public SysResult tryMmap(int fd, long offset, long length) {
        return sys.mmap(t(), fd, offset, length);
    }

    public void munmap(long map) {
        ok(sys.munmap(t(), map), "munmap");
    }

    public byte[] read(long map, long offset, int length) {
        return ok(sys.readMap(t(), map, offset, length), "read").data();
    }

    public void write(long map, long offset, byte... data) {
        ok(sys.writeMap(t(), map, offset, data), "write");
    }

    public int fenceAttach(int fd, int handle, int flags) {
        return (int) ok(ioctl(fd, new Ioctl.VgemFenceAttach(handle, flags, 0)), "fence_attach").v0();
    }

    public SysResult tryFenceAttach(int fd, int handle, int flags, int pad) {
        return ioctl(fd, new Ioctl.VgemFenceAttach(handle, flags, pad));
    }

    public SysResult fenceSignal(int fd, int fence) {
        return ioctl(fd, new Ioctl.VgemFenceSignal(fence, 0));
    }

    public SysResult trySignal(int fd, int fence, int flags) {
        return ioctl(fd, new Ioctl.VgemFenceSignal(fence, flags));
    }

    /** The revents poll returns. */
    public int poll(int fd, int events, long timeoutMs) {
        return (int) ok(sys.poll(t(), fd, events, timeoutMs), "poll").v0();
    }

    public SysResult sync(int fd, long flags) {
        return ioctl(fd, new Ioctl.DmaBufSync(flags));
    }

    public SysResult exportSyncFile(int fd, int flags) {
        return ioctl(fd, new Ioctl.DmaBufExportSyncFile(flags));
    }

    public SysResult importSyncFile(int fd, int syncFd, int flags) {
        return ioctl(fd, new Ioctl.DmaBufImportSyncFile(syncFd, flags));
    }

    public void exit() {
        ok(sys.exit(process), "exit");
    }

    public Machine machine() {
        return machine;
    }
}
