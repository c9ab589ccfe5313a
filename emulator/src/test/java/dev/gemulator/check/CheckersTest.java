package dev.gemulator.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.Mutex;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.UserProcess;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.drm.DrmFiles;
import dev.gemulator.kernel.gem.Gem;
import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.uapi.Uapi;
import dev.gemulator.sched.TaskHungException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checkers turn what the kernel would splat into reports on the run and
 * never stop it. The modern profile has none of the historical bugs, so
 * these tests break the model's rules by hand, the way a buggy kernel would.
 */
class CheckersTest {
    private final Machine m = new Machine();
    private final UserProcess p = new UserProcess(m, "A");

    private GemObject objectOf(int fd, int handle) {
        DrmFile file = DrmFiles.drmFile(p.process().files().get(fd));
        return file.objectIdr().find(handle);
    }

    private List<Report> reportsOf(Report.Kind kind) {
        return m.checkers().reports().stream().filter(r -> r.kind() == kind).toList();
    }

    private void asCurrent() {
        m.kernel().setCurrent(p.process().mainTask());
    }

    @Test
    void aPutAfterTheLastOneIsAUseAfterFreeAndAnUnderflowAndTheRunGoesOn() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        GemObject obj = objectOf(fd, h);
        p.gemClose(fd, h);
        assertTrue(obj.isFreed());
        asCurrent();
        Gem.objectPut(obj, "buggy_put");
        assertEquals("use-after-free", reportsOf(Report.Kind.USE_AFTER_FREE).get(0).kind().label());
        Report under = reportsOf(Report.Kind.REFCOUNT_UNDERFLOW).get(0);
        assertEquals("buggy_put", under.function());
        assertTrue(under.detail().contains(obj.toString()), under.detail());
        assertTrue(under.step() > 0);
        assertEquals(2, p.createBo(fd, 4096) + 1, "the device keeps working");
    }

    @Test
    void aHandlePutWithNoHandleLeftIsAWarn() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        GemObject obj = objectOf(fd, h);
        obj.get("test");
        p.gemClose(fd, h);
        asCurrent();
        Gem.handlePutUnlocked(obj);
        Report warn = reportsOf(Report.Kind.WARN).get(0);
        assertEquals("drm_gem_object_handle_put_unlocked", warn.function());
        assertTrue(warn.line().startsWith("report warn drm_gem_object_handle_put_unlocked: handle_count == 0"), warn.line());
        Gem.objectPut(obj, "test");
    }

    @Test
    void anExtraReferenceIsALeakAtTeardownAndAnExportedOneLeaksItsDmaBufToo() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        p.handleToFd(fd, h, Uapi.DRM_RDWR);
        objectOf(fd, h).get("leaky_get");
        List<Report> reports = m.teardown();
        List<String> leaks = reports.stream().filter(r -> r.kind() == Report.Kind.LEAK).map(Report::line).toList();
        assertEquals(1, leaks.size(), leaks.toString());
        assertTrue(leaks.get(0).startsWith("report leak drm_gem_object_free: gem#1 of 4096 bytes"), leaks.get(0));
    }

    @Test
    void aCleanRunReportsNothing() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        int d = p.handleToFd(fd, h);
        p.fenceAttach(fd, h, 0);
        p.exportSyncFile(d, 3);
        assertTrue(m.teardown().isEmpty(), m.checkers().reports().toString());
    }

    @Test
    void unlockingAMutexNobodyHoldsIsLockMisuse() {
        int fd = p.open("card0");
        asCurrent();
        Mutex lock = DrmFiles.drmFile(p.process().files().get(fd)).prime().lock();
        lock.unlock("buggy_unlock");
        Report r = reportsOf(Report.Kind.LOCK_MISUSE).get(0);
        assertEquals("buggy_unlock", r.function());
    }

    @Test
    void returningToUserSpaceWithALockHeldIsLockMisuse() {
        int fd = p.open("card0");
        asCurrent();
        Task t = p.process().mainTask();
        Lock lock = m.device(0).objectNameLock();
        lock.lock("buggy_path");
        p.lseek(fd, 0, 0);
        Report r = reportsOf(Report.Kind.LOCK_MISUSE).get(0);
        assertEquals(t + " returns to user space holding dev->object_name_lock", r.detail());
    }

    @Test
    void takingTheFilesPrimeLockTwiceHangsTheTaskAndIsReportedAsADeadlock() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        asCurrent();
        DrmFiles.drmFile(p.process().files().get(fd)).prime().lock().lock("buggy_path");
        assertThrows(TaskHungException.class, () -> p.handleToFd(fd, h));
        Report r = reportsOf(Report.Kind.DEADLOCK).get(0);
        assertTrue(r.detail().contains("blocked forever on file->prime.lock held by A"), r.detail());
    }
}
