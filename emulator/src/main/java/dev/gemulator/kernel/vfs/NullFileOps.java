package dev.gemulator.kernel.vfs;

import dev.gemulator.kernel.KResult;

/**
 * A file that is neither a DRM file nor a dma-buf: /dev/null, which is what a
 * gemscript process has on fds 0, 1 and 2. It has no ioctls (ENOTTY), no mmap,
 * is always ready for poll, and seeks to 0.
 */
public final class NullFileOps implements FileOps {
    public static final NullFileOps INSTANCE = new NullFileOps();

    private NullFileOps() {
    }

    @Override
    public String name() {
        return "null";
    }

    @Override
    public void release(KFile file) {
    }

    @Override
    public int poll(KFile file, int events) {
        return KFile.DEFAULT_POLLMASK;
    }

    /** null_lseek: always 0. */
    @Override
    public KResult<Long> llseek(KFile file, long offset, int whence) {
        file.setPosition(0);
        return KResult.ok(0L);
    }
}
