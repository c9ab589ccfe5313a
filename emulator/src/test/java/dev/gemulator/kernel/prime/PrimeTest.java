package dev.gemulator.kernel.prime;

import static dev.gemulator.kernel.UserProcess.assertErrno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.UserProcess;
import dev.gemulator.kernel.uapi.Uapi;
import org.junit.jupiter.api.Test;

/** drm_prime.c: export, import and the per-file cache; the logic of IGT's prime_self_import. */
class PrimeTest {
    private final Machine m = new Machine();
    private final UserProcess p = new UserProcess(m, "A");

    private long mapHandle(int fd, int handle, long size) {
        return p.mmap(fd, p.mapDumb(fd, handle), size);
    }

    /** P1 prime-reimport-same-handle. */
    @Test
    void importingTwiceGivesOneHandleAndSelfImportGivesTheExportingHandle() {
        int a = p.open("card0");
        int b = p.open("card0");
        int h = p.createBo(a, 4096);
        int d = p.handleToFd(a, h);
        int hb1 = p.fdToHandle(b, d);
        int hb2 = p.fdToHandle(b, d);
        assertEquals(hb1, hb2);
        assertEquals(h, p.fdToHandle(a, d));
        long ma = mapHandle(a, h, 4096);
        long mb = mapHandle(b, hb1, 4096);
        p.write(ma, 0, (byte) 0x5a);
        assertArrayEquals(new byte[] {0x5a}, p.read(mb, 0, 1));
        p.write(mb, 1, (byte) 0x6b);
        assertArrayEquals(new byte[] {0x5a, 0x6b}, p.read(ma, 0, 2));
    }

    /** P2 prime-close-dmabuf-keeps-object and P4 prime-exporter-file-closed. */
    @Test
    void theImportSurvivesClosingTheDmaBufTheExportingHandleAndTheExportingFile() {
        int a = p.open("card0");
        int b = p.open("card0");
        int h = p.createBo(a, 4096);
        long ma = mapHandle(a, h, 4096);
        p.write(ma, 0, (byte) 1, (byte) 2, (byte) 3);
        p.munmap(ma);
        int d = p.handleToFd(a, h);
        int hb = p.fdToHandle(b, d);
        p.close(d);
        p.gemClose(a, h);
        p.close(a);
        long mb = mapHandle(b, hb, 4096);
        assertArrayEquals(new byte[] {1, 2, 3}, p.read(mb, 0, 3));
    }

    /** P3 prime-reimport-after-zero-handles. */
    @Test
    void reimportAfterEveryHandleClosedGivesNewHandlesToTheSameBytes() {
        int a = p.open("card0");
        int b = p.open("card0");
        int hb = p.createBo(b, 4096);
        long mb = mapHandle(b, hb, 4096);
        p.write(mb, 100, (byte) 0x42);
        p.munmap(mb);
        int d = p.handleToFd(b, hb);
        p.gemClose(b, hb);
        int ha = p.fdToHandle(a, d);
        int hb2 = p.fdToHandle(b, d);
        assertArrayEquals(new byte[] {0x42}, p.read(mapHandle(a, ha, 4096), 100, 1));
        assertArrayEquals(new byte[] {0x42}, p.read(mapHandle(b, hb2, 4096), 100, 1));
    }

    /** P5 flink-then-prime-same-handle (with_one_bo_two_files): the cache is filled on every export. */
    @Test
    void reimportOfAnExportOfAnOpenedNameReturnsTheOpenedHandle() {
        int a = p.open("card0");
        int b = p.open("card0");
        int h = p.createBo(a, 4096);
        int name = p.flink(a, h);
        int hb = (int) p.gemOpen(b, name)[0];
        int d = p.handleToFd(b, hb);
        assertEquals(hb, p.fdToHandle(b, d));
    }

    /** P6 prime-two-objects-no-confusion. */
    @Test
    void aSecondObjectGetsADifferentHandleThatMapsItsOwnBytes() {
        int a = p.open("card0");
        int b = p.open("card0");
        int h1 = p.createBo(a, 4096);
        int d1 = p.handleToFd(a, h1);
        int hb1 = p.fdToHandle(b, d1);
        p.close(d1);
        p.gemClose(a, h1);
        int h2 = p.createBo(a, 4096);
        long m2 = mapHandle(a, h2, 4096);
        p.write(m2, 0, (byte) 0x22);
        int d2 = p.handleToFd(a, h2);
        int hb2 = p.fdToHandle(b, d2);
        assertNotEquals(hb1, hb2);
        assertArrayEquals(new byte[] {0x22}, p.read(mapHandle(b, hb2, 4096), 0, 1));
        assertArrayEquals(new byte[] {0}, p.read(mapHandle(b, hb1, 4096), 0, 1));
    }

    /** P7 prime-dup-fd-import. */
    @Test
    void aDupOfTheDmaBufImportsToTheSameObjectAndDataSurvivesClosingEveryFd() {
        int a = p.open("card0");
        int b = p.open("card0");
        int h = p.createBo(a, 4096);
        int d = p.handleToFd(a, h);
        int d2 = p.dup(d);
        int hb = p.fdToHandle(b, d);
        assertEquals(hb, p.fdToHandle(b, d2));
        long ma = mapHandle(a, h, 4096);
        p.write(ma, 0, (byte) 9);
        p.close(d);
        p.close(d2);
        assertArrayEquals(new byte[] {9}, p.read(mapHandle(b, hb, 4096), 0, 1));
    }

    /**
     * A mapping of a dma-buf holds the dma-buf's file as its vm_file
     * (drm_gem_prime_mmap never replaces it): the dma-buf lives on after its
     * last fd and the last handle are closed, and goes with the munmap,
     * freeing the object (conformance/x_dmabuf_mmap_file).
     */
    @Test
    void aMappingOfADmaBufKeepsTheDmaBufUntilItIsUnmapped() {
        int a = p.open("card0");
        int h = p.createBo(a, 4096);
        int d = p.handleToFd(a, h);
        long map = p.mmap(d, 0, 4096);
        p.write(map, 0, (byte) 7);
        p.close(d);
        p.gemClose(a, h);
        assertEquals(1, m.kernel().dmaBufs().size(), "the mapping keeps the dma-buf");
        assertArrayEquals(new byte[] {7}, p.read(map, 0, 1));
        p.munmap(map);
        assertEquals(0, m.kernel().dmaBufs().size(), "munmap released the dma-buf");
        int h2 = p.createBo(a, 4096);
        assertEquals(0x100000000L, p.mapDumb(a, h2),
                "the freed object's fake offset is free again");
    }

    /** P20 (prime part): export flags and bad handles and fds. */
    @Test
    void exportAndImportRefuseBadFlagsHandlesAndFds() {
        int a = p.open("card0");
        int h = p.createBo(a, 4096);
        for (int flags : new int[] {1, 3, Uapi.DRM_CLOEXEC + 1, Uapi.DRM_CLOEXEC - 1}) {
            assertErrno(Errno.EINVAL, p.tryHandleToFd(a, h, flags));
        }
        int d = p.handleToFd(a, h);
        p.close(d);
        p.gemClose(a, h);
        assertErrno(Errno.ENOENT, p.tryHandleToFd(a, h, 0));
        assertErrno(Errno.EBADF, p.tryFdToHandle(a, d));
        assertErrno(Errno.EINVAL, p.tryFdToHandle(a, a));
    }

    @Test
    void everyExportOfOneObjectIsTheSameDmaBufWhoseModeTheFirstExportFixed() {
        int a = p.open("card0");
        int h = p.createBo(a, 4096);
        int ro = p.handleToFd(a, h, 0);
        int rw = p.handleToFd(a, h, Uapi.DRM_RDWR);
        assertEquals(1, m.kernel().dmaBufs().size());
        assertErrno(Errno.EACCES, p.tryMmap(rw, 0, 4096));
        assertErrno(Errno.EACCES, p.tryMmap(ro, 0, 4096));
    }

    @Test
    void exportImportCloseChurnLeavesNothingBehind() {
        int a = p.open("card0");
        int b = p.open("card0");
        for (int i = 0; i < 100; i++) {
            int h = p.createBo(a, 4096);
            int d = p.handleToFd(a, h);
            int hb = p.fdToHandle(b, d);
            p.gemClose(a, h);
            p.close(d);
            p.gemClose(b, hb);
        }
        assertEquals(0, m.device(0).liveObjects().count());
        assertEquals(0, m.kernel().dmaBufs().size());
        assertTrue(m.teardown().isEmpty(), m.checkers().reports().toString());
    }
}
