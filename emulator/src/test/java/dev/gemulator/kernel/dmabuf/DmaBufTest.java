package dev.gemulator.kernel.dmabuf;

import static dev.gemulator.kernel.UserProcess.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.UserProcess;
import dev.gemulator.kernel.uapi.Uapi;
import dev.gemulator.kernel.vfs.KFile;
import org.junit.jupiter.api.Test;

/** dma-buf.c: llseek, poll, sync and sync_files; the logic of IGT's prime_self_import llseek tests and dmabuf_sync_file. */
class DmaBufTest {
    private static final int IN = KFile.POLLIN;
    private static final int OUT = KFile.POLLOUT;
    private final Machine m = new Machine();
    private final UserProcess p = new UserProcess(m, "A");

    /** P8 dmabuf-llseek-size: SEEK_END 0 is the exact size, also after the handle is closed. */
    @Test
    void seekEndReturnsTheExactSizeFrom4KiBTo2MiB() {
        int fd = p.open("card0");
        for (int i = 0; i < 10; i++) {
            long size = 4096L << i;
            int h = p.createBo(fd, size);
            int d = p.handleToFd(fd, h);
            p.gemClose(fd, h);
            assertEquals(size, p.lseek(d, 0, Uapi.SEEK_END).v0());
            p.close(d);
        }
    }

    /** P9 dmabuf-llseek-bad. */
    @Test
    void seeksOtherThanTheSizeQueryFailWithEinval() {
        int fd = p.open("card0");
        int d = p.handleToFd(fd, p.createBo(fd, 4096));
        assertErrno(Errno.EINVAL, p.lseek(d, -1, Uapi.SEEK_END));
        for (long off : new long[] {1, 4095, 4096, 4097}) {
            assertErrno(Errno.EINVAL, p.lseek(d, off, Uapi.SEEK_SET));
        }
        assertErrno(Errno.EINVAL, p.lseek(d, 0, Uapi.SEEK_CUR));
        assertEquals(0, p.lseek(d, 0, Uapi.SEEK_SET).v0());
    }

    /** P18 dmabuf-poll-follows-fences, with the fence attached after and before the export. */
    @Test
    void pollFollowsTheObjectsFences() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        int d = p.handleToFd(fd, h);
        assertEquals(IN | OUT, p.poll(d, IN | OUT, 0));
        int read = p.fenceAttach(fd, h, 0);
        assertEquals(IN, p.poll(d, IN | OUT, 0));
        p.fenceSignal(fd, read);
        assertEquals(IN | OUT, p.poll(d, IN | OUT, 0));
        int write = p.fenceAttach(fd, h, Uapi.VGEM_FENCE_WRITE);
        assertEquals(0, p.poll(d, IN | OUT, 0));
        p.fenceSignal(fd, write);
        assertEquals(IN | OUT, p.poll(d, IN | OUT, 0));

        int h2 = p.createBo(fd, 4096);
        int w2 = p.fenceAttach(fd, h2, Uapi.VGEM_FENCE_WRITE);
        int d2 = p.handleToFd(fd, h2);
        assertEquals(0, p.poll(d2, IN | OUT, 0));
        p.fenceSignal(fd, w2);
        assertEquals(IN | OUT, p.poll(d2, IN | OUT, 0));
    }

    @Test
    void pollWithATimeoutWaitsInVirtualTimeUntilTheFenceExpires() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        int d = p.handleToFd(fd, h);
        long start = m.kernel().clock().nowNanos(); // the fence's 10 s start with it (each step takes virtual time)
        p.fenceAttach(fd, h, Uapi.VGEM_FENCE_WRITE);
        assertEquals(0, p.poll(d, IN, 100));
        assertEquals(IN, p.poll(d, IN, 15_000));
        long waited = m.kernel().clock().nowNanos() - start;
        assertTrue(waited >= 10_000_000_000L && waited < 10_100_000_000L, "waited " + waited + " ns");
    }

    /** P20 (dma-buf part): sync flags. */
    @Test
    void syncRefusesFlagsWithoutDirectionOrWithUnknownBits() {
        int fd = p.open("card0");
        int d = p.handleToFd(fd, p.createBo(fd, 4096));
        for (long flags : new long[] {0, 4, 8, -1}) {
            assertErrno(Errno.EINVAL, p.sync(d, flags));
        }
        assertErrno(Errno.OK, p.sync(d, Uapi.DMA_BUF_SYNC_START | Uapi.DMA_BUF_SYNC_RW));
        assertErrno(Errno.OK, p.sync(d, Uapi.DMA_BUF_SYNC_END | Uapi.DMA_BUF_SYNC_READ));
        assertErrno(Errno.ENOTTY, p.sync(fd, Uapi.DMA_BUF_SYNC_START | Uapi.DMA_BUF_SYNC_READ));
    }

    /** P19 export-sync-file-snapshot: a sync_file covers exactly the fences pending at export. */
    @Test
    void anExportedSyncFileIsASnapshotOfThePendingFences() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        int d = p.handleToFd(fd, h);
        int read = p.fenceAttach(fd, h, 0);
        int readScope = (int) p.exportSyncFile(d, 1).v0();
        int writeScope = (int) p.exportSyncFile(d, 2).v0();
        assertEquals(IN, p.poll(readScope, IN, 0), "READ waits for writers only");
        assertEquals(0, p.poll(writeScope, IN, 0), "WRITE waits for the read fence");
        int later = p.fenceAttach(fd, h, 0);
        p.fenceSignal(fd, read);
        assertEquals(IN, p.poll(writeScope, IN, 0), "a fence attached later is not in the snapshot");
        p.fenceSignal(fd, later);
    }

    @Test
    void importingASyncFileAsWriteMakesReadersOfAnotherBufferWait() {
        int fd = p.open("card0");
        int h1 = p.createBo(fd, 4096);
        int h2 = p.createBo(fd, 4096);
        int d1 = p.handleToFd(fd, h1);
        int d2 = p.handleToFd(fd, h2);
        int f = p.fenceAttach(fd, h1, 0);
        int sync = (int) p.exportSyncFile(d1, 2).v0();
        assertErrno(Errno.OK, p.importSyncFile(d2, sync, 2));
        assertEquals(0, p.poll(d2, IN, 0));
        SysResult busy = p.tryFenceAttach(fd, h2, 0, 0);
        assertErrno(Errno.EBUSY, busy);
        p.fenceSignal(fd, f);
        assertEquals(IN | OUT, p.poll(d2, IN | OUT, 0));
        assertErrno(Errno.EINVAL, p.importSyncFile(d2, d1, 2));
    }
}
