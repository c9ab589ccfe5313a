package dev.gemulator.kernel.proc;

import static dev.gemulator.kernel.UserProcess.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.Uapi;
import dev.gemulator.kernel.vfs.KFile;
import org.junit.jupiter.api.Test;

/** fork, exec, dup2, dup3 and fcntl of the model's processes, and the tables of real (host) processes. */
class ProcessesTest {
    private final Machine m = new Machine();
    private final Syscalls sys = m.sys();
    private final DrmDevice dev = m.device(0);

    private static long ok(SysResult r) {
        assertTrue(r.isOk(), r.errno() + ": " + r.message());
        return r.v0();
    }

    private Process forked(Process parent, String name) {
        ok(sys.fork(parent.mainTask(), name));
        return m.kernel().processes().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    private long createBo(Task t, int fd) {
        return ok(sys.ioctl(t, fd, new Ioctl.ModeCreateDumb(64, 64, 32, 0)));
    }

    @Test
    void aForkedChildSharesTheOpenFilesAtTheSameNumbersWithOneReferenceEach() {
        Process a = m.spawn("A");
        int fd = (int) ok(sys.open(a.mainTask(), "card0"));
        KFile f = a.files().get(fd);
        assertEquals(1, f.refcount());
        Process c = forked(a, "C");
        assertSame(f, c.files().get(fd), "the same open file at the same fd");
        assertEquals(2, f.refcount(), "one reference per fd");
        ok(sys.close(a.mainTask(), fd));
        assertFalse(f.isFreed(), "the child's fd keeps the file");
        ok(sys.exit(c));
        assertTrue(f.isFreed(), "the last close anywhere released it");
        assertEquals(0, dev.files().size());
    }

    /** drm_master_check_perm: the file's opener is the parent, so the child without root gets EACCES. */
    @Test
    void theForkedChildIsAnotherProcessForTheMasterChecks() {
        Process a = m.spawn("A");
        int fd = (int) ok(sys.open(a.mainTask(), "card0"));
        Process c = forked(a, "C");
        ok(sys.dropRoot(c.mainTask()));
        assertErrno(Errno.EACCES, sys.ioctl(c.mainTask(), fd, new Ioctl.DropMaster()));
        assertErrno(Errno.EACCES, sys.ioctl(c.mainTask(), fd, new Ioctl.SetMaster()));
        ok(sys.dropRoot(a.mainTask()));
        ok(sys.ioctl(a.mainTask(), fd, new Ioctl.DropMaster()));
        ok(sys.ioctl(a.mainTask(), fd, new Ioctl.SetMaster()));
    }

    @Test
    void theChildsCopiesOfTheMappingsKeepTheirIdsAndTheirObjectsAlive() {
        Process a = m.spawn("A");
        Task t = a.mainTask();
        int fd = (int) ok(sys.open(t, "card0"));
        long h = createBo(t, fd);
        long offset = ok(sys.ioctl(t, fd, new Ioctl.ModeMapDumb((int) h)));
        long map = ok(sys.mmap(t, fd, offset, 16384));
        ok(sys.writeMap(t, map, 0, new byte[] {7}));
        Process c = forked(a, "C");
        ok(sys.munmap(t, map));
        ok(sys.ioctl(t, fd, new Ioctl.GemClose((int) h)));
        ok(sys.exit(a));
        assertEquals(1, dev.liveObjects().count(), "the child's mapping keeps the object");
        assertEquals(7, sys.readMap(c.mainTask(), map, 0, 1).data()[0], "under the same map id");
        ok(sys.exit(c));
        assertEquals(0, dev.liveObjects().count());
    }

    @Test
    void execClosesTheCloseOnExecFdsAndDropsTheMappingsKeepingTheRest() {
        Process a = m.spawn("A");
        Task t = a.mainTask();
        int fd = (int) ok(sys.open(t, "card0"));
        long h = createBo(t, fd);
        long offset = ok(sys.ioctl(t, fd, new Ioctl.ModeMapDumb((int) h)));
        long map = ok(sys.mmap(t, fd, offset, 16384));
        int kept = (int) ok(sys.dup2(t, fd, 10));
        int gone = (int) ok(sys.fcntl(t, fd, 1030, 20));
        assertEquals(Syscalls.FD_CLOEXEC, ok(sys.fcntl(t, gone, 1, 0)), "F_DUPFD_CLOEXEC sets FD_CLOEXEC");
        assertEquals(0, ok(sys.fcntl(t, kept, 1, 0)), "dup2's copy is not close-on-exec");
        ok(sys.fcntl(t, fd, 2, Syscalls.FD_CLOEXEC));
        ok(sys.exec(t));
        assertNull(a.files().get(fd));
        assertNull(a.files().get(gone));
        assertTrue(a.mappings().isEmpty(), "the old address space went");
        assertErrno(Errno.EINVAL, sys.munmap(t, map));
        assertTrue(sys.ioctl(t, kept, new Ioctl.ModeMapDumb((int) h)).isOk(), "the kept fd is the same drm file: its handle");
    }

    @Test
    void dup2ReplacesTheTargetAndDup3RefusesWhatDup2Allows() {
        Process a = m.spawn("A");
        Task t = a.mainTask();
        int x = (int) ok(sys.open(t, "card0"));
        int y = (int) ok(sys.open(t, "card0"));
        KFile fy = a.files().get(y);
        assertEquals(y, ok(sys.dup2(t, x, y)), "dup2 onto an open fd");
        assertTrue(fy.isFreed(), "closing what was there released it");
        assertSame(a.files().get(x), a.files().get(y));
        assertEquals(x, ok(sys.dup2(t, x, x)), "dup2 of an fd onto itself is a no-op");
        assertErrno(Errno.EINVAL, sys.dup3(t, x, x, 0));
        assertErrno(Errno.EINVAL, sys.dup3(t, x, 40, 0x40));
        assertErrno(Errno.EBADF, sys.dup2(t, 99, 40));
        assertErrno(Errno.EBADF, sys.dup2(t, x, -1));
        assertErrno(Errno.EBADF, sys.dup2(t, x, Process.DEFAULT_FD_LIMIT));
        assertEquals(40, ok(sys.dup3(t, x, 40, Uapi.O_CLOEXEC)));
        assertEquals(Syscalls.FD_CLOEXEC, ok(sys.fcntl(t, 40, 1, 0)));
        assertErrno(Errno.EINVAL, sys.fcntl(t, x, 0, -1));
        assertErrno(Errno.EINVAL, sys.fcntl(t, x, 12345, 0));
        assertErrno(Errno.EBADF, sys.fcntl(t, 77, 1, 0));
        assertEquals(41, ok(sys.fcntl(t, x, 0, 41)), "F_DUPFD: the lowest free fd from 41");
    }

    @Test
    void fDupFdAtTheLimitAnswersEmfile() {
        Process a = m.spawn("A");
        Task t = a.mainTask();
        int x = (int) ok(sys.open(t, "card0"));
        ok(sys.setFdLimit(t, 5));
        assertEquals(4, ok(sys.fcntl(t, x, 0, 0)));
        assertErrno(Errno.EMFILE, sys.fcntl(t, x, 0, 0));
    }

    @Test
    void aHostProcessHasItsRealCredentialsAndAnEmptyTable() {
        Process h = sys.spawnHost("H", new Credentials(4242, 1000, 1000, false));
        assertEquals(4242, h.pid());
        assertEquals(1000, h.uid());
        assertFalse(h.capSysAdmin());
        assertTrue(h.files().isHost());
        assertEquals(0, h.files().highWater(), "no /dev/null: its fds 0 to 2 are real");
        ok(sys.setCredentials(h.mainTask(), h.host().with(0, 0, true)));
        assertTrue(h.capSysAdmin());
        assertErrno(Errno.EINVAL, sys.setCredentials(m.spawn("E").mainTask(), h.host()));
    }

    /** A call lends the host process's files at their real numbers and takes the real number it was offered. */
    @Test
    void aHostTableLendsFilesForOneCallAndHandsBackWhatTheCallInstalled() {
        Process h = sys.spawnHost("H", new Credentials(4242, 0, 0, true));
        Task t = h.mainTask();
        FdTable files = h.files();
        files.offer(17);
        assertEquals(17, ok(sys.open(t, "card0")), "the new file takes the offered number");
        var installed = files.endCall();
        KFile drm = installed.get(17);
        assertEquals(1, installed.size());
        assertEquals(1, drm.refcount(), "the installation's reference, now the real descriptor's");
        assertNull(files.get(17), "nothing stays in the table between calls");
        files.lend(17, drm);
        long handle = createBo(t, 17);
        files.offer(-1);
        assertErrno(Errno.EMFILE, sys.ioctl(t, 17, new Ioctl.PrimeHandleToFd((int) handle, Uapi.DRM_CLOEXEC)));
        assertTrue(files.endCall().isEmpty(), "a failed call installs nothing");
        assertEquals(1, drm.refcount(), "lending took no reference");
        files.lend(17, drm);
        files.offer(5);
        assertEquals(5, ok(sys.ioctl(t, 17, new Ioctl.PrimeHandleToFd((int) handle, Uapi.DRM_CLOEXEC | Uapi.DRM_RDWR))));
        KFile buf = files.endCall().get(5);
        assertEquals("dma-buf", buf.ops().name());
        ok(sys.closeHostFile(t, 5, buf));
        ok(sys.closeHostFile(t, 17, drm));
        assertTrue(drm.isFreed());
        assertEquals(0, dev.liveObjects().count());
    }
}
