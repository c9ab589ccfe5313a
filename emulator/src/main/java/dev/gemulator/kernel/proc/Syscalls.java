package dev.gemulator.kernel.proc;

import dev.gemulator.kernel.Clock;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.SleepInterrupted;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.drm.DrmDevice;
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

    // --- entry and exit ---

    private void enter(Task task, String syscall) {
        runDelayedFput();
        kernel.setCurrent(task);
        task.setError(Errno.OK, "");
        kernel.point(syscall, StepKind.SYSCALL_ENTER, null);
    }

    private SysResult leave(Task task, SysResult result) {
        runTaskWork(task);
        kernel.point("syscall_exit_to_user_mode", StepKind.SYSCALL_EXIT, null);
        for (Lock l : List.copyOf(task.held())) {
            kernel.observer().lockHeldAtSyscallExit(task, l);
        }
        return result.withMessage(task.errorMessage());
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
                java.util.Collections.reverse(round);
            }
            for (KFile f : round) {
                f.release();
            }
        }
    }

    /** The delayed-fput work item, run by a kernel worker before the next system call. */
    public void runDelayedFput() {
        if (kernel.delayedFput().isEmpty()) {
            return;
        }
        Task saved = kernel.current();
        kernel.setCurrent(kworker);
        KFile f;
        while ((f = kernel.delayedFput().poll()) != null) {
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
        String kind = what instanceof DmaBuf ? "dmabuf" : what instanceof dev.gemulator.kernel.drm.DrmFile ? "drm"
                : what instanceof dev.gemulator.kernel.dmabuf.SyncFile ? "sync_file"
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
            long r = f.ops().llseek(f, offset, whence);
            if (r < 0) {
                Errno e = Errno.byNumber((int) -r);
                result = SysResult.err(e, e == Errno.ESPIPE ? "a " + f.ops().name() + " file cannot seek" : "");
            } else {
                f.setPosition(r);
                result = SysResult.ok(r);
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
        Errno e = f.ops().mmap(f, vma);
        if (!e.isOk()) {
            vma.file().fput("mmap_region");
            return SysResult.err(e, "");
        }
        long id = task.process().takeMapId();
        vma.setMapId(id);
        vma.setStart(task.process().unmappedAreaTopdown(aligned));
        task.process().mappings().put(id, vma);
        return SysResult.ok(id);
    }

    /** munmap(2) of a map id. Errors: EINVAL for an unknown or unmapped id. */
    public SysResult munmap(Task task, long mapId) {
        enter(task, "__vm_munmap");
        Vma vma = task.process().mappings().remove(mapId);
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

    private Vma checkAccess(Task task, long mapId, long offset, long length, String what) {
        Vma vma = task.process().mappings().get(mapId);
        if (vma == null) {
            task.setError(Errno.EINVAL, "no mapping with id " + mapId);
            return null;
        }
        if (Long.compareUnsigned(length, MAX_ACCESS_BYTES) > 0) {
            task.setError(Errno.E2BIG, "at most 1 MiB per " + what);
            return null;
        }
        if (Long.compareUnsigned(offset, vma.lengthBytes()) > 0 || length > vma.lengthBytes() - offset) {
            task.setError(Errno.EFAULT, what + " of " + length + " bytes at " + Long.toUnsignedString(offset)
                    + " is outside the mapping of " + vma.lengthBytes() + " bytes");
            return null;
        }
        return vma;
    }

    /** A load of {@code length} bytes through a mapping. Errors: EINVAL, E2BIG, EFAULT. */
    public SysResult readMap(Task task, long mapId, long offset, long length) {
        enter(task, "user_read");
        Vma vma = checkAccess(task, mapId, offset, length, "read");
        if (vma == null) {
            return leave(task, SysResult.err(task.lastError(), task.errorMessage()));
        }
        byte[] out = new byte[(int) length];
        vma.object().readBytes(offset, out);
        return leave(task, SysResult.data(out));
    }

    /** A store of {@code data} through a mapping. Errors: EINVAL, E2BIG, EFAULT. */
    public SysResult writeMap(Task task, long mapId, long offset, byte[] data) {
        enter(task, "user_write");
        Vma vma = checkAccess(task, mapId, offset, data.length, "write");
        if (vma == null) {
            return leave(task, SysResult.err(task.lastError(), task.errorMessage()));
        }
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
        DmaBuf buf = DmaBuf.export(kernel, DmaBuf.FOREIGN_OPS, null, Uapi.pageAlign(sizeBytes), Uapi.O_RDWR,
                null, "dma_buf_export");
        if (buf == null) {
            return leave(task, SysResult.err(Errno.ENOMEM, task.errorMessage()));
        }
        int fd = DmaBuf.fd(kernel, buf, "dma_buf_fd");
        if (fd < 0) {
            buf.put("dma_buf_fd");
            return leave(task, SysResult.err(Errno.EMFILE, "no free fd"));
        }
        return leave(task, SysResult.ok(fd));
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
        enter(task, "hrtimer_nanosleep");
        if (millis < 0) {
            return leave(task, SysResult.err(Errno.EINVAL, "negative sleep"));
        }
        sleepUntil(kernel.clock().nowNanos() + millis * 1_000_000);
        return leave(task, SysResult.ok());
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
     * do_exit: the address space goes first (each mapping drops its object
     * and file), then every fd in increasing order, then the task work that
     * the final puts queued. Later final puts go to the delayed-fput list.
     */
    public SysResult exit(Process process) {
        Task task = process.mainTask();
        enter(task, "do_exit");
        // exit_mmap: in address order, and mappings go top down, so mostly the newest first
        List<Vma> maps = process.mappingsByAddress();
        process.mappings().clear();
        for (Vma vma : maps) {
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
        runTaskWork(task);
        task.killTaskWork();
        process.markExited();
        kernel.removeProcess(process);
        SysResult r = leave(task, SysResult.ok());
        kernel.setCurrent(null);
        return r;
    }
}
