package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.vfs.FileOps;
import dev.gemulator.kernel.vfs.KFile;

/**
 * struct sync_file: a file that stands for one fence (sync_file.c). It owns
 * a reference on the fence; the file is read-only and cannot be seeked or
 * mapped. poll reports POLLIN once the fence has signalled.
 */
public final class SyncFile {
    private final KFile file;
    private final DmaFence fence;

    private SyncFile(Kernel kernel, DmaFence fence) {
        this.fence = fence;
        this.file = new KFile(kernel, OPS, "sync_file", true, false, this);
    }

    /** sync_file_create: takes its own reference on {@code fence}. */
    public static SyncFile create(Kernel kernel, DmaFence fence, String function) {
        fence.get(function);
        return new SyncFile(kernel, fence);
    }

    public KFile file() {
        return file;
    }

    public DmaFence fence() {
        return fence;
    }

    /**
     * sync_file_get_fence: the fence of the sync_file at {@code fd} of the
     * current process with a new reference, or null when the fd is not an
     * open sync_file.
     */
    public static DmaFence getFence(Kernel kernel, long fd, String function) {
        KFile f = kernel.current().process().files().get(fd);
        if (f == null || f.ops() != OPS) {
            return null;
        }
        DmaFence fence = ((SyncFile) f.privateData()).fence;
        fence.get(function);
        return fence;
    }

    static final FileOps OPS = new FileOps() {
        @Override
        public String name() {
            return "sync_file";
        }

        @Override
        public void release(KFile file) {
            ((SyncFile) file.privateData()).fence.fencePut("sync_file_release");
        }

        @Override
        public int poll(KFile file, int events) {
            return ((SyncFile) file.privateData()).fence.isSignaled() ? KFile.POLLIN : 0;
        }

        @Override
        public long llseek(KFile file, long offset, int whence) {
            return -Errno.ESPIPE.number();
        }
    };
}
