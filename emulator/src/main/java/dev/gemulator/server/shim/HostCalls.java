package dev.gemulator.server.shim;

import com.google.protobuf.ByteString;
import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.drm.DrmFiles;
import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.proc.Credentials;
import dev.gemulator.kernel.proc.FdTable;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.kernel.proc.Vma;
import dev.gemulator.kernel.uapi.IoctlTable;
import dev.gemulator.kernel.vfs.KFile;
import dev.gemulator.kernel.vfs.NullFileOps;
import dev.gemulator.proto.v1.FdField;
import dev.gemulator.proto.v1.FileRef;
import dev.gemulator.proto.v1.ShimHello;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The system calls of programs behind the C shim (host processes), on the
 * model: one place where a real process's descriptors, credentials, fork,
 * exec and mappings meet the emulated kernel. Runs on the simulation thread.
 *
 * <p>Files. An emulated file of a program is an anchor ({@link Anchors}):
 * the file's model reference that all its real descriptors share is held by
 * the binding {@code ino -> file} here. A call lends the files it names to
 * the process's table at their real numbers ({@link FdTable#lend}); a file
 * the call makes takes the real number the program reserved (its new
 * anchor), and its installation's reference becomes the binding. When the
 * program says it closed a descriptor and the anchor is gone, that was the
 * last descriptor anywhere: the reference goes, in the closing task. Exit
 * and exec look for anchors that went with the process.
 *
 * <p>Processes. fork: the parent asks first (Fork), the server makes the
 * child (Syscalls.fork: shared files, copied mappings), the child's
 * connection presents the token; exec: the process announces it, its
 * connection may close, the new program's connection continues it; names
 * are deterministic: a child is its parent's name, "_", and the parent's
 * count of children.
 */
public final class HostCalls {
    private final Machine machine;
    private final Syscalls sys;
    private Anchors anchors;
    private TmpfsShmem shmem;
    /**
     * ino of an anchor -> the file whose descriptors are that anchor's, in
     * the order they were bound (the same in a seeded run and its replay,
     * whose inodes are the trace's labels).
     */
    private final Map<Long, KFile> files = new LinkedHashMap<>();
    private HostFacts facts = HostFacts.real(() -> anchors);
    private final Map<Process, State> states = new HashMap<>();
    private final Map<Long, Process> forks = new HashMap<>();
    private long nextToken = 1;
    private final List<Integer> passed = new ArrayList<>();
    private final List<TmpfsShmem.TmpfsFile> passedFiles = new ArrayList<>();
    private KFile other;
    private DeviceTree tree;
    private boolean moduleLoaded = true;

    /** What the server keeps of a host process besides the model's Process. */
    private static final class State {
        int children;
        boolean execPending;
        boolean connected = true;
        long forkToken;
        /** The process's main connection now (an exec's new program has a new one). */
        long connection;
    }

    public HostCalls(Machine machine) {
        this.machine = machine;
        this.sys = machine.sys();
    }

    /** The anchors socket (set once the Unix socket listens). */
    public void anchors(Anchors anchors) {
        this.anchors = anchors;
    }

    public Anchors anchors() {
        return anchors;
    }

    /** Where the answers about anchors and credentials come from (a seeded run records or replays them). */
    public void facts(HostFacts f) {
        this.facts = f;
    }

    /** The device tree programs see (its module entries go and come with the module). */
    public void tree(DeviceTree tree) {
        this.tree = tree;
    }

    /** Real shared memory for the objects made from now on. */
    public void shmem(TmpfsShmem shmem) {
        this.shmem = shmem;
        machine.kernel().devices().forEach(d -> d.setShmemMount(shmem));
    }

    public TmpfsShmem shmem() {
        return shmem;
    }

    // --- connections ---

    /** What a shim Hello comes to: the process and thread it is, or why not. */
    public record Joined(Process process, int thread, String refusal) {
        static Joined refused(String why) {
            return new Joined(null, 0, why);
        }
    }

    /**
     * A connection of a program behind the shim says who it is. {@code peer}
     * is its SO_PEERCRED (pid, uid, gid); {@code byName} finds a live
     * process by name; {@code adopt} registers a new one under its name.
     */
    public Joined hello(String name, ShimHello h, Credentials peer, long connection, Function<String, Process> byName,
            Consumer<Process> adopt) {
        if (h.getThread() > 0) {
            Process p = byName.apply(name);
            if (p == null || p.host() == null || p.exited()) {
                return Joined.refused("no live process " + name + " for thread " + h.getThread() + " to join");
            }
            if (p.host().pid() != peer.pid()) {
                return Joined.refused("thread " + h.getThread() + " of " + name + " comes from pid " + peer.pid()
                        + ", not " + p.host().pid());
            }
            return new Joined(p, h.getThread(), null);
        }
        if (h.getForkToken() != 0) {
            Process child = forks.remove(h.getForkToken());
            if (child == null || child.exited()) {
                return Joined.refused("no forked child with token " + h.getForkToken());
            }
            child.setHost(new Credentials(peer.pid(), child.host().uid(), child.host().gid(), child.host().capSysAdmin()));
            state(child).forkToken = 0;
            state(child).connection = connection;
            return new Joined(child, 0, null);
        }
        if (h.getExec()) {
            Process p = byName.apply(name);
            State s = p == null ? null : states.get(p);
            if (p == null || s == null || !s.execPending || p.host().pid() != peer.pid()) {
                return Joined.refused("process " + name + " did not announce an exec from pid " + peer.pid());
            }
            s.execPending = false;
            s.connected = true;
            s.connection = connection;
            Task t = p.mainTask();
            sys.exec(t);
            closeGone(t);
            return new Joined(p, 0, null);
        }
        String given = name;
        if (!h.getParent().isEmpty()) {
            Process parent = byName.apply(h.getParent());
            if (parent == null || parent.host() == null) {
                return Joined.refused("no process " + h.getParent() + " to be a child of");
            }
            given = parent.name() + "_" + (++state(parent).children);
        }
        String unique = given;
        for (int n = 2; byName.apply(unique) != null; n++) {
            unique = given + "_" + n;
        }
        if (unique.length() > 64) {
            return Joined.refused("process name " + unique + " is too long");
        }
        Process p = sys.spawnHost(unique, facts.credentials(peer.pid(), peer));
        State s = new State();
        s.connection = connection;
        states.put(p, s);
        adopt.accept(p);
        return new Joined(p, 0, null);
    }

    private State state(Process p) {
        return states.computeIfAbsent(p, q -> new State());
    }

    /**
     * The process's main connection went away. Unless it announced an exec,
     * that is its exit: the model's exit, with the files whose last
     * descriptors went with it. Returns whether it exited.
     */
    public boolean disconnected(Process p, long connection) {
        State s = states.get(p);
        if (s != null && connection != 0 && s.connection != connection) {
            return false; // an earlier main connection (before an exec) went: the process lives on
        }
        if (s != null && s.execPending) {
            s.connected = false;
            return false;
        }
        exit(p);
        return true;
    }

    /** do_exit of a host process. */
    public void exit(Process p) {
        if (p.exited()) {
            return;
        }
        states.remove(p);
        sys.exit(p, goneFiles());
        forks.values().removeIf(c -> c == p);
    }

    /**
     * Processes that announced an exec, lost their connection and are no more
     * (their pid is gone: the new program never connected): their exit.
     */
    public List<Process> lostInExec() {
        List<Process> lost = new ArrayList<>();
        states.forEach((p, s) -> {
            if (s.execPending && !s.connected && !Files.exists(Path.of("/proc/" + p.pid()))) {
                lost.add(p);
            }
        });
        return lost;
    }

    /** Whether some process announced an exec and lost its connection (its pid is watched). */
    public boolean waitingForExec() {
        for (State s : states.values()) {
            if (s.execPending && !s.connected) {
                return true;
            }
        }
        return false;
    }

    /** An anchor went without the program saying so: its reference goes from kernel context (delayed fput). */
    public void anchorGone(long ino) {
        KFile f = files.remove(ino);
        if (f != null) {
            releaseDelayed(f);
        }
    }

    private void releaseDelayed(KFile f) {
        var k = machine.kernel();
        Task saved = k.current();
        k.setCurrent(null);
        try {
            f.fput("fput");
        } finally {
            k.setCurrent(saved);
        }
        sys.runDelayedFput();
    }

    /** The bound files whose anchors are gone, unbound, in the order they were bound. */
    private List<KFile> goneFiles() {
        List<KFile> gone = new ArrayList<>();
        var it = files.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (facts.goneAtExit(e.getKey())) {
                gone.add(e.getValue());
                it.remove();
            }
        }
        return gone;
    }

    /** Closes, in task {@code t}, every file whose anchor is gone (after an exec's close-on-exec). */
    private void closeGone(Task t) {
        for (KFile f : goneFiles()) {
            sys.closeHostFile(t, -1, f);
        }
    }

    // --- calls ---

    /** The descriptors the last call passes to the program (the reply says how many), taken once. */
    public List<Integer> takePassed() {
        List<Integer> l = List.copyOf(passed);
        passed.clear();
        return l;
    }

    /** The shmem files whose descriptors {@link #takePassed} returned, for {@link TmpfsShmem.TmpfsFile#passed}. */
    public List<TmpfsShmem.TmpfsFile> takePassedFiles() {
        List<TmpfsShmem.TmpfsFile> l = List.copyOf(passedFiles);
        passedFiles.clear();
        return l;
    }

    /**
     * Runs {@code call} of host process {@code p}, thread task {@code t}:
     * the shim's own calls here, the others through {@code plain} (the
     * dispatcher's) with the call's files lent.
     */
    public SyscallResult execute(Process p, Task t, Syscall call, Function<Syscall, SyscallResult> plain) {
        return switch (call.getCallCase()) {
            case FORK -> fork(p, t);
            case FORK_DONE -> forkDone(call.getForkDone().getToken(), call.getForkDone().getPid());
            case EXEC_START -> {
                state(p).execPending = !call.getExecStart().getFailed();
                yield ok(SysResult.ok());
            }
            case CREDENTIALS -> toProto(sys.setCredentials(t, facts.credentials(p.pid(), p.host())));
            case REAP -> reap(p, call.getReap().getPid());
            case FILE_INFO -> fileInfo(call.getFileInfo().getIno());
            case READ_FILE -> readFile(call.getReadFile().getPath());
            case MODULE -> module(call.getModule());
            case OPEN -> moduleLoaded ? withFiles(p, t, call, plain)
                    : toProto(SysResult.err(Errno.ENOENT, "no device node " + call.getOpen().getNode()
                            + ": the vgem module is unloaded"));
            case CLOSE -> close(t, call);
            case EXIT -> {
                exit(p);
                yield ok(SysResult.ok());
            }
            case DUP, DUP2, FCNTL, SEND_FD, RECV_FD, DROP_ROOT -> toProto(SysResult.err(Errno.ENOSYS, "a program behind the shim "
                    + "does " + call.getCallCase().name().toLowerCase(Locale.ROOT) + " with the real kernel"));
            default -> withFiles(p, t, call, plain);
        };
    }

    /** Runs a model call with the call's files lent, binds the file it made to its anchor. */
    private SyscallResult withFiles(Process p, Task t, Syscall call, Function<Syscall, SyscallResult> plain) {
        FdTable table = p.files();
        for (FileRef ref : call.getFilesList()) {
            switch (ref.getKind()) {
                case EMULATED -> {
                    KFile f = files.get(ref.getIno());
                    if (f != null) {
                        table.lend(ref.getFd(), f);
                    }
                }
                case OTHER -> table.lend(ref.getFd(), otherFile());
                default -> {
                }
            }
        }
        if (call.hasNewFile()) {
            table.offer(call.getNewFile().getFd());
        }
        SyscallResult r;
        try {
            r = plain.apply(call);
        } finally {
            bindInstalled(t, table.endCall(), call);
        }
        if (r.getErrno() == 0 && call.hasMmap()) {
            r = mapped(p, r);
        }
        return r;
    }

    /** The file a call installed becomes the binding of the anchor the program reserved for it. */
    private void bindInstalled(Task t, Map<Integer, KFile> installed, Syscall call) {
        installed.forEach((fd, f) -> {
            FileRef nf = call.hasNewFile() ? call.getNewFile() : null;
            if (nf != null && nf.getFd() == fd && facts.anchorLive(nf.getIno())) {
                KFile old = files.put(nf.getIno(), f);
                if (old != null) {
                    releaseDelayed(old);
                }
            } else {
                // the program gave no live anchor for it: nothing could ever close it
                sys.closeHostFile(t, fd, f);
            }
        });
    }

    /** /dev/null's kind of file: what a real descriptor that is no emulated file is to the model. */
    private KFile otherFile() {
        if (other == null) {
            other = new KFile(machine.kernel(), NullFileOps.INSTANCE, "(a file of the real kernel)", true, true, null);
        }
        return other;
    }

    /** close(2) of an emulated file's descriptor, after the real close: the last one releases. */
    private SyscallResult close(Task t, Syscall call) {
        int fd = call.getClose().getFd();
        for (FileRef ref : call.getFilesList()) {
            if (ref.getKind() == FileRef.Kind.EMULATED && facts.closedLast(ref.getIno())) {
                KFile f = files.remove(ref.getIno());
                if (f != null) {
                    return toProto(sys.closeHostFile(t, fd, f));
                }
            }
        }
        return ok(SysResult.ok());
    }

    /** mmap answered: the object's shmem file goes to the program, which maps it at page 0. */
    private SyscallResult mapped(Process p, SyscallResult r) {
        long mapId = r.getValues(0);
        Vma vma = p.mappings().get(mapId);
        GemObject obj = vma == null ? null : vma.object();
        if (obj == null || !(obj.shmemFile() instanceof TmpfsShmem.TmpfsFile tf)) {
            sys.munmap(p.mainTask(), mapId);
            return toProto(SysResult.err(Errno.ENODEV, shmem == null
                    ? "this server keeps object pages on its heap: programs cannot map them (serve --socket gives real shared memory)"
                    : "the object's pages are not in shared memory (made before the server had it)"));
        }
        passed.add(tf.passFd());
        passedFiles.add(tf);
        return r.toBuilder().setPassedFds(1).build();
    }

    private SyscallResult fork(Process p, Task t) {
        String childName = p.name() + "_" + (++state(p).children);
        SysResult r = sys.fork(t, childName);
        if (!r.isOk()) {
            return toProto(r);
        }
        Process child = null;
        for (Process q : machine.kernel().processes()) {
            if (q.name().equals(childName) && !q.exited()) {
                child = q;
            }
        }
        long token = nextToken++;
        forks.put(token, child);
        State s = state(child);
        s.forkToken = token;
        adopter.accept(child);
        return SyscallResult.newBuilder().addValues(token).setText(childName).build();
    }

    private Consumer<Process> adopter = p -> { };

    /** Where forked children are registered by name (the dispatcher's table). */
    public void adopter(Consumer<Process> adopt) {
        this.adopter = adopt;
    }

    private SyscallResult forkDone(long token, int pid) {
        Process child = forks.get(token);
        if (child == null) {
            // the child connected already (or never was)
            return ok(SysResult.ok());
        }
        if (pid < 0) {
            forks.remove(token);
            exit(child);
        } else {
            child.setHost(new Credentials(pid, child.host().uid(), child.host().gid(), child.host().capSysAdmin()));
        }
        return ok(SysResult.ok());
    }

    /** wait4 returned {@code pid}: that process is dead; its exit happens now if it has not yet. */
    private SyscallResult reap(Process self, int pid) {
        for (Process q : List.copyOf(machine.kernel().processes())) {
            if (q != self && q.host() != null && q.pid() == pid && !q.exited()) {
                exit(q);
            }
        }
        return ok(SysResult.ok());
    }

    /** Kind, rdev, size and inode of the file bound to an anchor (kind 0: no such file). */
    private SyscallResult fileInfo(long ino) {
        KFile f = files.get(ino);
        SyscallResult.Builder b = SyscallResult.newBuilder();
        if (f == null) {
            return b.addValues(0).addValues(0).addValues(0).addValues(0).build();
        }
        var drm = DrmFiles.drmFile(f);
        if (drm != null) {
            int minor = drm.minor().index();
            return b.addValues(1).addValues((226L << 8) | minor).addValues(0).addValues(f.id())
                    .setText(drm.minor().path()).build();
        }
        if (f.privateData() instanceof DmaBuf buf) {
            return b.addValues(2).addValues(0).addValues(buf.size()).addValues(buf.id()).setText("/dmabuf:" + buf.name())
                    .build();
        }
        return b.addValues(3).addValues(0).addValues(0).addValues(f.id()).setText("anon_inode:sync_file").build();
    }

    /**
     * libkmod's calls for a module: "vgem" is the device's. Unloading it
     * while it has references answers EAGAIN (delete_module's EWOULDBLOCK);
     * unloaded, its nodes, sysfs and debugfs are gone and opens answer ENOENT
     * until it is loaded again. Errors: ENOENT (another module, or vgem
     * unloaded), EEXIST (loading it loaded).
     */
    private SyscallResult module(dev.gemulator.proto.v1.Module m) {
        if (!m.getName().equals("vgem")) {
            return toProto(SysResult.err(Errno.ENOENT, "the emulated machine has no module " + m.getName()));
        }
        switch (m.getOp()) {
            case UNLOAD -> {
                if (!moduleLoaded) {
                    return toProto(SysResult.err(Errno.ENOENT, "vgem is not loaded"));
                }
                int refs = DeviceTree.moduleReferences(machine.kernel());
                if (refs > 0) {
                    return toProto(SysResult.err(Errno.EAGAIN, "vgem is in use: " + refs
                            + " references (open drm files and dma-bufs)"));
                }
                moduleLoaded = false;
                if (tree != null) {
                    tree.unload();
                }
                return ok(SysResult.ok());
            }
            case LOAD -> {
                if (moduleLoaded) {
                    return toProto(SysResult.err(Errno.EEXIST, "vgem is loaded"));
                }
                moduleLoaded = true;
                if (tree != null) {
                    tree.load();
                }
                return ok(SysResult.ok());
            }
            default -> {
                return SyscallResult.newBuilder().addValues(moduleLoaded ? 1 : 0)
                        .addValues(DeviceTree.moduleReferences(machine.kernel())).build();
            }
        }
    }

    /** A live file of the device tree (debugfs, the module's refcnt), rendered from the model now. */
    private SyscallResult readFile(String path) {
        String text = DeviceTree.render(machine.kernel(), path);
        if (text == null) {
            return toProto(SysResult.err(Errno.ENOENT, "no live file " + path + " in the emulated device's tree"));
        }
        return SyscallResult.newBuilder().setText(text).build();
    }

    /**
     * The credentials of real process {@code pid} from /proc/PID/status
     * (effective uid and gid, CAP_SYS_ADMIN in CapEff); {@code fallback}
     * when it cannot be read.
     */
    public static Credentials readCredentials(int pid, Credentials fallback) {
        try {
            int uid = fallback.uid();
            int gid = fallback.gid();
            boolean cap = fallback.capSysAdmin();
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                String[] f = line.split("\\s+");
                if (line.startsWith("Uid:") && f.length > 2) {
                    uid = Integer.parseInt(f[2]);
                } else if (line.startsWith("Gid:") && f.length > 2) {
                    gid = Integer.parseInt(f[2]);
                } else if (line.startsWith("CapEff:") && f.length > 1) {
                    cap = (Long.parseUnsignedLong(f[1], 16) & (1L << 21)) != 0;
                }
            }
            return new Credentials(pid, uid, gid, cap);
        } catch (IOException | RuntimeException e) {
            return new Credentials(pid, fallback.uid(), fallback.gid(), fallback.capSysAdmin());
        }
    }

    /** The fd fields of the ioctl table, for the Welcome. */
    public static List<FdField> fdFields() {
        List<FdField> l = new ArrayList<>();
        for (IoctlTable.Row<?> row : IoctlTable.rows()) {
            IoctlTable.FdFields f = IoctlTable.fdFields(row.cmd());
            if (f != null) {
                l.add(FdField.newBuilder().setRequest(row.cmd()).setIn(f.in()).setOut(f.out())
                        .setFlags(f.flags()).build());
            }
        }
        return l;
    }

    private static SyscallResult ok(SysResult r) {
        return toProto(r);
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
