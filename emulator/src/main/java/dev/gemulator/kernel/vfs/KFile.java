package dev.gemulator.kernel.vfs;

import dev.gemulator.kernel.KObject;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;

/**
 * struct file: an open file description shared by every fd (and mapping)
 * that refers to it. Its reference count is f_count; a dma-buf's refcount is
 * its file's.
 *
 * <p>Lifetime: each fd, each mapping whose vm_file it is, and each kernel
 * holder (the PRIME cache, an object's dma-buf link, an import) owns one
 * reference. The final put does not release the file at once: the release is
 * queued as task work of the task that dropped it and runs when that task
 * returns to user space (from timer context or after exit: the delayed-fput
 * list).
 */
public final class KFile extends KObject {
    /** Poll bits (include/uapi/asm-generic/poll.h). */
    public static final int POLLIN = 0x1;
    public static final int POLLPRI = 0x2;
    public static final int POLLOUT = 0x4;
    public static final int POLLERR = 0x8;
    public static final int POLLHUP = 0x10;
    public static final int POLLNVAL = 0x20;
    public static final int POLLRDNORM = 0x40;
    public static final int POLLWRNORM = 0x100;
    /** What poll answers for a file without a poll method. */
    public static final int DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

    private final Kernel kernel;
    private final FileOps ops;
    private final boolean readable;
    private final boolean writable;
    private final String path;
    private Object privateData;
    private long position;

    public KFile(Kernel kernel, FileOps ops, String path, boolean readable, boolean writable, Object privateData) {
        super(kernel.nextId(Kernel.IdKind.FILE));
        this.kernel = kernel;
        this.ops = ops;
        this.path = path;
        this.readable = readable;
        this.writable = writable;
        this.privateData = privateData;
        kernel.observer().created(this);
    }

    @Override
    public Kernel kernel() {
        return kernel;
    }

    @Override
    public String kind() {
        return "file";
    }

    public FileOps ops() {
        return ops;
    }

    /** FMODE_READ. */
    public boolean readable() {
        return readable;
    }

    /** FMODE_WRITE. */
    public boolean writable() {
        return writable;
    }

    /** What the file was opened as ("/dev/dri/card0", "dmabuf", "sync_file", "/dev/null"). */
    public String path() {
        return path;
    }

    /** file->private_data. */
    public Object privateData() {
        return privateData;
    }

    public long position() {
        return position;
    }

    public void setPosition(long position) {
        this.position = position;
    }

    /**
     * get_file_rcu (atomic_long_inc_not_zero on f_count) inside the caller's
     * step. Returns false for a file whose last reference is already gone.
     */
    public boolean getRcu() {
        return incrementUnlessZero();
    }

    /**
     * fput: drops a reference; the last one queues the release (see class
     * comment).
     */
    public void fput(String function) {
        if (!put(function)) {
            return;
        }
        Task t = kernel.current();
        if (t == null || !t.addTaskWork(this)) {
            kernel.delayedFputAdd(this);
        }
    }

    /** __fput: runs the release of a file whose last reference is gone. */
    public void release() {
        kernel.point("__fput", StepKind.RELEASE, this);
        ops.release(this);
        markFreed("__fput");
    }

    @Override
    public String toString() {
        return "file#" + id() + "(" + ops.name() + ")";
    }
}
