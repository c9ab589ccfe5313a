package dev.gemulator.kernel.gem;

import static dev.gemulator.kernel.UserProcess.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.UserProcess;
import org.junit.jupiter.api.Test;

/** drm_gem.c: handles and flink names; the logic of IGT's gem_flink_basic. */
class GemTest {
    private final Machine m = new Machine();
    private final UserProcess a = new UserProcess(m, "A");

    @Test
    void handlesAreLowestFreeFromOneAndReusedAfterClose() {
        int fd = a.open("card0");
        int h1 = a.createBo(fd, 4096);
        int h2 = a.createBo(fd, 4096);
        int h3 = a.createBo(fd, 4096);
        assertEquals(1, h1);
        assertEquals(2, h2);
        assertEquals(3, h3);
        a.gemClose(fd, h2);
        assertEquals(2, a.createBo(fd, 4096));
        assertEquals(4, a.createBo(fd, 4096));
    }

    @Test
    void gemCloseOfAClosedOrUnknownHandleFailsWithEinval() {
        int fd = a.open("card0");
        int h = a.createBo(fd, 4096);
        a.gemClose(fd, h);
        assertErrno(Errno.EINVAL, a.tryGemClose(fd, h));
        assertErrno(Errno.EINVAL, a.tryGemClose(fd, 0));
        assertErrno(Errno.EINVAL, a.tryGemClose(fd, -1));
    }

    /** gem_flink_basic "basic": a name is non-zero and opens to a new handle of the same size. */
    @Test
    void flinkGivesANonZeroNameThatOpensToANewHandle() {
        int fd = a.open("card0");
        int h = a.createBo(fd, 16384);
        int name = a.flink(fd, h);
        assertNotEquals(0, name);
        long[] opened = a.gemOpen(fd, name);
        assertNotEquals(0, opened[0]);
        assertNotEquals(h, (int) opened[0]);
        assertEquals(16384, opened[1]);
    }

    /** gem_flink_basic "double-flink": flinking again returns the same name. */
    @Test
    void flinkTwiceReturnsTheSameName() {
        int fd = a.open("card0");
        int h = a.createBo(fd, 4096);
        int name = a.flink(fd, h);
        assertEquals(name, a.flink(fd, h));
        int fd2 = a.open("card0");
        int h2 = (int) a.gemOpen(fd2, name)[0];
        assertEquals(name, a.flink(fd2, h2));
    }

    /** gem_flink_basic "bad-flink" and "bad-open". */
    @Test
    void flinkOfABadHandleAndOpenOfABadNameFailWithEnoent() {
        int fd = a.open("card0");
        assertErrno(Errno.ENOENT, a.tryFlink(fd, 0x10101010));
        assertErrno(Errno.ENOENT, a.tryGemOpen(fd, 0x10101010));
        assertErrno(Errno.ENOENT, a.tryGemOpen(fd, 0));
    }

    /** gem_flink_basic "flink-lifetime": the name outlives the creating file while a handle exists. */
    @Test
    void aNameStaysOpenableAfterTheCreatingFileClosesWhileAnotherHandleExists() {
        int fd1 = a.open("card0");
        int fd2 = a.open("card0");
        int h = a.createBo(fd1, 4096);
        int name = a.flink(fd1, h);
        long[] held = a.gemOpen(fd2, name);
        a.close(fd1);
        long[] again = a.gemOpen(fd2, name);
        assertEquals(4096, again[1]);
        a.gemClose(fd2, (int) held[0]);
        a.gemClose(fd2, (int) again[0]);
        assertErrno(Errno.ENOENT, a.tryGemOpen(fd2, name));
    }

    @Test
    void namesAreLowestFreeAndReusedOnceTheLastHandleGoes() {
        int fd = a.open("card0");
        int h1 = a.createBo(fd, 4096);
        int h2 = a.createBo(fd, 4096);
        assertEquals(1, a.flink(fd, h1));
        assertEquals(2, a.flink(fd, h2));
        a.gemClose(fd, h1);
        int h3 = a.createBo(fd, 4096);
        assertEquals(1, a.flink(fd, h3));
    }

    @Test
    void closingTheLastHandleFreesTheObjectAndItsOffset() {
        int fd = a.open("card0");
        int h = a.createBo(fd, 8192);
        long offset = a.mapDumb(fd, h);
        assertEquals(1, m.device(0).liveObjects().count());
        a.gemClose(fd, h);
        assertEquals(0, m.device(0).liveObjects().count());
        int h2 = a.createBo(fd, 8192);
        assertEquals(offset, a.mapDumb(fd, h2), "the freed range is reused");
        assertTrue(m.teardown().isEmpty(), "nothing leaked: " + m.checkers().reports());
    }
}
