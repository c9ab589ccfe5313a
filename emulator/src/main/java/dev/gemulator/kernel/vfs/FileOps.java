package dev.gemulator.kernel.vfs;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.proc.Vma;
import dev.gemulator.kernel.uapi.IoctlCmd;

/**
 * struct file_operations: what each kind of file does for the system calls
 * that reach it. One instance per kind, shared by all its files.
 */
public interface FileOps {

    /** The kind of file, for messages ("drm", "dma-buf", "sync_file", "null"). */
    String name();

    /** The final fput: frees what the file owns. */
    void release(KFile file);

    /**
     * unlocked_ioctl: request number {@code cmd}, argument {@code arg} (an
     * address in the caller's user memory); files without one answer ENOTTY.
     */
    default SysResult ioctl(KFile file, int cmd, long arg) {
        return SysResult.err(Errno.ENOTTY, IoctlCmd.hex(cmd) + " is not an ioctl of a " + name() + " file");
    }

    /** mmap: set up {@code vma}, or fail. */
    default KResult<Void> mmap(KFile file, Vma vma) {
        return KResult.err(Errno.ENODEV, "a " + name() + " file cannot be mapped");
    }

    /**
     * FMODE_UNSIGNED_OFFSET: mmap offsets are not checked against the file
     * size limit (DRM files, whose fake offsets lie far beyond it).
     */
    default boolean unsignedOffset() {
        return false;
    }

    /** poll: the subset of {@code events} that is ready now (before the core masks it). */
    int poll(KFile file, int events);

    /** llseek: the new position, or the errno. */
    KResult<Long> llseek(KFile file, long offset, int whence);

    /** no_llseek: ESPIPE, for files without a position (sockets, sync_files). */
    default KResult<Long> noLlseek() {
        return KResult.err(Errno.ESPIPE, "a " + name() + " file cannot seek");
    }
}
