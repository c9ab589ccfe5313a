package dev.gemulator.kernel.vgem;

import static dev.gemulator.kernel.UserProcess.assertErrno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.UserProcess;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.Uapi;
import org.junit.jupiter.api.Test;

/** vgem_drv.c and vgem_fence.c: dumb buffers, mappings and fences; the logic of IGT's vgem_basic and dumb_buffer. */
class VgemTest {
    private final Machine m = new Machine();
    private final UserProcess p = new UserProcess(m, "A");

    /** P13 dumb-create-sizes-and-invalid. */
    @Test
    void dumbSizesFollowPitchTimesHeightPageAligned() {
        int fd = p.open("card0");
        assertArrayEquals(new long[] {1, 1, 4096}, p.createDumb(fd, 1, 1, 1));
        assertEquals(1 << 20, p.createDumb(fd, 1024, 1024, 8)[2]);
        assertEquals(2L << 30, p.createDumb(fd, 32768, 32768, 16)[2]);
        assertEquals(5, p.createDumb(fd, 3, 1, 12)[1], "bits are packed: ceil(3*12/8)");
        assertErrno(Errno.EINVAL, p.tryCreateDumb(fd, 0, 1, 8));
        assertErrno(Errno.EINVAL, p.tryCreateDumb(fd, 1, 0, 8));
        assertErrno(Errno.EINVAL, p.tryCreateDumb(fd, 1, 1, 0));
        assertErrno(Errno.ENOSPC, p.tryCreateDumb(fd, 0x20000000, 1, 8));
    }

    /** P14 mmap-outlives-handle: a mapping keeps the object and reads zeros on fresh pages. */
    @Test
    void aMappingOutlivesTheHandleAndFreshPagesReadZero() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4 * 4096);
        long map = p.mmap(fd, p.mapDumb(fd, h), 4 * 4096);
        p.gemClose(fd, h);
        for (int page = 0; page < 4; page++) {
            assertArrayEquals(new byte[4], p.read(map, page * 4096L, 4));
            p.write(map, page * 4096L, (byte) page, (byte) 0x11);
            assertArrayEquals(new byte[] {(byte) page, 0x11}, p.read(map, page * 4096L, 2));
        }
        assertEquals(1, m.device(0).liveObjects().count());
        p.munmap(map);
        assertEquals(0, m.device(0).liveObjects().count());
    }

    /** P15 dmabuf-mmap-rdwr: another process writes through the dma-buf, the exporter reads. */
    @Test
    void anotherProcessWritesThroughAnRdwrDmaBuf() {
        UserProcess b = new UserProcess(m, "B");
        int fd = p.open("card0");
        int h = p.createBo(fd, 2 * 4096);
        long offset = p.mapDumb(fd, h);
        int d = p.handleToFd(fd, h, Uapi.DRM_RDWR);
        int bd = p.sendFd(d, b);
        long bm = b.mmap(bd, 0, 2 * 4096);
        b.close(bd);
        b.write(bm, 0, (byte) 0);
        b.write(bm, 4096, (byte) 1);
        long am = p.mmap(fd, offset, 2 * 4096);
        p.gemClose(fd, h);
        assertArrayEquals(new byte[] {0}, p.read(am, 0, 1));
        assertArrayEquals(new byte[] {1}, p.read(am, 4096, 1));
    }

    @Test
    void mmapOfAnOffsetNeedsAHandleInThatFile() {
        int fd = p.open("card0");
        int other = p.open("card0");
        int h = p.createBo(fd, 4096);
        long offset = p.mapDumb(fd, h);
        assertErrno(Errno.EACCES, p.tryMmap(other, offset, 4096));
        assertErrno(Errno.EINVAL, p.tryMmap(fd, offset, 8192));
        assertErrno(Errno.EINVAL, p.tryMmap(fd, offset + 1, 4096));
    }

    /** P16 fence-invalid-args. */
    @Test
    void fenceIoctlsRefuseBadFlagsPadsHandlesAndIds() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        assertErrno(Errno.EINVAL, p.tryFenceAttach(fd, h, 0xff, 0));
        assertErrno(Errno.EINVAL, p.tryFenceAttach(fd, h, 0, 1));
        assertErrno(Errno.ENOENT, p.tryFenceAttach(fd, 0xff, 0, 0));
        assertErrno(Errno.EINVAL, p.trySignal(fd, 1, 0xff));
        assertErrno(Errno.ENOENT, p.fenceSignal(fd, 0xff));
        assertErrno(Errno.ENOENT, p.fenceSignal(fd, 0));
    }

    /** P17 fence-conflict-ebusy. */
    @Test
    void writesConflictWithAnyPendingFenceAndReadsOnlyWithWrites() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        int r1 = p.fenceAttach(fd, h, 0);
        int r2 = p.fenceAttach(fd, h, 0);
        assertErrno(Errno.EBUSY, p.tryFenceAttach(fd, h, Uapi.VGEM_FENCE_WRITE, 0));
        p.fenceSignal(fd, r1);
        p.fenceSignal(fd, r2);
        int w = p.fenceAttach(fd, h, Uapi.VGEM_FENCE_WRITE);
        assertErrno(Errno.EBUSY, p.tryFenceAttach(fd, h, 0, 0));
        p.fenceSignal(fd, w);
        assertEquals(w + 1, p.fenceAttach(fd, h, 0), "ids are never reused and failures use none");
    }

    @Test
    void aFenceThatTimedOutSignalsWithEtimedoutAndIsConsumed() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        int d = p.handleToFd(fd, h);
        int f = p.fenceAttach(fd, h, Uapi.VGEM_FENCE_WRITE);
        p.sync(d, Uapi.DMA_BUF_SYNC_START | Uapi.DMA_BUF_SYNC_READ);
        assertErrno(Errno.ETIMEDOUT, p.fenceSignal(fd, f));
        assertErrno(Errno.ENOENT, p.fenceSignal(fd, f));
    }

    @Test
    void closingTheFileSignalsItsPendingFences() {
        int fd = p.open("card0");
        int fd2 = p.open("card0");
        int h = p.createBo(fd, 4096);
        int d = p.handleToFd(fd, h);
        int h2 = p.fdToHandle(fd2, d);
        p.fenceAttach(fd2, h2, Uapi.VGEM_FENCE_WRITE);
        assertEquals(0, p.poll(d, 1, 0));
        p.close(fd2);
        assertEquals(1, p.poll(d, 1, 0));
    }

    /** P21 identity-and-caps. */
    @Test
    void versionIsVgemAndOnlyThePrimeCapsAnswer() {
        int fd = p.open("card0");
        SysResult v = p.ioctl(fd, new Ioctl.Version());
        assertEquals("vgem", v.text());
        assertEquals(3, p.ioctl(fd, new Ioctl.GetCap(Uapi.DRM_CAP_PRIME)).v0());
        assertErrno(Errno.EOPNOTSUPP, p.ioctl(fd, new Ioctl.GetCap(Uapi.DRM_CAP_DUMB_BUFFER)));
        int h = p.createBo(fd, 4096);
        int d1 = p.handleToFd(fd, h);
        int d2 = p.handleToFd(fd, h);
        assertEquals(p.process().files().get(d1), p.process().files().get(d2), "same dma-buf file");
    }
}
