package dev.gemulator.kernel.proc;

import dev.gemulator.kernel.Clock;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.SleepInterrupted;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.dmabuf.SyncFile;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.drm.DrmFiles;
import dev.gemulator.kernel.drm.DrmMinor;
import dev.gemulator.kernel.gem.Gem;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.IoctlCmd;
import dev.gemulator.kernel.uapi.IoctlTable;
import dev.gemulator.kernel.uapi.KData;
import dev.gemulator.kernel.uapi.UserBuffers;
import dev.gemulator.kernel.uapi.UserMemory;
import dev.gemulator.kernel.uapi.Uapi;
import dev.gemulator.kernel.vfs.KFile;
import dev.gemulator.kernel.vfs.NullFileOps;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The system call layer: what a user thread can ask of the kernel, each call
 * entered and left the way the kernel does it. Entering makes the task
 * current; leaving runs the task's pending deferred releases (task work) and
 * lets the checkers see any lock still held on the way back to user space.
 *
 * <p>Reads and writes through a mapping are not system calls, but they touch
 * kernel memory (the object's pages), so they are modelled as one step each.
 */
public final class Syscalls {
    /** The most bytes one gemscript read or write may move (the harness's limit). */
    public static final int MAX_ACCESS_BYTES = 1 << 20;

    private final Kernel kernel;
    private final Task kworker;

    public Syscalls(Kernel kernel) {
        this.kernel = kernel;
        this.kworker = new Task(null, "kworker");
    }

    public Kernel kernel() {
        return kernel;
    }

    /**
     * A new process with fds 0, 1 and 2 open on /dev/null (0 read-only, 1 and
     * 2 write-only), so its first new fd is 3.
     */
    public Process spawn(String name) {
        Process p = new Process(kernel, name);
        kernel.addProcess(p);
        KFile in = new KFile(kernel, NullFileOps.INSTANCE, "/dev/null", true, false, null);
        KFile out = new KFile(kernel, NullFileOps.INSTANCE, "/dev/null", false, true, null);
        p.files().install(in);
        p.files().install(out);
        out.get("spawn");
        p.files().install(out);
        return p;
    }

    /**
     * A host process: a real process (a program behind the C shim) with its
     * real credentials, whose descriptors are its own real ones (its table
     * here starts empty and only lends files for a call, see {@link FdTable}).
     */
    public Process spawnHost(String name, Credentials credentials) {
        Process p = new Process(kernel, name, credentials);
        kernel.addProcess(p);
        return p;
    }

    // --- entry and exit ---

    private void enter(Task task, String syscall) {
        runDelayedFput();
        kernel.setCurrent(task);
        kernel.point(syscall, StepKind.SYSCALL_ENTER, null);
    }

    private SysResult leave(Task task, SysResult result) {
        runTaskWork(task);
        kernel.point("syscall_exit_to_user_mode", StepKind.SYSCALL_EXIT, null);
        for (Lock l : List.copyOf(task.held())) {
            kernel.observer().lockHeldAtSyscallExit(task, l);
        }
        return result;
    }

    private SysResult leave(Task task, Errno errno) {
        return leave(task, errno.isOk() ? SysResult.ok() : SysResult.err(errno, ""));
    }

    /**
     * task_work_run: the releases deferred by this task's final fputs, round
     * by round until none is left. A round is what was queued when it began:
     * newest first since Linux 5.9 (the list is a stack), oldest first before
     * (3.x reversed it). The order shows where an exit frees several objects:
     * it decides which of two equal holes of fake mmap offsets is the newest.
     */
    private void runTaskWork(Task task) {
        List<KFile> round;
        while (!(round = task.takeTaskWork()).isEmpty()) {
            if (kernel.profile().taskWorkOrder() == Profile.TaskWorkOrder.NEWEST_FIRST) {
                Collections.reverse(round);
            }
            for (KFile f : round) {
                f.release();
            }
        }
    }

    /** The delayed-fput work item, run by a kernel worker before the next system call. */
    public void runDelayedFput() {
        if (!kernel.hasDelayedFput()) {
            return;
        }
        Task saved = kernel.current();
        kernel.setCurrent(kworker);
        KFile f;
        while ((f = kernel.delayedFputTake()) != null) {
            f.release();
            runTaskWork(kworker);
        }
        kernel.setCurrent(saved);
    }

    /** fget: the file at {@code fd} of the task's process with a new reference, in one step, or null. */
    private KFile fget(Task task, long fd, String function) {
        return task.process().files().fget(kernel, fd, function);
    }

    private SysResult badFd(Task task, long fd) {
        return leave(task, SysResult.err(Errno.EBADF, "fd " + fd + " is not open in " + task.process()));
    }

    // --- files ---

    /** The minor behind a node name ("card0", "render0", or a /dev/dri path), or null. */
    public DrmMinor lookupNode(String node) {
        String n = node.startsWith("/dev/dri/") ? node.substring(9) : node;
        for (DrmDevice dev : kernel.devices()) {
            if (n.equals("card" + dev.index())) {
                return dev.primary();
            }
            if ((n.equals("render" + dev.index()) || n.equals("renderD" + (128 + dev.index())))
                    && kernel.profile().permissions() != Profile.Permissions.NO_RENDER_NODES) {
                return dev.render();
            }
        }
        return null;
    }

    /** open(2) of a DRM node with O_RDWR|O_CLOEXEC. Errors: ENOENT (no such node), EMFILE. */
    public SysResult open(Task task, String node) {
        enter(task, "do_sys_open");
        FdTable files = task.process().files();
        int fd = files.reserve();
        if (fd < 0) {
            return leave(task, SysResult.err(Errno.EMFILE, "no free fd"));
        }
        DrmMinor minor = lookupNode(node);
        if (minor == null) {
            files.unreserve(fd);
            return leave(task, SysResult.err(Errno.ENOENT, "no device node " + node));
        }
        KFile filp = DrmFiles.open(minor, task.process());
        files.fill(fd, filp);
        return leave(task, SysResult.ok(fd));
    }

    /** close(2). Errors: EBADF. */
    public SysResult close(Task task, long fd) {
        enter(task, "close_fd");
        KFile f = task.process().files().remove(fd);
        if (f == null) {
            return badFd(task, fd);
        }
        f.fput("filp_close");
        return leave(task, SysResult.ok());
    }

    /** dup(2): the lowest free fd for the same file. Errors: EBADF, EMFILE. */
    public SysResult dup(Task task, long fd) {
        enter(task, "dup");
        KFile f = fget(task, fd, "fget_raw");
        if (f == null) {
            return badFd(task, fd);
        }
        int nfd = task.process().files().install(f);
        if (nfd < 0) {
            f.fput("dup");
            return leave(task, SysResult.err(Errno.EMFILE, "no free fd"));
        }
        return leave(task, SysResult.ok(nfd));
    }

    /** fcntl's descriptor commands (include/uapi/asm-generic/fcntl.h, linux/fcntl.h). */
    private static final int F_DUPFD = 0;
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int F_DUPFD_CLOEXEC = 1030;
    /** FD_CLOEXEC, the one descriptor flag. */
    public static final int FD_CLOEXEC = 1;

    /**
     * dup2(2): {@code newfd} becomes another descriptor of {@code oldfd}'s
     * file, closing what {@code newfd} had (its close-on-exec flag is clear);
     * the same fd twice is a no-op. Errors: EBADF ({@code oldfd} not open,
     * {@code newfd} negative or past RLIMIT_NOFILE), EBUSY (newfd is being
     * installed by another thread).
     */
    public SysResult dup2(Task task, long oldfd, long newfd) {
        enter(task, "ksys_dup3");
        if (oldfd == newfd) {
            KFile f = fget(task, oldfd, "fget_raw");
            if (f == null) {
                return badFd(task, oldfd);
            }
            f.fput("dup2");
            return leave(task, SysResult.ok(newfd));
        }
        return leave(task, dupTo(task, oldfd, newfd, false));
    }

    /**
     * dup3(2): as dup2, with {@code flags} O_CLOEXEC or 0. Errors: EINVAL
     * (other flags, or {@code oldfd} equal to {@code newfd}), as dup2.
     */
    public SysResult dup3(Task task, long oldfd, long newfd, int flags) {
        enter(task, "ksys_dup3");
        if ((flags & ~Uapi.O_CLOEXEC) != 0) {
            return leave(task, SysResult.err(Errno.EINVAL, "dup3 flags 0x" + Integer.toHexString(flags)
                    + ": only O_CLOEXEC"));
        }
        if (oldfd == newfd) {
            return leave(task, SysResult.err(Errno.EINVAL, "dup3 of fd " + oldfd + " onto itself"));
        }
        return leave(task, dupTo(task, oldfd, newfd, (flags & Uapi.O_CLOEXEC) != 0));
    }

    /** do_dup2: the body of dup2 and dup3 once the arguments are checked. */
    private SysResult dupTo(Task task, long oldfd, long newfd, boolean cloexec) {
        FdTable files = task.process().files();
        if (newfd < 0 || newfd >= files.limit()) {
            return SysResult.err(Errno.EBADF, "fd " + newfd + " is past RLIMIT_NOFILE (" + files.limit() + ")");
        }
        KFile f = fget(task, oldfd, "fget_raw");
        if (f == null) {
            return SysResult.err(Errno.EBADF, "fd " + oldfd + " is not open in " + task.process());
        }
        KFile old = files.installAt((int) newfd, f, cloexec);
        if (old == f) {
            f.fput("do_dup2");
            return SysResult.err(Errno.EBUSY, "fd " + newfd + " is being installed");
        }
        if (old != null) {
            old.fput("filp_close");
        }
        return SysResult.ok(newfd);
    }

    /**
     * fcntl(2) with the descriptor commands: F_DUPFD and F_DUPFD_CLOEXEC (the
     * lowest free fd at or above {@code arg}), F_GETFD and F_SETFD (FD_CLOEXEC).
     * Errors: EBADF, EINVAL (another command, or {@code arg} past
     * RLIMIT_NOFILE for F_DUPFD), EMFILE.
     */
    public SysResult fcntl(Task task, long fd, int cmd, long arg) {
        enter(task, "do_fcntl");
        FdTable files = task.process().files();
        KFile f = fget(task, fd, "fdget_raw");
        if (f == null) {
            return badFd(task, fd);
        }
        SysResult r;
        switch (cmd) {
            case F_DUPFD, F_DUPFD_CLOEXEC -> {
                if (arg < 0 || arg >= files.limit()) {
                    r = SysResult.err(Errno.EINVAL, "F_DUPFD from " + arg + ", past RLIMIT_NOFILE (" + files.limit() + ")");
                } else {
                    int nfd = files.reserve((int) arg);
                    if (nfd < 0) {
                        r = SysResult.err(Errno.EMFILE, "no free fd at or above " + arg);
                    } else {
                        f.get("f_dupfd");
                        files.fill(nfd, f);
                        files.setCloseOnExec(nfd, cmd == F_DUPFD_CLOEXEC);
                        r = SysResult.ok(nfd);
                    }
                }
            }
            case F_GETFD -> r = SysResult.ok(files.closeOnExec(fd) ? FD_CLOEXEC : 0);
            case F_SETFD -> {
                files.setCloseOnExec(fd, (arg & FD_CLOEXEC) != 0);
                r = SysResult.ok();
            }
            default -> r = SysResult.err(Errno.EINVAL, "fcntl command " + cmd + " is not modelled");
        }
        f.fput("fdput");
        return leave(task, r);
    }

    /**
     * sendmsg + recvmsg with SCM_RIGHTS: {@code fd} of the sender's process
     * arrives as the lowest free fd of {@code receiver}'s main thread's process.
     * Errors: EBADF (sender), EMFILE (receiver).
     */
    public SysResult sendFd(Task sender, long fd, Task receiver) {
        enter(sender, "__sys_sendmsg");
        KFile f = fget(sender, fd, "scm_fp_copy");
        if (f == null) {
            return badFd(sender, fd);
        }
        leave(sender, SysResult.ok());
        enter(receiver, "__sys_recvmsg");
        int nfd = receiver.process().files().install(f);
        if (nfd < 0) {
            f.fput("scm_detach_fds");
            return leave(receiver, SysResult.err(Errno.EMFILE, "the receiver has no free fd"));
        }
        return leave(receiver, SysResult.ok(nfd));
    }

    /**
     * socket(AF_UNIX) connected for one peer: a channel fd on which process
     * {@code peer} (by name) may send this process descriptors, the only way
     * a process of a server receives any ({@link FdChannel}). Errors: EMFILE.
     */
    public SysResult channelOpen(Task task, String peer) {
        enter(task, "__sys_socketpair");
        FdTable files = task.process().files();
        int fd = files.reserve();
        if (fd < 0) {
            return leave(task, SysResult.err(Errno.EMFILE, "no free fd"));
        }
        FdChannel channel = new FdChannel(task.process(), peer);
        files.fill(fd, new KFile(kernel, FdChannel.OPS, "socket:[unix]", true, true, channel));
        return leave(task, SysResult.ok(fd));
    }

    /**
     * sendmsg with SCM_RIGHTS on the channel {@code receiver} opened for the
     * sender's process: {@code fd}'s file waits in the channel until the
     * receiver takes it. Returns how many descriptors are then in flight.
     * Errors: EBADF (the sender's fd); ENOTCONN (the receiver opened no
     * channel for the sender: it did not consent); EAGAIN (the channel's
     * queue is full).
     */
    public SysResult sendFdOn(Task sender, long fd, Process receiver) {
        enter(sender, "__sys_sendmsg");
        KFile f = fget(sender, fd, "scm_fp_copy");
        if (f == null) {
            return badFd(sender, fd);
        }
        FdChannel channel = receiver.exited() ? null : FdChannel.find(receiver, sender.process().name());
        if (channel == null) {
            f.fput("scm_destroy");
            return leave(sender, SysResult.err(Errno.ENOTCONN, "process " + receiver.name()
                    + " has no channel open for " + sender.process().name() + " (it receives fds only on one it opened)"));
        }
        if (channel.full()) {
            f.fput("scm_destroy");
            return leave(sender, SysResult.err(Errno.EAGAIN, "the channel already holds "
                    + FdChannel.MAX_IN_FLIGHT + " fds in flight"));
        }
        channel.queue(f); // unix_attach_fds: the reference scm_fp_copy took is the one in flight
        return leave(sender, SysResult.ok(channel.inFlight()));
    }

    /**
     * recvmsg with SCM_RIGHTS on a channel of the caller's: the oldest
     * descriptor in flight becomes the caller's lowest free fd, under its own
     * RLIMIT_NOFILE; the result's text is what it is ("dmabuf", "drm",
     * "sync_file", "socket", "file"). Errors: EBADF; ENOTSOCK (not a
     * channel); EAGAIN (nothing in flight); EMFILE (no free fd: the
     * descriptor is dropped, as scm_detach_fds drops what it cannot install).
     */
    public SysResult recvFd(Task task, long channelFd) {
        enter(task, "__sys_recvmsg");
        KFile c = fget(task, channelFd, "fdget");
        if (c == null) {
            return badFd(task, channelFd);
        }
        FdChannel channel = FdChannel.of(c);
        SysResult r = channel == null
                ? SysResult.err(Errno.ENOTSOCK, "fd " + channelFd + " is a " + c.ops().name() + " file, not a channel")
                : receive(task, channel);
        c.fput("fdput");
        return leave(task, r);
    }

    /**
     * recvFd on whichever channel of the caller's has a descriptor in flight
     * (its lowest channel fd first), as a program blocked in poll over all
     * its sockets would take the first that is readable. Errors: EAGAIN
     * (nothing in flight on any), EMFILE (as recvFd).
     */
    public SysResult recvFdAny(Task task) {
        enter(task, "__sys_recvmsg");
        FdTable files = task.process().files();
        for (int fd = 0, top = files.highWater(); fd < top; fd++) {
            FdChannel channel = FdChannel.of(files.get(fd));
            if (channel != null && channel.owner() == task.process() && channel.inFlight() > 0) {
                return leave(task, receive(task, channel));
            }
        }
        return leave(task, SysResult.err(Errno.EAGAIN, "nothing in flight on any channel of " + task.process()
                + " (it receives only on channels it opened)"));
    }

    /** unix_detach_fds and the install: the oldest descriptor in flight on {@code channel}. */
    private SysResult receive(Task task, FdChannel channel) {
        KFile f = channel.dequeue();
        if (f == null) {
            return SysResult.err(Errno.EAGAIN, "nothing in flight on the channel");
        }
        int nfd = task.process().files().install(f);
        if (nfd < 0) {
            f.fput("scm_detach_fds");
            return SysResult.err(Errno.EMFILE, "no free fd: the fd in flight is dropped");
        }
        Object what = f.privateData();
        String kind = what instanceof DmaBuf ? "dmabuf" : what instanceof DrmFile ? "drm"
                : what instanceof SyncFile ? "sync_file"
                : FdChannel.of(f) != null ? "socket" : "file";
        return new SysResult(Errno.OK, nfd, 0, 0, kind, null, "");
    }

    /**
     * ioctl(2): request number {@code cmd} with argument {@code arg}, an
     * address in {@code mem}, the caller's user memory for this call (the
     * struct the number describes lies there; what the kernel copies out goes
     * there). Returns ok with the call's return value (0 for every ioctl of
     * the model). Errors: EBADF; ENOTTY for a file without ioctls; the
     * file's (see {@link dev.gemulator.kernel.uapi.IoctlTable}).
     */
    public SysResult ioctl(Task task, long fd, int cmd, long arg, UserMemory mem) {
        IoctlTable.Row<?> row = IoctlTable.byCmd(cmd);
        enter(task, row != null ? row.name() : "ioctl");
        KFile f = fget(task, fd, "fdget");
        if (f == null) {
            return badFd(task, fd);
        }
        task.setUserMemory(mem);
        task.setIoctlArg(arg);
        SysResult r;
        try {
            r = f.ops().ioctl(f, cmd, arg);
        } finally {
            task.setUserMemory(UserMemory.NONE);
        }
        f.fput("fdput");
        return leave(task, r.isOk() ? SysResult.ok(0) : r);
    }

    /** Where {@link #ioctl(Task, long, Ioctl)} lends the kernel its struct. */
    public static final long IOCTL_ARG_ADDRESS = 0x10000;

    /**
     * ioctl(2) with a struct built from {@code ioctl}: the same request a
     * program would make (its number and struct bytes, pointer fields into
     * buffers lent for the call), answered with the values read back from the
     * struct (see {@link Ioctl#results}). Errors: as {@link #ioctl(Task, long, int, long, UserMemory)}.
     */
    public SysResult ioctl(Task task, long fd, Ioctl ioctl) {
        UserBuffers mem = new UserBuffers();
        KData in = new KData(IoctlCmd.size(ioctl.cmd()));
        ioctl.encode(in, mem);
        byte[] arg = in.bytes();
        mem.put(IOCTL_ARG_ADDRESS, arg);
        SysResult r = ioctl(task, fd, ioctl.cmd(), IOCTL_ARG_ADDRESS, mem);
        if (!r.isOk()) {
            return r;
        }
        return ioctl.results(KData.of(arg, arg.length), mem);
    }

    /** lseek(2). Errors: EBADF, EINVAL (whence), the file's llseek errors. */
    public SysResult lseek(Task task, long fd, long offset, int whence) {
        enter(task, "ksys_lseek");
        KFile f = fget(task, fd, "fdget_pos");
        if (f == null) {
            return badFd(task, fd);
        }
        SysResult result;
        if (whence < 0 || whence > Uapi.SEEK_MAX) {
            result = SysResult.err(Errno.EINVAL, "whence " + whence + " is not a seek mode");
        } else {
            KResult<Long> r = f.ops().llseek(f, offset, whence);
            if (r.isErr()) {
                result = r.sysErr();
            } else {
                f.setPosition(r.value());
                result = SysResult.ok(r.value());
            }
        }
        f.fput("fdput_pos");
        return leave(task, result);
    }

    /** TASK_SIZE of x86-64 less vm.mmap_min_addr: no mapping can be longer. */
    private static final long MAX_MAP_BYTES = 0x7FFF_FFFF_F000L - 0x10000L;

    /**
     * mmap(2) with PROT_READ|PROT_WRITE and MAP_SHARED; returns the process's
     * next map id. The checks run in do_mmap's order. Errors: EINVAL
     * (unaligned offset, zero length), EBADF, ENOMEM (a length that wraps or
     * does not fit the address space), EOVERFLOW (offset plus length past what
     * the file allows: 2^64 for a file with unsigned offsets such as a DRM
     * file, 2^64 - 1 for others, file_mmap_ok), EACCES (a file not open for
     * reading and writing), and the file's own mmap errors.
     */
    public SysResult mmap(Task task, long fd, long offset, long length) {
        enter(task, "ksys_mmap_pgoff");
        if ((offset & (Uapi.PAGE_SIZE - 1)) != 0) {
            return leave(task, SysResult.err(Errno.EINVAL, "offset 0x" + Long.toHexString(offset) + " is not page aligned"));
        }
        KFile f = fget(task, fd, "fget");
        if (f == null) {
            return badFd(task, fd);
        }
        SysResult result = doMmap(task, f, offset >>> Uapi.PAGE_SHIFT, length);
        f.fput("ksys_mmap_pgoff");
        return leave(task, result);
    }

    /** do_mmap and mmap_region for a shared read/write mapping of {@code f}; the caller holds a reference. */
    private SysResult doMmap(Task task, KFile f, long pgoff, long length) {
        if (length == 0) {
            return SysResult.err(Errno.EINVAL, "length 0");
        }
        long aligned = Uapi.pageAlign(length);
        if (aligned == 0) {
            return SysResult.err(Errno.ENOMEM, "length " + Long.toUnsignedString(length) + " wraps when page aligned");
        }
        long pages = aligned >>> Uapi.PAGE_SHIFT;
        if (Long.compareUnsigned(pgoff + pages, pgoff) < 0) {
            return SysResult.err(Errno.EOVERFLOW, "offset plus length overflows");
        }
        if (Long.compareUnsigned(aligned, MAX_MAP_BYTES) > 0) {
            return SysResult.err(Errno.ENOMEM, "no room for " + Long.toUnsignedString(aligned)
                    + " bytes in the address space");
        }
        // file_mmap_ok: the largest size is 0 ("unsigned offsets": up to 2^64) or ULONG_MAX
        long maxSize = f.ops().unsignedOffset() ? 0 : -1L;
        if (Long.compareUnsigned(pgoff, (maxSize - aligned) >>> Uapi.PAGE_SHIFT) > 0) {
            return SysResult.err(Errno.EOVERFLOW, "offset plus length is past what a "
                    + f.ops().name() + " file can map");
        }
        if (!f.writable() || !f.readable()) {
            return SysResult.err(Errno.EACCES, "a shared writable mapping needs a file open for reading and writing; this "
                    + f.ops().name() + " file is " + (f.readable() ? "read-only" : "write-only"));
        }
        f.get("mmap_region");
        Vma vma = new Vma(length, pgoff, f);
        KResult<Void> mapped = f.ops().mmap(f, vma);
        if (mapped.isErr()) {
            vma.file().fput("mmap_region");
            return mapped.sysErr();
        }
        long id = task.process().takeMapId();
        vma.setMapId(id);
        vma.setStart(task.process().unmappedAreaTopdown(aligned));
        task.process().addMapping(vma);
        return SysResult.ok(id);
    }

    /** munmap(2) of a map id. Errors: EINVAL for an unknown or unmapped id. */
    public SysResult munmap(Task task, long mapId) {
        enter(task, "__vm_munmap");
        Vma vma = task.process().removeMapping(mapId);
        if (vma == null) {
            return leave(task, SysResult.err(Errno.EINVAL, "no mapping with id " + mapId));
        }
        removeVma(vma);
        return leave(task, SysResult.ok());
    }

    /** remove_vma: the vm close hook, then the vm_file reference. */
    private static void removeVma(Vma vma) {
        Gem.vmClose(vma);
        vma.file().fput("remove_vma");
    }

    /** The mapping {@code mapId} if [offset, offset + length) lies in it. Errors: EINVAL, E2BIG, EFAULT. */
    private KResult<Vma> checkAccess(Task task, long mapId, long offset, long length, String what) {
        Vma vma = task.process().mappings().get(mapId);
        if (vma == null) {
            return KResult.err(Errno.EINVAL, "no mapping with id " + mapId);
        }
        if (Long.compareUnsigned(length, MAX_ACCESS_BYTES) > 0) {
            return KResult.err(Errno.E2BIG, "at most 1 MiB per " + what);
        }
        if (Long.compareUnsigned(offset, vma.lengthBytes()) > 0 || length > vma.lengthBytes() - offset) {
            return KResult.err(Errno.EFAULT, what + " of " + length + " bytes at " + Long.toUnsignedString(offset)
                    + " is outside the mapping of " + vma.lengthBytes() + " bytes");
        }
        return KResult.ok(vma);
    }

    /** A load of {@code length} bytes through a mapping. Errors: EINVAL, E2BIG, EFAULT. */
    public SysResult readMap(Task task, long mapId, long offset, long length) {
        enter(task, "user_read");
        KResult<Vma> access = checkAccess(task, mapId, offset, length, "read");
        if (access.isErr()) {
            return leave(task, access.sysErr());
        }
        Vma vma = access.value();
        byte[] out = new byte[(int) length];
        vma.object().readBytes(offset, out);
        return leave(task, SysResult.data(out));
    }

    /** A store of {@code data} through a mapping. Errors: EINVAL, E2BIG, EFAULT. */
    public SysResult writeMap(Task task, long mapId, long offset, byte[] data) {
        enter(task, "user_write");
        KResult<Vma> access = checkAccess(task, mapId, offset, data.length, "write");
        if (access.isErr()) {
            return leave(task, access.sysErr());
        }
        Vma vma = access.value();
        if (!vma.object().writeBytes(offset, data)) {
            var dev = vma.object().dev();
            return leave(task, SysResult.err(Errno.ENOMEM, "the device's memory limit of " + dev.memoryLimit()
                    + " bytes is reached (" + (dev.residentBytes() + dev.pageIndexBytes()) + " in use, "
                    + dev.pageIndexBytes() + " of them indexing pages)"));
        }
        return leave(task, SysResult.ok());
    }

    /**
     * poll(2) on one fd: the ready subset of {@code events} (plus ERR/HUP),
     * NVAL for a closed fd, 0 for a negative fd or when nothing became ready
     * within {@code timeoutMs} of virtual time (negative: no limit). As
     * do_poll does, every round looks the fd up again (fdget, vfs_poll,
     * fdput), so an fd closed while the task sleeps answers NVAL at its next
     * wake-up.
     */
    public SysResult poll(Task task, long fd, int events, long timeoutMs) {
        enter(task, "do_sys_poll");
        long deadline = timeoutMs < 0 ? Clock.NEVER : kernel.clock().nowNanos() + timeoutMs * 1_000_000;
        if (fd < 0) {
            try {
                sleepUntil(deadline);
            } catch (SleepInterrupted e) {
                return leave(task, SysResult.err(Errno.EINTR, "poll interrupted: " + e.getMessage()));
            }
            return leave(task, SysResult.ok(0));
        }
        int filter = (events & 0xffff) | KFile.POLLERR | KFile.POLLHUP;
        try {
            while (true) {
                int mask = pollFd(task, fd, events, filter);
                if (mask != 0 || kernel.clock().nowNanos() >= deadline) {
                    return leave(task, SysResult.ok(mask));
                }
                kernel.scheduler().sleep(kernel.fenceWait(), deadline);
            }
        } catch (SleepInterrupted e) {
            return leave(task, SysResult.err(Errno.EINTR, "poll interrupted: " + e.getMessage()));
        }
    }

    /**
     * poll(2) on several fds (do_sys_poll): every round looks at each fd in
     * order (a negative fd answers 0, a closed one POLLNVAL); the call
     * returns as soon as a round finds any fd ready, or when
     * {@code timeoutMs} of virtual time has passed (0: one round; negative:
     * no limit). Returns ok with the number of ready fds and, as data, each
     * fd's revents as a little-endian 16-bit value in the order given.
     * Errors: EINVAL (more fds than RLIMIT_NOFILE, or arrays of different
     * lengths), EINTR.
     */
    public SysResult poll(Task task, long[] fds, int[] events, long timeoutMs) {
        enter(task, "do_sys_poll");
        if (fds.length != events.length || fds.length > task.process().files().limit() && !task.process().files().isHost()) {
            return leave(task, SysResult.err(Errno.EINVAL, fds.length + " fds is more than poll takes"));
        }
        long deadline = timeoutMs < 0 ? Clock.NEVER : kernel.clock().nowNanos() + timeoutMs * 1_000_000;
        short[] revents = new short[fds.length];
        try {
            while (true) {
                int ready = 0;
                for (int i = 0; i < fds.length; i++) {
                    int mask = 0;
                    if (fds[i] >= 0) {
                        mask = pollFd(task, fds[i], events[i], (events[i] & 0xffff) | KFile.POLLERR | KFile.POLLHUP);
                    }
                    revents[i] = (short) mask;
                    if (mask != 0) {
                        ready++;
                    }
                }
                if (ready != 0 || kernel.clock().nowNanos() >= deadline) {
                    byte[] out = new byte[2 * fds.length];
                    for (int i = 0; i < fds.length; i++) {
                        out[2 * i] = (byte) revents[i];
                        out[2 * i + 1] = (byte) (revents[i] >> 8);
                    }
                    return leave(task, new SysResult(Errno.OK, ready, 0, 0, null, out, ""));
                }
                kernel.scheduler().sleep(kernel.fenceWait(), deadline);
            }
        } catch (SleepInterrupted e) {
            return leave(task, SysResult.err(Errno.EINTR, "poll interrupted: " + e.getMessage()));
        }
    }

    /** do_pollfd: one fd's ready events, POLLNVAL when it is not open. */
    private int pollFd(Task task, long fd, int events, int filter) {
        KFile f = fget(task, fd, "fdget");
        if (f == null) {
            return KFile.POLLNVAL;
        }
        int mask = f.ops().poll(f, events) & filter;
        f.fput("fdput");
        return mask;
    }

    private void sleepUntil(long deadline) {
        while (kernel.clock().nowNanos() < deadline) {
            kernel.scheduler().sleep(kernel.fenceWait(), deadline);
        }
    }

    /**
     * A dma-buf of {@code sizeBytes} from a foreign exporter (another
     * driver), installed as a read/write fd of the caller: what importing
     * into vgem must attach to. Errors: EINVAL for size 0, EMFILE.
     */
    public SysResult foreignDmaBuf(Task task, long sizeBytes) {
        enter(task, "foreign_export");
        if (sizeBytes <= 0) {
            return leave(task, SysResult.err(Errno.EINVAL, "a dma-buf needs a positive size"));
        }
        KResult<DmaBuf> exported = DmaBuf.export(kernel, DmaBuf.FOREIGN_OPS, null, Uapi.pageAlign(sizeBytes),
                Uapi.O_RDWR, null, "dma_buf_export");
        if (exported.isErr()) {
            return leave(task, exported.sysErr());
        }
        DmaBuf buf = exported.value();
        KResult<Integer> fd = DmaBuf.fd(kernel, buf, "dma_buf_fd");
        if (fd.isErr()) {
            buf.put("dma_buf_fd");
            return leave(task, fd.sysErr());
        }
        return leave(task, SysResult.ok(fd.value()));
    }

    /**
     * Fault injection: the next {@code count} allocations at the kernel
     * function {@code site} fail with ENOMEM. Errors: EINVAL for a site that
     * is not one of {@link Kernel#FAULT_SITES}.
     */
    public SysResult injectFault(Task task, String site, long count) {
        enter(task, "fault_inject");
        if (!Kernel.FAULT_SITES.contains(site)) {
            return leave(task, SysResult.err(Errno.EINVAL, "no fault site " + site + "; the sites are "
                    + String.join(", ", Kernel.FAULT_SITES)));
        }
        kernel.injectFault(site, (int) Math.min(Integer.MAX_VALUE, Math.max(0, count)));
        return leave(task, SysResult.ok());
    }

    /** setrlimit(RLIMIT_NOFILE): new fds at or above the limit fail with EMFILE. */
    public SysResult setFdLimit(Task task, long limit) {
        enter(task, "do_prlimit");
        if (limit < 0 || limit > 1 << 20) {
            return leave(task, SysResult.err(Errno.EINVAL, "limit " + limit + " is out of range"));
        }
        task.process().files().setLimit((int) limit);
        return leave(task, SysResult.ok());
    }

    /** nanosleep(2) in virtual time. */
    public SysResult sleep(Task task, long millis) {
        return nanosleep(task, millis < 0 ? -1 : millis > Long.MAX_VALUE / 1_000_000 ? Long.MAX_VALUE
                : millis * 1_000_000);
    }

    /** nanosleep(2) in virtual time, to the nanosecond. Errors: EINVAL for a negative time. */
    public SysResult nanosleep(Task task, long nanos) {
        enter(task, "hrtimer_nanosleep");
        if (nanos < 0) {
            return leave(task, SysResult.err(Errno.EINVAL, "negative sleep"));
        }
        long now = kernel.clock().nowNanos();
        // a sleep of centuries ends at 146 years of virtual time, far from overflowing
        long farthest = Clock.NEVER / 2;
        sleepUntil(nanos >= farthest - now ? Math.max(now, farthest) : now + nanos);
        return leave(task, SysResult.ok());
    }

    /** CLOCK_REALTIME and CLOCK_TAI: the virtual clock plus this fixed epoch (2013-08-01T00:00:00Z). */
    public static final long REALTIME_EPOCH_SECONDS = 1_375_315_200L;

    /**
     * clock_gettime(2) on the virtual clock: ok with the time in nanoseconds,
     * tv_sec and tv_nsec. CLOCK_REALTIME (0), its alarm and coarse variants
     * and CLOCK_TAI start at {@link #REALTIME_EPOCH_SECONDS}; every other
     * clock counts from boot. Errors: EINVAL for a clock id Linux does not have.
     */
    public SysResult clockGettime(Task task, int clockId) {
        enter(task, "posix_get_timespec");
        boolean realtime = clockId == 0 || clockId == 5 || clockId == 8 || clockId == 11;
        if (clockId < 0 || clockId > 11 || clockId == 10) {
            return leave(task, SysResult.err(Errno.EINVAL, "no clock " + clockId));
        }
        long ns = kernel.clock().nowNanos() + (realtime ? REALTIME_EPOCH_SECONDS * 1_000_000_000L : 0);
        return leave(task, SysResult.ok(ns, ns / 1_000_000_000L, ns % 1_000_000_000L));
    }

    /**
     * Gives up root for good: uid/gid 65534, no capabilities. Files opened
     * before keep what they had. Errors: EPERM when root was dropped already.
     */
    public SysResult dropRoot(Task task) {
        enter(task, "drop_root");
        if (!task.process().isRoot()) {
            return leave(task, SysResult.err(Errno.EPERM, "root was dropped already"));
        }
        task.process().dropRoot();
        return leave(task, SysResult.ok());
    }

    /**
     * fork(2) (kernel_clone, copy_process): a new process {@code childName}
     * with copies of the caller's descriptors (each one more reference on its
     * file, close-on-exec flags kept), of its mappings (dup_mmap: each one
     * more reference on its vm_file and, through the vm open hook, on its
     * object; the copies keep their map ids), of its credentials and of its
     * RLIMIT_NOFILE. Files are shared, not copied: a drm file's opener stays
     * the process that opened it (the master checks see the child as another
     * process). Returns ok with the child's pid.
     */
    public SysResult fork(Task parent, String childName) {
        enter(parent, "kernel_clone");
        Process p = parent.process();
        Process child = p.host() != null ? new Process(kernel, childName, p.host())
                : new Process(kernel, childName);
        if (p.host() == null && !p.isRoot()) {
            child.dropRoot();
        }
        child.files().setLimit(p.files().limit());
        FdTable from = p.files();
        for (int fd = 0; fd < from.highWater(); fd++) {
            KFile f = from.get(fd);
            if (f != null) {
                f.get("dup_fd");
                child.files().installAt(fd, f, from.closeOnExec(fd));
            }
        }
        for (Vma vma : p.mappings().values()) {
            Vma copy = new Vma(vma.lengthBytes(), vma.pageOffset(), vma.file());
            if (vma.file() != null) {
                vma.file().get("dup_mmap");
            }
            copy.setObject(vma.object());
            Gem.vmOpen(copy);
            copy.setMapId(vma.mapId());
            child.addMapping(copy);
        }
        child.continueMapIds(p);
        kernel.addProcess(child);
        return leave(parent, SysResult.ok(child.pid()));
    }

    /**
     * execve(2) once the new program is loaded (begin_new_exec): the old
     * address space goes (exec_mmap: every mapping drops its object and
     * file), then every descriptor marked close-on-exec is closed in
     * increasing order (do_close_on_exec); the others stay, with their files.
     */
    public SysResult exec(Task task) {
        enter(task, "begin_new_exec");
        Process p = task.process();
        for (Vma vma : p.takeMappings()) {
            removeVma(vma);
        }
        FdTable files = p.files();
        int top = files.highWater();
        for (int fd = 0; fd < top; fd++) {
            if (files.closeOnExec(fd)) {
                KFile f = files.remove(fd);
                f.fput("do_close_on_exec");
            }
        }
        return leave(task, SysResult.ok());
    }

    /**
     * The last real descriptor of {@code file} in any host process is gone
     * (close(2), or an exec's close-on-exec, of the last copy): the reference
     * those descriptors held together is dropped, in the caller's context, so
     * the release runs as the caller's task work before it returns, as fput
     * of the last reference does.
     */
    public SysResult closeHostFile(Task task, long fd, KFile file) {
        enter(task, "close_fd");
        file.fput("filp_close");
        return leave(task, SysResult.ok());
    }

    /**
     * commit_creds for a host process: the real process changed its uid, gid
     * or capabilities (setuid, setgid: dropping root). Files opened before
     * keep what they had. Errors: EINVAL for an emulated process (it has
     * drop_root).
     */
    public SysResult setCredentials(Task task, Credentials credentials) {
        enter(task, "commit_creds");
        Process p = task.process();
        if (p.host() == null) {
            return leave(task, SysResult.err(Errno.EINVAL, p + " is an emulated process: it drops root with drop_root"));
        }
        p.setHost(credentials);
        return leave(task, SysResult.ok());
    }

    /**
     * do_exit: the address space goes first (each mapping drops its object
     * and file), then every fd in increasing order, then the task work that
     * the final puts queued. Later final puts go to the delayed-fput list.
     */
    public SysResult exit(Process process) {
        return exit(process, List.of());
    }

    /**
     * do_exit of a host process: as {@link #exit(Process)}, and after its
     * descriptors here, the reference of each of {@code hostFiles}, files
     * whose last real descriptor went with the process.
     */
    public SysResult exit(Process process, List<KFile> hostFiles) {
        Task task = process.mainTask();
        enter(task, "do_exit");
        // exit_mmap: in address order, and mappings go top down, so mostly the newest first
        for (Vma vma : process.takeMappingsByAddress()) {
            removeVma(vma);
        }
        FdTable files = process.files();
        int top = files.highWater();
        for (int fd = 0; fd < top; fd++) {
            KFile f = files.remove(fd);
            if (f != null) {
                f.fput("close_files");
            }
        }
        for (KFile f : hostFiles) {
            f.fput("close_files");
        }
        runTaskWork(task);
        task.killTaskWork();
        process.markExited();
        kernel.removeProcess(process);
        SysResult r = leave(task, SysResult.ok());
        kernel.setCurrent(null);
        return r;
    }
}
