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
    /** POLL_ENABLED: the first poll hooked {@link #wake} on the fence. */
    private boolean pollEnabled;
    /** fence_check_cb_func: wakes the sync_file's pollers (the fence wake-up does it in the model). */
    private final Runnable wake = () -> { };

    private SyncFile(Kernel kernel, DmaFence fence) {
        this.fence = fence;
        this.file = new KFile(kernel, OPS, "sync_file", true, false, this);
    }

    /** sync_file_create: takes its own reference on {@code fence}. */
    public static SyncFile create(Kernel kernel, DmaFence fence, String function) {
        fence.fenceGet(function);
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
        KFile f = kernel.current().process().files().fget(kernel, fd, "sync_file_fdget");
        if (f == null) {
            return null;
        }
        if (f.ops() != OPS) {
            f.fput("sync_file_fdget");
            return null;
        }
        DmaFence fence = ((SyncFile) f.privateData()).fence;
        fence.fenceGet(function);
        f.fput(function);
        return fence;
    }

    static final FileOps OPS = new FileOps() {
        @Override
        public String name() {
            return "sync_file";
        }

        /** sync_file_release: takes back the poll callback, then drops the fence. */
        @Override
        public void release(KFile file) {
            SyncFile sf = (SyncFile) file.privateData();
            if (sf.pollEnabled) {
                sf.fence.removeCallback(sf.wake);
            }
            sf.fence.fencePut("sync_file_release");
        }

        /**
         * sync_file_poll: the first poll hooks a callback on the fence, which
         * enables its signalling (a fence array starts watching its members);
         * POLLIN once the fence has signalled.
         */
        @Override
        public int poll(KFile file, int events) {
            SyncFile sf = (SyncFile) file.privateData();
            if (!sf.pollEnabled) {
                sf.pollEnabled = true;
                sf.fence.addCallback(sf.wake);
            }
            return sf.fence.isSignaled() ? KFile.POLLIN : 0;
        }

        @Override
        public long llseek(KFile file, long offset, int whence) {
            return -Errno.ESPIPE.number();
        }
    };
}
