package dev.gemulator.server;

import com.google.protobuf.ByteString;
import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.KObject;
import dev.gemulator.kernel.KernelObserver;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.dmabuf.DmaFence;
import dev.gemulator.kernel.proc.Credentials;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.vfs.KFile;
import dev.gemulator.proto.v1.ShimHello;
import dev.gemulator.proto.v1.Sleep;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.server.shim.HostCalls;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Executes protocol system calls (gemulator.v1.Syscall) on a machine on
 * behalf of named processes: the one place where the wire's messages meet the
 * kernel model. Processes are created the first time a name is used and
 * identified by name only. Not thread-safe: callers serialize.
 *
 * <p>With {@link Limits}, it also answers for what the machine as a whole
 * runs out of before the call reaches the kernel, as the kernel would: a
 * thread past the process's or the machine's (EAGAIN), a file past the
 * machine's open files (ENFILE), a fence past the machine's (ENOMEM), a
 * mapping past the process's or the machine's (ENOMEM). Fds pass only on a
 * channel the receiving process opened for the sender ({@link
 * dev.gemulator.kernel.proc.FdChannel}).
 */
public final class SyscallDispatcher {
    private final Machine machine;
    private final Syscalls sys;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<Process, Map<Integer, Task>> threads = new HashMap<>();
    private final Limits limits;
    private final LiveCounts live = new LiveCounts();
    private int threadCount;
    private final HostCalls host;

    public SyscallDispatcher(Machine machine) {
        this(machine, Process.DEFAULT_FD_LIMIT);
    }

    /** Processes get {@code fdLimit} as their RLIMIT_NOFILE. */
    public SyscallDispatcher(Machine machine, int fdLimit) {
        this(machine, fdLimit, null);
    }

    /** As above, and the machine-wide {@code limits} (null: none). */
    public SyscallDispatcher(Machine machine, int fdLimit, Limits limits) {
        this.machine = machine;
        this.sys = machine.sys();
        this.fdLimit = fdLimit;
        this.limits = limits;
        machine.observe(live);
        this.host = new HostCalls(machine);
        host.adopter(p -> processes.put(p.name(), p));
    }

    /** The calls of programs behind the C shim (host processes). */
    public HostCalls host() {
        return host;
    }

    /** Whether the process with this name is a program behind the C shim. */
    public boolean isHost(String name) {
        Process p = processes.get(name);
        return p != null && p.host() != null;
    }

    /** The live process with this name, or null (none is made). */
    public Process live(String name) {
        Process p = processes.get(name);
        return p == null || p.exited() ? null : p;
    }

    /**
     * A connection of a program behind the C shim says who it is (see
     * {@link dev.gemulator.server.shim.HostCalls#hello}); a thread joining
     * gets its task.
     */
    public HostCalls.Joined shimHello(String name, ShimHello hello,
            Credentials peer, long connection) {
        var joined = host.hello(name, hello, peer, connection, this::live, p -> processes.put(p.name(), p));
        if (joined.refusal() == null && joined.thread() > 0) {
            task(joined.process(), joined.thread(), joined.process().name() + ".t" + joined.thread());
        }
        return joined;
    }

    private final int fdLimit;

    /** Counts the machine's live files and fences (as the kernel's allocators would know them). */
    static final class LiveCounts implements KernelObserver {
        private long files;
        private long fences;

        @Override
        public void created(KObject object) {
            if (object instanceof KFile) {
                files++;
            } else if (object instanceof DmaFence) {
                fences++;
            }
        }

        @Override
        public void freed(String function, KObject object) {
            if (object instanceof KFile) {
                files--;
            } else if (object instanceof DmaFence) {
                fences--;
            }
        }
    }

    /** Live fences of the machine. */
    public long liveFences() {
        return live.fences;
    }

    /** Threads of all processes besides their first. */
    public int threadCount() {
        return threadCount;
    }

    public Machine machine() {
        return machine;
    }

    /** The process with this name, created on first use. */
    public Process process(String name) {
        Process p = processes.get(name);
        if (p == null || p.exited()) {
            p = sys.spawn(name);
            p.files().setLimit(fdLimit);
            processes.put(name, p);
        }
        return p;
    }

    /** Ends the process with this name if it is alive (its connection went away). */
    public void exitIfLive(String processName) {
        exitIfLive(processName, 0);
    }

    /**
     * As above; for a program behind the shim, {@code connection} is the
     * main connection that went (0: any), which ends the process only if it
     * is still the process's.
     */
    public void exitIfLive(String processName, long connection) {
        Process h = processes.get(processName);
        if (h != null && h.host() != null) {
            if (host.disconnected(h, connection)) {
                processes.remove(processName, h);
                forgetThreads(h);
            }
            return;
        }
        Process p = processes.remove(processName);
        if (p != null) {
            forgetThreads(p);
        }
        if (p != null && !p.exited()) {
            sys.exit(p);
        }
    }

    /** Host processes gone while they ran an exec that never connected: their exit. */
    public void exitLostInExec() {
        for (Process p : host.lostInExec()) {
            host.exit(p);
            processes.remove(p.name(), p);
            forgetThreads(p);
        }
    }

    /** Threads a process may have besides its first without limits (clone's EAGAIN beyond, as at RLIMIT_NPROC). */
    public static final int MAX_THREADS = 4096;

    private void forgetThreads(Process p) {
        Map<Integer, Task> gone = threads.remove(p);
        if (gone != null) {
            threadCount -= gone.size();
        }
    }

    /** Why a process may not have another thread, or null when it may. */
    private String noMoreThreads(Map<Integer, Task> mine) {
        int perProcess = limits == null ? MAX_THREADS : limits.maxThreadsPerProcess();
        if (mine.size() >= perProcess) {
            return "has its maximum of " + perProcess + " threads";
        }
        if (limits != null && threadCount >= limits.maxThreads()) {
            return "cannot have another thread: the machine has its maximum of " + limits.maxThreads();
        }
        return null;
    }

    /**
     * The kernel task of thread {@code thread} of the process (0 is its main
     * thread), created on first use; null when the process has all the
     * threads it may have.
     */
    private Task task(Process p, int thread, String name) {
        if (thread == 0) {
            return p.mainTask();
        }
        Map<Integer, Task> mine = threads.computeIfAbsent(p, q -> new HashMap<>());
        Task t = mine.get(thread);
        if (t == null) {
            if (noMoreThreads(mine) != null) {
                return null;
            }
            threadCount++;
            // named within its process, so that two processes' "Thread-0" stay apart in traces and reports
            t = p.newTask(name.isEmpty() ? p.name() + ".t" + thread
                    : name.startsWith(p.name() + ".") ? name : p.name() + "." + name);
            mine.put(thread, t);
        }
        return t;
    }

    /** The name of the kernel task a thread's requests run as, or null before it has one. */
    public String taskName(String processName, int thread) {
        Process p = processes.get(processName);
        if (p == null) {
            return null;
        }
        if (thread == 0) {
            return p.mainTask().name();
        }
        Task t = threads.getOrDefault(p, Map.of()).get(thread);
        return t == null ? null : t.name();
    }

    /**
     * A thread of the process starts: from now on its requests run as a
     * kernel task of their own, which this returns (null when the process
     * has all the threads it may have).
     */
    public Task threadStart(String processName, int thread, String name) {
        return task(process(processName), thread, name);
    }

    /**
     * A thread of the process ended. Its kernel task has nothing left to do
     * (every request ran to its syscall exit, task work included); the
     * thread id may be used again for a new thread.
     */
    public void threadExit(String processName, int thread) {
        Process p = processes.get(processName);
        if (p != null && thread != 0) {
            Map<Integer, Task> mine = threads.get(p);
            Task t = mine == null ? null : mine.remove(thread);
            if (t != null) {
                threadCount--;
                p.endTask(t);
            }
        }
    }

    /** Runs {@code call} for the main thread of process {@code processName}. */
    public SyscallResult execute(String processName, Syscall call) {
        return execute(processName, 0, call);
    }

    /** Runs {@code call} for thread {@code thread} of process {@code processName}. */
    public SyscallResult execute(String processName, int thread, Syscall call) {
        Process h = processes.get(processName);
        if (h != null && h.host() != null) {
            if (h.exited()) {
                return SyscallResult.newBuilder().setErrno(Errno.ESRCH.number())
                        .setMessage("process " + processName + " has exited").build();
            }
            Task t = task(h, thread, h.name() + ".t" + thread);
            if (t == null) {
                return tooManyThreads(h);
            }
            SyscallResult r = host.execute(h, t, call, c -> run(h, t, processName, c));
            if (h.exited()) {
                processes.remove(processName, h);
                forgetThreads(h);
            }
            return r;
        }
        Process p = process(processName);
        Task t = task(p, thread, "");
        if (t == null) {
            return tooManyThreads(p);
        }
        return run(p, t, processName, call);
    }

    private SyscallResult tooManyThreads(Process p) {
        return SyscallResult.newBuilder().setErrno(Errno.EAGAIN.number())
                .setMessage("process " + p.name() + " " + noMoreThreads(threads.getOrDefault(p, Map.of()))).build();
    }

    /** The calls every process makes, on the model (after what the machine as a whole has run out of). */
    private SyscallResult run(Process p, Task t, String processName, Syscall call) {
        SysResult refused = machineLimit(p, call);
        if (refused != null) {
            return toProto(refused);
        }
        Object r = switch (call.getCallCase()) {
            case OPEN -> sys.open(t, call.getOpen().getNode());
            case CLOSE -> sys.close(t, call.getClose().getFd());
            case DUP -> sys.dup(t, call.getDup().getFd());
            case SEND_FD -> {
                // SCM_RIGHTS needs a peer at the other end of a socket: a channel the receiver opened for us
                Process to = processes.get(call.getSendFd().getToProcess());
                yield to == null || to.exited()
                        ? SysResult.err(Errno.ESRCH, "no live process '"
                                + abbreviate(call.getSendFd().getToProcess()) + "' to send fd to")
                        : sys.sendFdOn(t, call.getSendFd().getFd(), to);
            }
            case CHANNEL_OPEN -> {
                String peer = call.getChannelOpen().getPeer();
                yield Limits.PROCESS_NAME.matcher(peer).matches() ? sys.channelOpen(t, peer)
                        : SysResult.err(Errno.EINVAL, "'" + abbreviate(peer)
                                + "' is no process name");
            }
            case RECV_FD -> call.getRecvFd().hasFd() ? sys.recvFd(t, call.getRecvFd().getFd()) : sys.recvFdAny(t);
            case EXIT -> {
                processes.remove(processName);
                forgetThreads(p);
                yield sys.exit(p);
            }
            case LSEEK -> sys.lseek(t, call.getLseek().getFd(), call.getLseek().getOffset(), call.getLseek().getWhence());
            case MMAP -> sys.mmap(t, call.getMmap().getFd(), call.getMmap().getOffset(), call.getMmap().getLength());
            case MUNMAP -> sys.munmap(t, call.getMunmap().getMap());
            case WRITE -> sys.writeMap(t, call.getWrite().getMap(), call.getWrite().getOffset(),
                    call.getWrite().getData().toByteArray());
            case READ -> sys.readMap(t, call.getRead().getMap(), call.getRead().getOffset(), call.getRead().getLength());
            case POLL -> sys.poll(t, call.getPoll().getFd(), call.getPoll().getEvents(), call.getPoll().getTimeoutMs());
            case DROP_ROOT -> sys.dropRoot(t);
            case SLEEP -> sleep(t, call.getSleep());
            case CLOCK_GETTIME -> sys.clockGettime(t, call.getClockGettime().getClock());
            case JOIN, WAIT_CHILD -> SysResult.err(Errno.ENOSYS, opName(call)
                    + " needs a seeded server (serve --seed): it waits for another thread or process of the run");
            case IOCTL -> {
                var io = call.getIoctl();
                var mem = WireIoctl.memory(io);
                yield WireIoctl.answer(io, mem, sys.ioctl(t, io.getFd(), io.getRequest(), io.getArg(), mem));
            }
            case DUP2 -> call.getDup2().getDup3()
                    ? sys.dup3(t, call.getDup2().getOldfd(), call.getDup2().getNewfd(), call.getDup2().getFlags())
                    : sys.dup2(t, call.getDup2().getOldfd(), call.getDup2().getNewfd());
            case FCNTL -> sys.fcntl(t, call.getFcntl().getFd(), call.getFcntl().getCmd(), call.getFcntl().getArg());
            case POLL_FDS -> {
                var pf = call.getPollFds();
                long[] fds = new long[pf.getFdsCount()];
                int[] events = new int[fds.length];
                for (int i = 0; i < fds.length; i++) {
                    fds[i] = pf.getFds(i).getFd();
                    events[i] = pf.getFds(i).getEvents();
                }
                yield sys.poll(t, fds, events, pf.getTimeoutMs());
            }
            case FORK, FORK_DONE, EXEC_START, CREDENTIALS, REAP, FILE_INFO, READ_FILE, MODULE ->
                    SysResult.err(Errno.ENOSYS, "only a program behind the C shim makes "
                            + call.getCallCase().name().toLowerCase(Locale.ROOT));
            case CALL_NOT_SET -> SysResult.err(Errno.ENOSYS, "empty system call");
        };
        return r instanceof SyscallResult answered ? answered : toProto((SysResult) r);
    }

    /** nanosleep: milliseconds plus nanoseconds, EINVAL when either is negative or the sum overflows. */
    private SysResult sleep(Task t, Sleep s) {
        long ms = s.getMilliseconds();
        long ns = s.getNanoseconds();
        if (ms < 0 || ns < 0) {
            return sys.nanosleep(t, -1);
        }
        long total = ms > (Long.MAX_VALUE - ns) / 1_000_000 ? Long.MAX_VALUE : ms * 1_000_000 + ns;
        return sys.nanosleep(t, total);
    }

    private static String opName(Syscall call) {
        return call.getCallCase().name().toLowerCase(Locale.ROOT);
    }

    /**
     * What the machine as a whole has run out of for this call, answered as
     * the kernel would, or null (no limits, or room).
     */
    private SysResult machineLimit(Process p, Syscall call) {
        if (limits == null) {
            return null;
        }
        int request = call.hasIoctl() ? call.getIoctl().getRequest() : 0;
        boolean makesFile = request == Ioctl.PrimeHandleToFd.CMD || request == Ioctl.DmaBufExportSyncFile.CMD;
        boolean makesFence = request == Ioctl.VgemFenceAttach.CMD || request == Ioctl.DmaBufExportSyncFile.CMD
                || request == Ioctl.DmaBufImportSyncFile.CMD;
        if (makesFile && live.files >= limits.maxFiles()) {
            return SysResult.err(Errno.ENFILE, "the machine has its maximum of "
                    + limits.maxFiles() + " open files");
        }
        if (makesFence && live.fences >= limits.maxFences()) {
            return SysResult.err(Errno.ENOMEM, "the machine has its maximum of "
                    + limits.maxFences() + " fences");
        }
        switch (call.getCallCase()) {
            case OPEN, CHANNEL_OPEN -> {
                if (live.files >= limits.maxFiles()) {
                    return SysResult.err(Errno.ENFILE, "the machine has its maximum of "
                            + limits.maxFiles() + " open files");
                }
            }
            case MMAP -> {
                if (p.mappings().size() >= limits.maxMapsPerProcess()) {
                    return SysResult.err(Errno.ENOMEM, "process " + p.name()
                            + " has its maximum of " + limits.maxMapsPerProcess() + " mappings");
                }
                long maps = 0;
                for (Process q : processes.values()) {
                    maps += q.mappings().size();
                }
                if (maps >= limits.maxMaps()) {
                    return SysResult.err(Errno.ENOMEM, "the machine has its maximum of "
                            + limits.maxMaps() + " mappings");
                }
            }
            default -> {
            }
        }
        return null;
    }

    private static String abbreviate(String name) {
        return name.length() <= 64 ? name : name.substring(0, 64) + "...";
    }

    static SyscallResult toProto(SysResult r) {
        SyscallResult.Builder b = SyscallResult.newBuilder().setErrno(r.errno().number());
        if (!r.isOk()) {
            return b.setMessage(r.message() == null ? "" : r.message()).build();
        }
        b.addValues(r.v0()).addValues(r.v1()).addValues(r.v2());
        if (r.text() != null) {
            b.setText(r.text());
        }
        if (r.data() != null) {
            b.setData(ByteString.copyFrom(r.data()));
        }
        return b.build();
    }
}
