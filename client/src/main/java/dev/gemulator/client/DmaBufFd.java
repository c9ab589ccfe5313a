package dev.gemulator.client;

/**
 * A dma-buf fd: the buffer's size, mmap, CPU access bracketing and its
 * implicit fences as sync_files. Made by {@link DrmFd#primeHandleToFd},
 * received from another process with {@link ClientProcess#receiveDmaBuf},
 * imported with {@link DrmFd#primeFdToHandle}.
 */
public final class DmaBufFd extends Fd {
    /** DMA_BUF_SYNC_READ. */
    public static final long SYNC_READ = 1;
    /** DMA_BUF_SYNC_WRITE. */
    public static final long SYNC_WRITE = 2;
    /** DMA_BUF_SYNC_RW. */
    public static final long SYNC_RW = 3;
    /** DMA_BUF_SYNC_START. */
    public static final long SYNC_START = 0;
    /** DMA_BUF_SYNC_END. */
    public static final long SYNC_END = 4;

    DmaBufFd(ClientProcess process, int number) {
        super(process, number);
    }

    @Override
    Fd in(ClientProcess p, int n) {
        return new DmaBufFd(p, n);
    }

    /**
     * lseek(fd, 0, SEEK_END).
     *
     * @return the buffer's size in bytes
     */
    public long size() {
        return lseek(0, 2);
    }

    /**
     * DMA_BUF_IOCTL_SYNC: START waits for conflicting fences, END never waits.
     *
     * @param flags {@link #SYNC_START} or {@link #SYNC_END}, with {@link #SYNC_READ}, {@link #SYNC_WRITE} or both
     */
    public void sync(long flags) {
        process.call(Ioctls.sync(number(), flags), "sync");
    }

    /**
     * DMA_BUF_IOCTL_EXPORT_SYNC_FILE: the buffer's fences as a sync_file.
     *
     * @param flags 1 READ (the write fences), 2 WRITE (all fences), 3 both
     * @return the sync_file's fd
     */
    public Fd exportSyncFile(int flags) {
        int n = (int) process.call(Ioctls.exportSyncFile(number(), flags), "export_sync_file").getValues(0);
        return new Fd(process, n);
    }

    /**
     * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: adds a sync_file's fence to the buffer.
     *
     * @param syncFile the sync_file
     * @param flags 1 as a read fence, 2 as a write fence
     */
    public void importSyncFile(Fd syncFile, int flags) {
        process.call(Ioctls.importSyncFile(number(), syncFile.number(), flags), "import_sync_file");
    }
}
