package dev.gemulator.client;

import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.server.WireIoctl;

/** A dma-buf fd: size query, CPU access bracketing, implicit fences as sync_files. */
public final class DmaBufFd extends Fd {
    public static final long SYNC_READ = 1;
    public static final long SYNC_WRITE = 2;
    public static final long SYNC_RW = 3;
    public static final long SYNC_START = 0;
    public static final long SYNC_END = 4;

    DmaBufFd(ClientProcess process, int number) {
        super(process, number);
    }

    @Override
    Fd in(ClientProcess p, int n) {
        return new DmaBufFd(p, n);
    }

    /** lseek(fd, 0, SEEK_END): the buffer's size. */
    public long size() {
        return lseek(0, 2);
    }

    /** DMA_BUF_IOCTL_SYNC: START waits for conflicting fences, END never waits. */
    public void sync(long flags) {
        process.call(WireIoctl.syscall(number(), new Ioctl.DmaBufSync(flags)).build(), "sync");
    }

    /** DMA_BUF_IOCTL_EXPORT_SYNC_FILE (flags: 1 READ, 2 WRITE, 3 both). */
    public Fd exportSyncFile(int flags) {
        int n = (int) process.call(WireIoctl.syscall(number(), new Ioctl.DmaBufExportSyncFile(flags)).build(),
                "export_sync_file").getValues(0);
        return new Fd(process, n);
    }

    /** DMA_BUF_IOCTL_IMPORT_SYNC_FILE. */
    public void importSyncFile(Fd syncFile, int flags) {
        process.call(WireIoctl.syscall(number(), new Ioctl.DmaBufImportSyncFile(syncFile.number(), flags)).build(),
                "import_sync_file");
    }
}
