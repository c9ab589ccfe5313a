package dev.gemulator.kernel;

import static dev.gemulator.kernel.UserProcess.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gemulator.Machine;
import dev.gemulator.kernel.uapi.Uapi;
import org.junit.jupiter.api.Test;

/**
 * A failure's errno and its message travel together in what the failing
 * kernel function returns ({@link KResult}, then {@link SysResult}); no
 * caller reads them back from the task. The message is the one the function
 * that failed wrote, whichever path it took to user space: a file's seek and
 * map operations, the GEM handle table, dma_buf_fd.
 */
class ErrorChannelTest {
    private final Machine m = new Machine();
    private final UserProcess p = new UserProcess(m, "A");

    private static void assertFails(Errno errno, String message, SysResult r) {
        assertErrno(errno, r);
        assertEquals(message, r.message());
    }

    @Test
    void aFilesSeekFailureCarriesItsOwnMessage() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        int d = p.handleToFd(fd, h);
        assertFails(Errno.EINVAL, "a dma-buf seeks only with SEEK_SET or SEEK_END", p.lseek(d, 0, Uapi.SEEK_CUR));
        assertFails(Errno.EINVAL, "a dma-buf seeks only to offset 0 (size query)", p.lseek(d, 4096, Uapi.SEEK_SET));
        int sync = (int) p.exportSyncFile(d, (int) Uapi.DMA_BUF_SYNC_READ).v0();
        assertFails(Errno.ESPIPE, "a sync_file file cannot seek", p.lseek(sync, 0, Uapi.SEEK_SET));
        assertEquals(4096, p.lseek(d, 0, Uapi.SEEK_END).v0(), "a success after failures has its value");
    }

    @Test
    void dmaBufFdsFailureCarriesItsOwnMessage() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 4096);
        Task t = p.process().mainTask();
        m.sys().setFdLimit(t, 4);
        assertFails(Errno.EMFILE, "no free fd for the dma-buf", p.tryHandleToFd(fd, h, 0));
        assertFails(Errno.EMFILE, "no free fd for the dma-buf", m.sys().foreignDmaBuf(t, 4096));
    }

    @Test
    void aFilesMapFailureCarriesItsOwnMessage() {
        int fd = p.open("card0");
        int h = p.createBo(fd, 8192);
        int d = p.handleToFd(fd, h);
        assertFails(Errno.EINVAL, "mapping pages 1+2 of a dma-buf of 2 pages", p.tryMmap(d, 4096, 8192));
        Task t = p.process().mainTask();
        int socket = (int) m.sys().channelOpen(t, "B").v0();
        assertFails(Errno.ENODEV, "a socket file cannot be mapped", p.tryMmap(socket, 0, 4096));
        assertFails(Errno.ESPIPE, "a socket file cannot seek", p.lseek(socket, 0, Uapi.SEEK_SET));
        int foreign = (int) m.sys().foreignDmaBuf(t, 4096).v0();
        assertFails(Errno.EINVAL, "the exporter foreign cannot map its dma-bufs", p.tryMmap(foreign, 0, 4096));
        assertFails(Errno.EINVAL, "no object's fake offset range starts at page 0x0 with 1 pages", p.tryMmap(fd, 0, 4096));

        UserProcess other = new UserProcess(m, "B");
        int fd2 = other.open("card0");
        long offset = p.mapDumb(fd, h);
        SysResult unheld = other.tryMmap(fd2, offset, 8192);
        assertErrno(Errno.EACCES, unheld);
        assertEquals(true, unheld.message().startsWith("this DRM file holds no handle to "), unheld.message());
    }

    @Test
    void aHandleTableFailureCarriesItsOwnMessage() {
        int fd = p.open("card0");
        assertFails(Errno.EINVAL, "handle 7 does not exist in this file", p.tryGemClose(fd, 7));
        int h = p.createBo(fd, 4096);
        p.gemClose(fd, h);
        assertFails(Errno.EINVAL, "handle " + h + " does not exist in this file", p.tryGemClose(fd, h));
    }
}
