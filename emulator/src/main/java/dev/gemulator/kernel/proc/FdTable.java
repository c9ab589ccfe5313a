package dev.gemulator.kernel.proc;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.vfs.KFile;
import java.util.Arrays;

/**
 * struct files_struct: a process's descriptors. New descriptors take the
 * lowest free number; each installed descriptor owns one reference on its
 * file. The limit is RLIMIT_NOFILE.
 */
public final class FdTable {
    private static final Object RESERVED = new Object();

    private final String owner;
    private Object[] fds = new Object[16];
    private int limit;
    private int open;

    /** An empty table of the process named {@code owner}, with RLIMIT_NOFILE {@code limit}. */
    public FdTable(String owner, int limit) {
        this.owner = owner;
        this.limit = limit;
    }

    public int limit() {
        return limit;
    }

    public void setLimit(int limit) {
        this.limit = limit;
    }

    /** get_unused_fd_flags + fd_install: the lowest free fd, or -1 when none is left (EMFILE). */
    public int install(KFile file) {
        int fd = reserve();
        if (fd >= 0) {
            fds[fd] = file;
        }
        return fd;
    }

    /** get_unused_fd_flags: reserves the lowest free fd (filled later by {@link #fill}), or -1. */
    public int reserve() {
        for (int fd = 0; fd < limit; fd++) {
            if (fd >= fds.length) {
                fds = Arrays.copyOf(fds, Math.min(Math.max(fds.length * 2, fd + 1), limit));
            }
            if (fds[fd] == null) {
                fds[fd] = RESERVED;
                open++;
                return fd;
            }
        }
        return -1;
    }

    /** fd_install into a reserved fd. */
    public void fill(int fd, KFile file) {
        if (fds[fd] != RESERVED) {
            throw new IllegalStateException("fd " + fd + " was not reserved");
        }
        fds[fd] = file;
    }

    /** put_unused_fd: gives back a reserved fd that was never filled. */
    public void unreserve(int fd) {
        if (fds[fd] != RESERVED) {
            throw new IllegalStateException("fd " + fd + " was not reserved");
        }
        fds[fd] = null;
        open--;
    }

    /**
     * fget / fdget (__fget_files_rcu): the file at {@code fd} with a new
     * reference, or null (the caller's EBADF). Reading the slot and taking
     * the reference are one step, as in the kernel, where the reference is
     * an increment-unless-zero followed by a re-check of the slot and a
     * retry: a concurrent close either happens before (no file) or after
     * (the reference keeps the file alive), never in between.
     */
    public KFile fget(Kernel kernel, long fd, String function) {
        kernel.point(function, StepKind.GET, this);
        KFile f = get(fd);
        if (f == null) {
            return null;
        }
        if (f.isFreed()) {
            // only a broken reference count frees a file that an fd still names
            f.use(function, "get_file_rcu of a freed file in the fd table");
            return null;
        }
        return f.getRcu() ? f : null;
    }

    /** The slot's file without a reference, or null: for the table's owner between its own steps. */
    public KFile get(long fd) {
        if (fd < 0 || fd >= fds.length) {
            return null;
        }
        Object f = fds[(int) fd];
        return f == RESERVED ? null : (KFile) f;
    }

    /** Removes {@code fd} and returns its file (the caller drops the reference), or null. */
    public KFile remove(long fd) {
        KFile f = get(fd);
        if (f != null) {
            fds[(int) fd] = null;
            open--;
        }
        return f;
    }

    /** The highest fd in use plus one. */
    public int highWater() {
        for (int fd = fds.length - 1; fd >= 0; fd--) {
            if (fds[fd] != null) {
                return fd + 1;
            }
        }
        return 0;
    }

    public int openCount() {
        return open;
    }

    /** "files(A)": the table of process A, as steps and reports name it. */
    @Override
    public String toString() {
        return "files(" + owner + ")";
    }
}
