package dev.gemulator.kernel.proc;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.vfs.KFile;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * struct files_struct: a process's descriptors. New descriptors take the
 * lowest free number; each installed descriptor owns one reference on its
 * file. The limit is RLIMIT_NOFILE. Each descriptor has its close-on-exec
 * flag (the close_on_exec bitmap of the fdtable).
 *
 * <p>A host process's table ({@link #host}) mirrors descriptors that live in
 * a real process's own table (a program behind the C shim): between calls it
 * holds none of them; for one call the caller lends it the files that the
 * call names at their real numbers ({@link #lend}, no references change: the
 * real descriptors hold theirs), and offers the one real number a new file
 * may take ({@link #offer}), which is all that get_unused_fd_flags can give.
 */
public final class FdTable {
    private static final Object RESERVED = new Object();

    private final String owner;
    private Object[] fds = new Object[16];
    private boolean[] cloexec = new boolean[16];
    private int limit;
    private final boolean host;
    /**
     * Host tables: what each call under way lent, offered and reserved, by
     * the thread that runs it (several threads of one process are inside
     * calls at once in a seeded run; never iterated).
     */
    private final Map<Thread, HostCall> calls = new HashMap<>();

    /** One call of a host process: its offered descriptor, what it lent, what it reserved. */
    private static final class HostCall {
        int offered = -1;
        final List<Integer> lent = new ArrayList<>(2);
        final List<Integer> reserved = new ArrayList<>(1);
    }

    private HostCall hostCall() {
        return calls.computeIfAbsent(Thread.currentThread(), t -> new HostCall());
    }

    /** An empty table of the process named {@code owner}, with RLIMIT_NOFILE {@code limit}. */
    public FdTable(String owner, int limit) {
        this(owner, limit, false);
    }

    /** With {@code host}: the table of a host process (see the class comment). */
    public FdTable(String owner, int limit, boolean host) {
        this.owner = owner;
        this.limit = limit;
        this.host = host;
    }

    /** Whether the descriptors are a real process's (the table only lends them for a call). */
    public boolean isHost() {
        return host;
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
        return reserve(0);
    }

    /**
     * alloc_fd(start): reserves the lowest free fd at or above {@code start},
     * or -1 (EMFILE). A host table gives the number it was offered, once.
     */
    public int reserve(int start) {
        if (host) {
            HostCall c = hostCall();
            int fd = c.offered;
            c.offered = -1;
            if (fd < 0 || fd < start) {
                return -1;
            }
            grow(fd);
            c.reserved.add(fd);
            fds[fd] = RESERVED;
            cloexec[fd] = false;
            return fd;
        }
        for (int fd = Math.max(0, start); fd < limit; fd++) {
            if (fd >= fds.length) {
                grow(Math.min(Math.max(fds.length * 2, fd + 1), limit) - 1);
            }
            if (fds[fd] == null) {
                fds[fd] = RESERVED;
                cloexec[fd] = false;
                return fd;
            }
        }
        return -1;
    }

    private void grow(int fd) {
        if (fd >= fds.length) {
            int n = Math.max(fds.length * 2, fd + 1);
            fds = Arrays.copyOf(fds, n);
            cloexec = Arrays.copyOf(cloexec, n);
        }
    }

    /**
     * Host tables: the real descriptor a new file may take during the next
     * call (the program reserved it), or -1 when the program has no free
     * descriptor (EMFILE). Unused, the offer lapses with {@link #endCall}.
     */
    public void offer(int fd) {
        hostCall().offered = fd;
    }

    /**
     * Host tables: lends {@code file} at its real number {@code fd} for one
     * call; no reference changes hands (the real descriptor holds the
     * file's). Ended by {@link #endCall}.
     */
    public void lend(int fd, KFile file) {
        if (!host) {
            throw new IllegalStateException(this + " is not a host process's table");
        }
        if (fd < 0 || get(fd) != null) {
            return;
        }
        grow(fd);
        if (fds[fd] == RESERVED) {
            return;
        }
        fds[fd] = file;
        hostCall().lent.add(fd);
    }

    /**
     * Host tables, after a call: takes back what was lent and returns the
     * files the call installed (fd to file, each holding the reference the
     * installation took), which the caller hands to the real descriptors.
     */
    public Map<Integer, KFile> endCall() {
        HostCall c = calls.remove(Thread.currentThread());
        Map<Integer, KFile> installed = new TreeMap<>();
        if (c == null) {
            return installed;
        }
        for (int fd : c.lent) {
            fds[fd] = null;
        }
        for (int fd : c.reserved) {
            if (fd < fds.length && fds[fd] instanceof KFile f) {
                installed.put(fd, f);
                fds[fd] = null;
            } else if (fds[fd] == RESERVED) {
                fds[fd] = null;
            }
        }
        return installed;
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
            cloexec[(int) fd] = false;
        }
        return f;
    }

    /**
     * do_dup2's replace_fd: puts {@code file} (whose reference the caller
     * gives) at {@code fd}, whether free or not, and returns what was there
     * (the caller drops that reference), or null. A reserved slot is busy:
     * EBUSY for the caller, signalled here by returning {@code file} itself.
     */
    public KFile installAt(int fd, KFile file, boolean closeOnExec) {
        grow(fd);
        Object old = fds[fd];
        if (old == RESERVED) {
            return file;
        }
        fds[fd] = file;
        cloexec[fd] = closeOnExec;
        return (KFile) old;
    }

    /** FD_CLOEXEC of {@code fd} (false for a free fd). */
    public boolean closeOnExec(long fd) {
        return fd >= 0 && fd < fds.length && fds[(int) fd] != null && cloexec[(int) fd];
    }

    /** Sets or clears FD_CLOEXEC of an open {@code fd}. */
    public void setCloseOnExec(long fd, boolean on) {
        if (get(fd) != null) {
            cloexec[(int) fd] = on;
        }
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

    /** "files(A)": the table of process A, as steps and reports name it. */
    @Override
    public String toString() {
        return "files(" + owner + ")";
    }
}
