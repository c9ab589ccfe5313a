package dev.gemulator.server;

import com.google.protobuf.ByteString;
import dev.gemulator.Machine;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Executes protocol system calls (gemulator.v1.Syscall) on a machine on
 * behalf of named processes: the one place where the wire's messages meet the
 * kernel model. Processes are created the first time a name is used and
 * identified by name only. Not thread-safe: callers serialize.
 */
public final class SyscallDispatcher {
    private final Machine machine;
    private final Syscalls sys;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<Process, Map<Integer, Task>> threads = new HashMap<>();
    /** Fds other processes sent each process that it has not picked up with recv_fd yet, oldest first. */
    private final Map<Process, java.util.ArrayDeque<Passed>> inboxes = new HashMap<>();

    /** An fd that arrived in a process by send_fd: its number there and the file it was then. */
    private record Passed(int fd, dev.gemulator.kernel.vfs.KFile file) {
    }

    /** Fds a process may have waiting to be received; older ones are forgotten (they stay open). */
    public static final int MAX_UNRECEIVED = 1024;

    public SyscallDispatcher(Machine machine) {
        this(machine, dev.gemulator.kernel.proc.Process.DEFAULT_FD_LIMIT);
    }

    /** Processes get {@code fdLimit} as their RLIMIT_NOFILE. */
    public SyscallDispatcher(Machine machine, int fdLimit) {
        this.machine = machine;
        this.sys = machine.sys();
        this.fdLimit = fdLimit;
    }

    private final int fdLimit;

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
        Process p = processes.remove(processName);
        if (p != null) {
            threads.remove(p);
            inboxes.remove(p);
        }
        if (p != null && !p.exited()) {
            sys.exit(p);
        }
    }

    /** Threads a process may have besides its first (clone's EAGAIN beyond, as at RLIMIT_NPROC). */
    public static final int MAX_THREADS = 4096;

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
            if (mine.size() >= MAX_THREADS) {
                return null;
            }
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

    /** A thread of the process starts: from now on its requests run as a kernel task of their own. */
    public void threadStart(String processName, int thread, String name) {
        task(process(processName), thread, name);
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
        Process p = process(processName);
        Task t = task(p, thread, "");
        if (t == null) {
            return SyscallResult.newBuilder().setErrno(dev.gemulator.kernel.Errno.EAGAIN.number())
                    .setMessage("process " + processName + " has its maximum of " + MAX_THREADS + " threads").build();
        }
        Object r = switch (call.getCallCase()) {
            case OPEN -> sys.open(t, call.getOpen().getNode());
            case CLOSE -> sys.close(t, call.getClose().getFd());
            case DUP -> sys.dup(t, call.getDup().getFd());
            case SEND_FD -> sendFd(p, t, call.getSendFd());
            case RECV_FD -> recvFd(p);
            case EXIT -> {
                processes.remove(processName);
                threads.remove(p);
                inboxes.remove(p);
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
            case SLEEP -> sys.sleep(t, call.getSleep().getMilliseconds());
            case IOCTL -> {
                var io = call.getIoctl();
                var mem = WireIoctl.memory(io);
                yield WireIoctl.answer(io, mem, sys.ioctl(t, io.getFd(), io.getRequest(), io.getArg(), mem));
            }
            case CALL_NOT_SET -> SysResult.err(dev.gemulator.kernel.Errno.ENOSYS, "empty system call");
        };
        return r instanceof SyscallResult answered ? answered : toProto((SysResult) r);
    }

    /**
     * SCM_RIGHTS to the process named in the call: as in gemscript, a name
     * that has made no call yet is a new process, created with the fd in its
     * table; the receiver picks the number up with recv_fd unless the
     * sender hands it over itself.
     */
    private SysResult sendFd(Process from, Task t, dev.gemulator.proto.v1.SendFd send) {
        String name = send.getToProcess();
        if (!name.matches("[A-Za-z][A-Za-z0-9_]{0,63}")) {
            return SysResult.err(dev.gemulator.kernel.Errno.EINVAL, "'" + abbreviate(name)
                    + "' is no process name (a letter, then letters, digits and underscores)");
        }
        if (name.equals(from.name())) {
            return SysResult.err(dev.gemulator.kernel.Errno.EINVAL, "a process sends fds to another process, not itself");
        }
        Process to = process(name);
        SysResult r = sys.sendFd(t, send.getFd(), to.mainTask());
        if (r.isOk() && !send.getHanded()) {
            var box = inboxes.computeIfAbsent(to, q -> new java.util.ArrayDeque<>());
            if (box.size() >= MAX_UNRECEIVED) {
                box.removeFirst();
            }
            box.addLast(new Passed((int) r.v0(), to.files().get(r.v0())));
        }
        return r;
    }

    /** The oldest fd sent to {@code p} that is still what it was sent as: its number and kind; EAGAIN when none. */
    private SysResult recvFd(Process p) {
        var box = inboxes.getOrDefault(p, new java.util.ArrayDeque<>());
        while (!box.isEmpty()) {
            Passed f = box.removeFirst();
            if (p.files().get(f.fd()) == f.file()) {
                Object kind = f.file().privateData();
                return new SysResult(dev.gemulator.kernel.Errno.OK, f.fd(), 0, 0, kind instanceof dev.gemulator.kernel.dmabuf.DmaBuf ? "dmabuf"
                        : kind instanceof dev.gemulator.kernel.drm.DrmFile ? "drm"
                        : kind instanceof dev.gemulator.kernel.dmabuf.SyncFile ? "sync_file" : "file", null, "");
            }
        }
        return SysResult.err(dev.gemulator.kernel.Errno.EAGAIN, "no fd was sent to " + p.name() + " that it has not received");
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
