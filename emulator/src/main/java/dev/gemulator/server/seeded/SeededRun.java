package dev.gemulator.server.seeded;

import com.google.protobuf.ByteString;
import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import dev.gemulator.kernel.Clock;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.SleepInterrupted;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.WaitQueue;
import dev.gemulator.kernel.proc.Credentials;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.proto.v1.Exit;
import dev.gemulator.proto.v1.ShimHello;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceRequest;
import dev.gemulator.sched.InterleavingScheduler;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.CallText;
import dev.gemulator.server.SyscallDispatcher;
import dev.gemulator.server.shim.Anchors;
import dev.gemulator.server.shim.DeviceTree;
import dev.gemulator.server.shim.HostFacts;
import dev.gemulator.server.shim.TmpfsShmem;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One seeded run of the device for real client programs. Every thread of
 * every client process is a thread of the interleaving scheduler, whose
 * body takes the thread's next event from its mailbox (a system call, the
 * creation of a thread, the thread's end, the loss of the connection) and
 * runs it; system calls are interleaved at the kernel model's preemption
 * points exactly as a gemscript {@code par} block's statements are.
 *
 * <p>A thread that is back in user space is runnable; when the strategy
 * picks it, it holds the baton until its next event arrives, so how fast the
 * programs and the network are never changes what happens. The entry
 * decision of its next call is taken as soon as the previous one returned
 * ({@link InterleavingScheduler#pointAhead}).
 *
 * <p>Names are deterministic: a process is the name it joined with; the k-th
 * thread that thread T creates is {@code T.tk}, counted in T's own order. The
 * run starts when the processes it expects have joined and ends when every
 * process has exited. A process whose connection is lost exits when one of
 * its threads would take its next event: its other threads end at their next
 * event, their sleeps end with EINTR, and the process's exit runs when they
 * are gone. Mailboxes are fed from any thread; everything else runs on the
 * run's threads, one at a time.
 */
public final class SeededRun {
    /** The exit status of a process whose connection was lost (killed by SIGKILL). */
    public static final int KILLED = 128 + 9;

    /**
     * How the run goes: the kernel profile, the seed and strategy (PCT's
     * depth and k), the processes it waits for (by name, in start order; or
     * empty and a count: the first {@code processCount} names, in name
     * order), whether it records a trace, what the trace header calls it,
     * decisions to replay (null: the strategy decides), after how long in
     * user space a thread is named on the log, and every process's
     * RLIMIT_NOFILE.
     */
    public record Config(Profile profile, long seed, Strategy.Name strategy, int pctDepth, long pctSteps,
            List<String> processes, int processCount, boolean trace, String description, int[] replayDecisions,
            long watchdogMillis, int fdLimit) {

        /** The same run with another seed (and no decisions to replay). */
        public Config withSeed(long s) {
            return new Config(profile, s, strategy, pctDepth, pctSteps, processes, processCount, trace, description,
                    null, watchdogMillis, fdLimit);
        }

        /** The same run following recorded decisions (replay, shrinking). */
        public Config replaying(int[] decisions) {
            return new Config(profile, seed, strategy, pctDepth, pctSteps, processes, processCount, trace, description,
                    decisions, watchdogMillis, fdLimit);
        }

        /** The same run, with a trace or without. */
        public Config tracing(boolean on) {
            return new Config(profile, seed, strategy, pctDepth, pctSteps, processes, processCount, on, description,
                    replayDecisions, watchdogMillis, fdLimit);
        }

        int expected() {
            return processes.isEmpty() ? processCount : processes.size();
        }
    }

    /** What a client thread takes from its mailbox. */
    sealed interface Event permits Call, Clone, End, Gone, Abort, ShimJoin {
    }

    /**
     * A program behind the C shim connected as this process: its ShimHello,
     * its real credentials (SO_PEERCRED), its connection's id. A forked
     * child's first event.
     */
    record ShimJoin(ShimHello hello, Credentials peer,
            long connection) implements Event {
    }

    /** The descriptors a call's reply passes (SCM_RIGHTS) and the shmem files to tell once they are passed. */
    public record Passed(List<Integer> fds, List<TmpfsShmem.TmpfsFile> files) {
        static final Passed NONE = new Passed(List.of(), List.of());
    }

    /** A system call; {@code reply} gets its result. */
    record Call(Syscall call, Consumer<SyscallResult> reply) implements Event {
    }

    /** The thread creates thread {@code child} (wire id {@code childId}). */
    record Clone(String child, int childId) implements Event {
    }

    /** The thread ended (ThreadExit). */
    record End() implements Event {
    }

    /** The process's connection was lost. */
    record Gone() implements Event {
    }

    /** The run is stopped from outside. */
    record Abort(String why) implements Event {
    }

    /**
     * What the run did: whether it started, why it was stopped (null when
     * it ran to its end), the checkers' reports, every process's exit
     * status (by name, in start order), its trace (empty without one) and
     * counts.
     */
    public record Result(long seed, boolean started, String abortReason, List<Report> reports,
            Map<String, Integer> exitStatuses, List<TraceRecord> trace, String traceHash, long steps, int decisions,
            long calls) {
        public boolean aborted() {
            return abortReason != null;
        }
    }

    /** A process of the run, from its first join to its exit. */
    private static final class Proc {
        final String name;
        /** Wire thread id to thread name; the main thread, 0, is the process's name. */
        final Map<Integer, String> names = new ConcurrentHashMap<>();
        /** How many threads each thread created so far (in its own order). */
        final Map<String, Integer> clones = new ConcurrentHashMap<>();
        volatile boolean connectionLost;
        /** Its main thread announced an exec (ExecStart) whose new program has not said Hello yet. */
        volatile boolean execing;
        // the rest belongs to the run's threads
        dev.gemulator.kernel.proc.Process process;
        final Set<String> live = new LinkedHashSet<>();
        final Set<String> ended = new HashSet<>();
        final Map<String, Task> tasks = new LinkedHashMap<>();
        boolean exiting;
        String exiter;
        Integer exitStatus;
        WaitQueue threadsGone;
        WaitQueue joins;
        /** A program behind the C shim: how its main connection said Hello (null: a Java client, or a forked child). */
        volatile ShimJoin shim;
        /** A forked child: the token its connection presents. */
        volatile long forkToken;
        /** The process that forked it (null for the run's first processes). */
        Proc parent;
        /** Its forked children, in fork order; those a WaitChild has reported. */
        final List<Proc> children = new ArrayList<>();
        final Set<String> waited = new HashSet<>();
        boolean exited;
        WaitQueue childExits;

        Proc(String name) {
            this.name = name;
            names.put(0, name);
        }
    }

    private final Config config;
    private final PrintStream log;
    private final Map<String, Proc> procs = new ConcurrentHashMap<>();
    private final List<String> joined = new ArrayList<>();
    private final Map<String, BlockingQueue<Event>> mailboxes = new ConcurrentHashMap<>();
    /** Threads that ended: a call sent to one is answered ESRCH at once. */
    private final Set<String> endedThreads = ConcurrentHashMap.newKeySet();
    /** Thread channels attached, as "process/id". */
    private final Set<String> channels = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<Result> finished = new CompletableFuture<>();
    private volatile boolean started;
    private volatile String abortReason;
    // owned by the run's threads (one at a time)
    private Machine machine;
    private SyscallDispatcher dispatcher;
    private InterleavingScheduler scheduler;
    private TraceRecorder recorder;
    private final Set<Task> interruptible = new HashSet<>();
    private int sequence;
    private long calls;
    private final List<String> order = new ArrayList<>();

    private final boolean strictReplay;
    private Anchors anchors;
    private TmpfsShmem shmem;
    private DeviceTree tree;
    /** What the reply being sent passes (set on the run's thread just before a reply). */
    private Passed passed = Passed.NONE;
    /** A replay: the host facts the trace recorded, answered in order (null: a run of real programs). */
    private ReplayedFacts replayed;
    /** The thread whose event the run is taking now (its name), for the host facts it records. */
    private String running;

    /** Programs behind the C shim: where their files anchor, where object pages go, their device tree. */
    void hostFiles(Anchors a, TmpfsShmem m,
            DeviceTree t) {
        this.anchors = a;
        this.shmem = m;
        this.tree = t;
    }

    /** The descriptors the reply being sent passes; read inside the reply callback (the run's thread). */
    public Passed passed() {
        return passed;
    }

    /**
     * A run waiting for its processes. Decisions to replay (shrinking) are
     * followed while they can be; past a decision that names a thread that
     * cannot run, the run goes on as if they had ended.
     */
    public SeededRun(Config config, PrintStream log) {
        this(config, log, false);
    }

    /** With {@code strictReplay}, such a decision ends the run with {@link Strategy.ReplayDiverged} (replay). */
    SeededRun(Config config, PrintStream log, boolean strictReplay) {
        this.strictReplay = strictReplay;
        this.config = config;
        this.log = log;
        if (config.expected() <= 0) {
            throw new IllegalArgumentException("a seeded run needs at least one process");
        }
    }

    public Config config() {
        return config;
    }

    public long seed() {
        return config.seed();
    }

    /** Completes when the run has ended (or was stopped before it started). */
    public CompletableFuture<Result> finished() {
        return finished;
    }

    public boolean started() {
        return started;
    }

    /** The processes that joined so far, in the order they did. */
    public synchronized List<String> joinedProcesses() {
        return List.copyOf(joined);
    }

    /** Whether {@code name} is a process the run expects by name (the run waits for it). */
    public boolean expects(String name) {
        return config.processes().contains(name);
    }

    // --- what connections tell the run (any thread) ---

    /**
     * A process's connection said Hello. Null when the process joins the run
     * (the run starts once every expected process has), else why not.
     */
    public synchronized String join(String name) {
        return join(name, null);
    }

    /** As {@link #join(String)}, for a program behind the C shim ({@code shim}: how it said Hello). */
    public synchronized String join(String name, ShimJoin shim) {
        if (shim != null && anchors == null && replayed == null) {
            return "this seeded server has no anchors socket for emulated files (it needs its Unix socket)";
        }
        if (procs.containsKey(name)) {
            return "process " + name + " is already connected: one connection per process";
        }
        if (started || abortReason != null) {
            return "the run (seed " + config.seed() + ") has started without process " + name + "; it has "
                    + String.join(", ", joined);
        }
        if (!config.processes().isEmpty() && !config.processes().contains(name)) {
            return "the run expects processes " + String.join(", ", config.processes()) + ", not " + name;
        }
        Proc fresh = new Proc(name);
        fresh.shim = shim;
        procs.put(name, fresh);
        joined.add(name);
        if (joined.size() == config.expected()) {
            start();
        }
        return null;
    }

    /**
     * The first connection of a child that process {@code name}'s parent
     * forked in the run (it presents its Fork's token); null when taken.
     */
    public String forked(String name, ShimJoin join) {
        Proc p = procs.get(name);
        if (p == null || p.forkToken == 0 || p.forkToken != join.hello().getForkToken()) {
            return "no forked child " + name + " with token " + join.hello().getForkToken() + " in this run";
        }
        mailbox(name).add(join);
        return null;
    }

    /**
     * The new program of process {@code name} after its exec said Hello
     * (the same process, its main thread's next event); null when taken.
     */
    public String execed(String name, ShimJoin join) {
        Proc p = procs.get(name);
        if (p == null || !p.execing) {
            return "process " + name + " of the run (seed " + config.seed() + ") announced no exec";
        }
        mailbox(name).add(join);
        return null;
    }

    /** Whether {@code process} joined and thread {@code thread} of it was announced. */
    public boolean hasThread(String process, int thread) {
        Proc p = procs.get(process);
        return p != null && p.names.containsKey(thread);
    }

    /** A system call of a thread (its wire id); null when it was taken, else why not. */
    public String request(String process, int thread, Syscall call, Consumer<SyscallResult> reply) {
        Proc p = procs.get(process);
        if (p == null) {
            return "process " + process + " is not part of the run";
        }
        String name = p.names.get(thread);
        if (name == null) {
            return "thread " + thread + " of " + process + " was never announced: its parent sends ThreadStart"
                    + " (by_parent) before it runs";
        }
        synchronized (p) {
            if (!endedThreads.contains(name)) {
                mailbox(name).add(new Call(call, reply));
                return null;
            }
        }
        reply.accept(threadGone(name));
        return null;
    }

    private static SyscallResult threadGone(String thread) {
        return SyscallResult.newBuilder().setErrno(Errno.ESRCH.number())
                .setMessage("thread " + thread + " has ended (its process exited)").build();
    }

    /**
     * A per-thread channel of {@code process} for its thread {@code thread}
     * opened; null when it may carry that thread's calls, else why not.
     */
    public String attach(String process, int thread) {
        if (!hasThread(process, thread)) {
            return "process " + process + " has no thread " + thread + " (announce it with ThreadStart first)";
        }
        if (!channels.add(process + "/" + procs.get(process).names.get(thread))) {
            return "thread " + thread + " of " + process + " already has its channel";
        }
        return null;
    }

    /**
     * Thread {@code parent} announces that it creates thread {@code child}
     * (wire ids); null when taken, else why not. The child is named after
     * its parent and the parent's count of threads created so far.
     */
    public String threadStart(String process, int child, int parent) {
        Proc p = procs.get(process);
        if (p == null) {
            return "process " + process + " is not part of the run";
        }
        String parentName = p.names.get(parent);
        if (parentName == null) {
            return "thread " + parent + " of " + process + " was never announced";
        }
        if (p.names.size() > SyscallDispatcher.MAX_THREADS) {
            return "process " + process + " has its maximum of " + SyscallDispatcher.MAX_THREADS + " threads";
        }
        String name;
        synchronized (p) {
            if (p.names.containsKey(child) && !endedThreads.contains(p.names.get(child))) {
                return "thread id " + child + " of " + process + " is in use";
            }
            name = parentName + ".t" + p.clones.merge(parentName, 1, Integer::sum);
            p.names.put(child, name);
            BlockingQueue<Event> box = mailbox(name);
            if (p.connectionLost) {
                box.add(new Gone());
            }
        }
        mailbox(parentName).add(new Clone(name, child));
        return null;
    }

    /**
     * The parent's creation of announced thread {@code thread} failed (the
     * real pthread_create): the thread never runs; it ends at its first turn,
     * like a thread whose first event is its end. Null when taken, else why not.
     */
    public String threadNeverRan(String process, int thread) {
        return threadExit(process, thread);
    }

    /** A thread ended (ThreadExit); null when taken, else why not. */
    public String threadExit(String process, int thread) {
        Proc p = procs.get(process);
        String name = p == null ? null : p.names.get(thread);
        if (name == null) {
            return "thread " + thread + " of " + process + " was never announced";
        }
        mailbox(name).add(new End());
        return null;
    }

    /** The process's connection (or one of its thread channels) was lost. */
    public void gone(String process) {
        Proc p = procs.get(process);
        if (p == null) {
            return;
        }
        synchronized (p) {
            if (p.connectionLost) {
                return;
            }
            p.connectionLost = true;
            for (String name : p.names.values()) {
                mailbox(name).add(new Gone());
            }
        }
    }

    /**
     * Stops the run: a run that has not started ends at once; a started one
     * ends at the next event its running thread takes (the programs get no
     * more replies). Its result says why.
     */
    public void abort(String why) {
        synchronized (this) {
            if (abortReason != null || finished.isDone()) {
                return;
            }
            abortReason = why;
            if (!started) {
                finished.complete(new Result(config.seed(), false, why, List.of(), Map.of(), List.of(), "", 0, 0, 0));
                return;
            }
        }
        for (BlockingQueue<Event> box : mailboxes.values()) {
            box.add(new Abort(why));
        }
    }

    /** Replay: the run stops when {@code thread} takes its next event. */
    void abortAt(String thread, String why) {
        mailbox(thread).add(new Abort(why));
    }

    private BlockingQueue<Event> mailbox(String thread) {
        return mailboxes.computeIfAbsent(thread, t -> new LinkedBlockingQueue<>());
    }

    // --- the run ---

    private void start() {
        started = true;
        order.addAll(config.processes().isEmpty() ? joined.stream().sorted().toList() : config.processes());
        Thread.ofPlatform().name("gemulator-seeded-" + config.seed()).daemon().start(this::runAll);
    }

    private void runAll() {
        try {
            finished.complete(runThreads());
        } catch (Throwable t) {
            if (!(t.getCause() instanceof Strategy.ReplayDiverged)) {
                log.println("gemulator: EMULATOR BUG in the seeded run of seed " + config.seed() + ":");
                t.printStackTrace(log);
                log.flush();
            }
            finished.completeExceptionally(t);
        }
    }

    private Result runThreads() {
        machine = new Machine(config.profile());
        Kernel kernel = machine.kernel();
        dispatcher = new SyscallDispatcher(machine, config.fdLimit());
        if (replayed != null) {
            dispatcher.host().facts(replayed);
            if (shmem != null && procs.values().stream().anyMatch(q -> q.shim != null)) {
                dispatcher.host().shmem(shmem);
            }
        } else if (anchors != null) {
            dispatcher.host().anchors(anchors);
            dispatcher.host().tree(tree);
            dispatcher.host().facts(new RecordedFacts(HostFacts.real(() -> anchors)));
            if (procs.values().stream().anyMatch(q -> q.shim != null)) {
                dispatcher.host().shmem(shmem);
            }
        }
        Strategy strategy = config.strategy().create(config.pctDepth(), config.pctSteps());
        if (config.replayDecisions() != null) {
            strategy = new Strategy.Replay(config.replayDecisions(), new int[1], strategy, !strictReplay);
        }
        scheduler = new InterleavingScheduler(kernel, strategy, new Random(config.seed()))
                .interruptEndlessSleeps(interruptible::contains);
        if (config.trace()) {
            recorder = new TraceRecorder(kernel, header());
            machine.observe(recorder);
            scheduler.onDecision(recorder);
        }
        List<InterleavingScheduler.ThreadSpec> specs = new ArrayList<>();
        for (String name : order) {
            Proc p = procs.get(name);
            running = name;
            if (p.shim != null) {
                var joined = dispatcher.shimHello(name, p.shim.hello(), p.shim.peer(), p.shim.connection());
                if (joined.refusal() != null || !joined.process().name().equals(name)) {
                    throw new IllegalStateException("the C shim's process " + name + " could not join: "
                            + joined.refusal());
                }
            }
            p.process = dispatcher.process(name);
            queues(p, kernel);
            Task main = p.process.mainTask();
            p.live.add(name);
            p.tasks.put(name, main);
            if (recorder != null) {
                recorder.request(0, name, "join", p.shim != null ? shimJoinArgs(p.shim, "fd_limit=" + config.fdLimit())
                        : List.of("fd_limit=" + config.fdLimit()), p.shim != null ? p.shim.hello().toByteString()
                        : ByteString.EMPTY);
            }
            specs.add(new InterleavingScheduler.ThreadSpec(name, main, () -> threadBody(p, name, 0, main)));
        }
        scheduler.run(specs);
        List<Report> reports = machine.teardown();
        String why = abortReason;
        if (recorder != null) {
            reports.forEach(recorder::report);
            recorder.end(reports.isEmpty() ? 0 : 3);
        }
        Map<String, Integer> statuses = new LinkedHashMap<>();
        for (String name : order) {
            Integer s = procs.get(name).exitStatus;
            statuses.put(name, s == null ? KILLED : s);
        }
        List<TraceRecord> trace = recorder == null ? List.of() : List.copyOf(recorder.records());
        return new Result(config.seed(), true, why, List.copyOf(reports), statuses, trace,
                recorder == null ? "" : TraceRecorder.hash(trace), scheduler.steps(), scheduler.decisions().size(),
                calls);
    }

    private static void queues(Proc p, Kernel kernel) {
        p.threadsGone = new WaitQueue(kernel, p.name + ".threads", p);
        p.joins = new WaitQueue(kernel, p.name + ".joins");
        p.childExits = new WaitQueue(kernel, p.name + ".children");
    }

    private TraceHeader header() {
        return TraceHeader.newBuilder().setEmulatorVersion(Traces.EMULATOR_VERSION)
                .setScenarioPath(SeededReplay.PATH_PREFIX + config.description()).setProfile(config.profile().name())
                .setSeed(config.seed()).setStrategy(config.strategy().label()).setPctDepth(config.pctDepth())
                .setPctSteps(config.pctSteps()).setFormatVersion(Traces.FORMAT_VERSION).build();
    }

    /** A client thread: its events, one after the other, until it ends. */
    private void threadBody(Proc p, String name, int id, Task task) {
        Kernel kernel = machine.kernel();
        BlockingQueue<Event> box = mailbox(name);
        boolean first = true;
        while (true) {
            if (!first) {
                kernel.setCurrent(task);
                scheduler.pointAhead();
            }
            first = false;
            if (abortReason != null) {
                abortHere(name, abortReason);
            }
            if (p.exiting && !name.equals(p.exiter)) {
                endThread(p, name, id, "killed");
                return;
            }
            Event e = take(box, name);
            running = name;
            switch (e) {
                case Abort a -> abortHere(name, a.why());
                case End end -> {
                    record(name, "thread_exit", List.of(), ByteString.EMPTY);
                    if (p.live.size() == 1) {
                        exitProcess(p, name, id, task, 0, null);
                    } else {
                        endThread(p, name, id, "exits");
                    }
                    return;
                }
                case Gone g -> {
                    record(name, "gone", List.of(), ByteString.EMPTY);
                    exitProcess(p, name, id, task, KILLED, null);
                    return;
                }
                case Clone c -> clone(p, name, task, c);
                case ShimJoin j -> {
                    record(name, "shim_join", shimJoinArgs(j, null), j.hello().toByteString());
                    var joined = dispatcher.shimHello(p.name, j.hello(), j.peer(), j.connection());
                    p.execing = false;
                    if (joined.refusal() != null) {
                        log.println("gemulator: seeded run " + config.seed() + ": " + joined.refusal());
                    }
                }
                case Call c -> {
                    if (c.call().hasExit()) {
                        record(name, "exit", CallText.arguments(c.call()), c.call().toByteString());
                        exitProcess(p, name, id, task, c.call().getExit().getStatus(), c.reply());
                        return;
                    }
                    call(p, name, id, task, c);
                }
            }
        }
    }

    /** The run stops here, in this thread (the trace says where, so that a replay stops at the same point). */
    private void abortHere(String name, String why) {
        synchronized (this) {
            if (abortReason == null) {
                abortReason = why;
            }
        }
        record(name, "abort", List.of(why), ByteString.EMPTY);
        scheduler.abortFromRunning();
    }

    /** The next event; while it has not come the thread holds the baton, and the watchdog names it now and then. */
    private Event take(BlockingQueue<Event> box, String name) {
        Event e = box.poll();
        if (e != null) {
            return e;
        }
        if (replayed != null) {
            return new Abort("the trace holds no further event of thread " + name);
        }
        long since = System.nanoTime();
        long warnAt = config.watchdogMillis();
        while (true) {
            try {
                e = box.poll(Math.max(1, Math.min(warnAt, 1000)), TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return new Abort("interrupted");
            }
            if (e != null) {
                return e;
            }
            if (abortReason != null) {
                return new Abort(abortReason);
            }
            long waited = (System.nanoTime() - since) / 1_000_000;
            if (warnAt > 0 && waited >= warnAt) {
                log.println("gemulator: watchdog: " + name + " has stayed in user space for "
                        + String.format(Locale.ROOT, "%.1f", waited / 1000.0)
                        + " s; the run (seed " + config.seed() + ") waits for its next system call");
                log.flush();
                warnAt += config.watchdogMillis();
            }
        }
    }

    private int record(String thread, String op, List<String> args, ByteString call) {
        int n = ++sequence;
        if (recorder != null) {
            recorder.request(n, thread, op, args, call);
        }
        return n;
    }

    private void line(int n, String thread, String op, SyscallResult r) {
        if (recorder != null) {
            recorder.line(n + " " + thread + " " + op + " " + CallText.outcome(r));
        }
    }

    private void call(Proc p, String name, int id, Task task, Call c) {
        Syscall call = c.call();
        String op = CallText.op(call);
        Syscall traced = p.process.host() != null ? labelled(call) : call;
        int n = record(name, op, CallText.arguments(traced), traced.toByteString());
        calls++;
        SyscallResult r = switch (call.getCallCase()) {
            case JOIN -> join(p, name, task, call.getJoin().getThreadId());
            case WAIT_CHILD -> waitChild(p, task, call.getWaitChild().getPid(), call.getWaitChild().getOptions());
            case SLEEP, POLL, POLL_FDS -> interruptibly(task, () -> execute(p, id, call));
            case EXEC_START -> execStart(p, id, call);
            default -> execute(p, id, call);
        };
        if (call.hasFork() && r.getErrno() == 0) {
            forkChild(p, r);
        }
        if (call.hasForkDone() && call.getForkDone().getPid() < 0) {
            forkFailed(p, call.getForkDone().getToken());
        }
        line(n, name, op, r);
        List<Integer> fds = dispatcher.host().takePassed();
        passed = fds.isEmpty() ? Passed.NONE : new Passed(fds, dispatcher.host().takePassedFiles());
        try {
            c.reply().accept(r);
        } finally {
            passed = Passed.NONE;
        }
    }

    /** The thread that asks the machine something: the kernel's current task, else the one taking its event. */
    private String asker() {
        Task t = machine.kernel().current();
        return t != null ? t.name() : running;
    }

    /** What the trace holds so far (a replay that stopped at a decision it could not follow). */
    List<TraceRecord> partialTrace() {
        TraceRecorder r = recorder;
        return r == null ? List.of() : List.copyOf(r.records());
    }

    /** How a shim process's join (its main connection's Hello) reads in the trace: its credentials, labelled. */
    private List<String> shimJoinArgs(ShimJoin j, String first) {
        List<String> args = new ArrayList<>();
        if (first != null) {
            args.add(first);
            args.add("shim");
        }
        var c = j.peer();
        args.addAll(List.of("pid=" + pidLabel(c.pid()), "uid=" + c.uid(), "gid=" + c.gid(),
                "cap=" + (c.capSysAdmin() ? 1 : 0)));
        return args;
    }

    /** The credentials a join's or a fact's arguments name ({@code pid=}, {@code uid=}, {@code gid=}, {@code cap=}). */
    static Credentials credentials(List<String> args) {
        int pid = 0;
        int uid = 0;
        int gid = 0;
        boolean cap = false;
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String v = a.substring(eq + 1);
            switch (a.substring(0, eq)) {
                case "pid" -> pid = Integer.parseInt(v);
                case "uid" -> uid = Integer.parseInt(v);
                case "gid" -> gid = Integer.parseInt(v);
                case "cap" -> cap = v.equals("1");
                default -> {
                }
            }
        }
        return new Credentials(pid, uid, gid, cap);
    }

    /**
     * A run of real programs: the machine's answers about anchors and
     * credentials, each recorded in the trace as a {@code host} request of
     * the thread that asked (inodes and pids by their labels).
     */
    private final class RecordedFacts implements HostFacts {
        private final HostFacts real;

        RecordedFacts(HostFacts real) {
            this.real = real;
        }

        @Override
        public boolean anchorLive(long ino) {
            return fact("anchor_live", ino, real.anchorLive(ino));
        }

        @Override
        public boolean closedLast(long ino) {
            return fact("closed_last", ino, real.closedLast(ino));
        }

        @Override
        public boolean goneAtExit(long ino) {
            return fact("gone_at_exit", ino, real.goneAtExit(ino));
        }

        private boolean fact(String kind, long ino, boolean answer) {
            record(asker(), "host", List.of(kind, "ino=" + label(ino), answer ? "yes" : "no"), ByteString.EMPTY);
            return answer;
        }

        @Override
        public Credentials credentials(int pid, Credentials fallback) {
            var c = real.credentials(pid, fallback);
            record(asker(), "host", credentialArgs(pid, c), ByteString.EMPTY);
            return c;
        }
    }

    private List<String> credentialArgs(int pid, Credentials c) {
        return List.of("credentials", "pid=" + pidLabel(pid), "uid=" + c.uid(), "gid=" + c.gid(),
                "cap=" + (c.capSysAdmin() ? 1 : 0));
    }

    /**
     * A replay: the answers the trace recorded, in its order. Each is
     * recorded again; a question the trace did not ask there (the replay has
     * diverged) gets the answer of a file still open and of the fallback
     * credentials, and the comparison of the traces names the place.
     */
    final class ReplayedFacts implements HostFacts {
        private final ArrayDeque<TraceRequest> facts;

        ReplayedFacts(List<TraceRequest> facts) {
            this.facts = new ArrayDeque<>(facts);
        }

        private TraceRequest next(String kind, String key) {
            var q = facts.peek();
            if (q != null && q.getArgsCount() >= 2 && q.getArgs(0).equals(kind) && q.getArgs(1).equals(key)) {
                return facts.poll();
            }
            return null;
        }

        @Override
        public boolean anchorLive(long ino) {
            return fact("anchor_live", ino, true);
        }

        @Override
        public boolean closedLast(long ino) {
            return fact("closed_last", ino, false);
        }

        @Override
        public boolean goneAtExit(long ino) {
            return fact("gone_at_exit", ino, false);
        }

        private boolean fact(String kind, long ino, boolean otherwise) {
            String key = "ino=" + label(ino);
            var q = next(kind, key);
            boolean answer = q == null ? otherwise : q.getArgsCount() > 2 && q.getArgs(2).equals("yes");
            record(asker(), "host", List.of(kind, key, answer ? "yes" : "no"), ByteString.EMPTY);
            return answer;
        }

        @Override
        public Credentials credentials(int pid, Credentials fallback) {
            var q = next("credentials", "pid=" + pidLabel(pid));
            var c = fallback;
            if (q != null) {
                var r = SeededRun.credentials(q.getArgsList());
                c = new Credentials(pid, r.uid(), r.gid(), r.capSysAdmin());
            }
            record(asker(), "host", credentialArgs(pid, c), ByteString.EMPTY);
            return c;
        }
    }

    /**
     * A replay without the programs: host facts come from {@code facts} (the
     * trace's {@code host} requests, in order), object pages go to
     * {@code shmem} (null: the heap), and a thread whose events are used up
     * stops the run. Before the first join.
     */
    void replayHost(List<TraceRequest> facts, TmpfsShmem pages) {
        this.replayed = new ReplayedFacts(facts);
        this.shmem = pages;
    }

    /** A replay: thread {@code thread}'s next event, from the trace (before the run starts). */
    void replayEvent(String thread, Event e) {
        mailbox(thread).add(e);
    }

    /** Anchor inodes (the real kernel's numbers) as the trace shows them: 1, 2, ... in order of first use. */
    private final Map<Long, Long> inoLabels = new HashMap<>();

    /** Real pids as the trace shows them: 1001, 1002, ... in order of first use (0 and -1 as they are). */
    private final Map<Integer, Integer> pidLabels = new HashMap<>();

    private int pidLabel(int pid) {
        return pid <= 0 ? pid : pidLabels.computeIfAbsent(pid, k -> 1001 + pidLabels.size());
    }

    private long label(long ino) {
        return ino == 0 ? 0 : inoLabels.computeIfAbsent(ino, k -> (long) inoLabels.size() + 1);
    }

    /**
     * A call of a program behind the C shim as the trace records it: its
     * anchors' inodes, the real pids and the ioctl struct's address, which
     * differ from run to run, by labels (pointers inside a struct stay).
     */
    private Syscall labelled(Syscall call) {
        Syscall.Builder b = call.toBuilder();
        for (int i = 0; i < b.getFilesCount(); i++) {
            b.setFiles(i, b.getFiles(i).toBuilder().setIno(label(b.getFiles(i).getIno())));
        }
        if (b.hasNewFile()) {
            b.setNewFile(b.getNewFile().toBuilder().setIno(label(b.getNewFile().getIno())));
        }
        if (b.hasIoctl()) {
            // the program's own addresses (its stack, its heap) move from run to run (ASLR)
            var io = b.getIoctl().toBuilder();
            long arg = io.getArg();
            io.setArg(Syscalls.IOCTL_ARG_ADDRESS);
            for (int i = 0; i < io.getMemoryCount(); i++) {
                long at = io.getMemory(i).getAddress();
                io.setMemory(i, io.getMemory(i).toBuilder().setAddress(at == arg
                        ? Syscalls.IOCTL_ARG_ADDRESS : 0x100000L + 0x1000L * i));
            }
            b.setIoctl(io);
        }
        if (b.hasForkDone()) {
            b.setForkDone(b.getForkDone().toBuilder().setPid(pidLabel(b.getForkDone().getPid())));
        }
        if (b.hasWaitChild()) {
            b.setWaitChild(b.getWaitChild().toBuilder().setPid(pidLabel(b.getWaitChild().getPid())));
        }
        if (b.hasReap()) {
            b.setReap(b.getReap().toBuilder().setPid(pidLabel(b.getReap().getPid())));
        }
        if (b.hasFileInfo()) {
            b.setFileInfo(b.getFileInfo().toBuilder().setIno(label(b.getFileInfo().getIno())));
        }
        return b.build();
    }

    /** Runs a call whose sleep a dying process or an endless wait may end with EINTR. */
    private SyscallResult interruptibly(Task task, Supplier<SyscallResult> body) {
        interruptible.add(task);
        try {
            return body.get();
        } catch (SleepInterrupted e) {
            return SyscallResult.newBuilder().setErrno(Errno.EINTR.number()).setMessage("interrupted: " + e.getMessage())
                    .build();
        } finally {
            interruptible.remove(task);
        }
    }

    /**
     * Runs a call through the dispatcher. An exception of the emulator itself
     * is logged with its stack and answered ENOTRECOVERABLE; the run goes on.
     */
    private SyscallResult execute(Proc p, int id, Syscall call) {
        try {
            return dispatcher.execute(p.name, id, call);
        } catch (SleepInterrupted e) {
            return SyscallResult.newBuilder().setErrno(Errno.EINTR.number()).setMessage("interrupted: " + e.getMessage())
                    .build();
        } catch (RuntimeException e) {
            if (scheduler.aborted() || e instanceof Strategy.ReplayDiverged) {
                throw e;
            }
            log.println("gemulator: EMULATOR BUG while running " + p.name + " " + call.getCallCase() + ":");
            e.printStackTrace(log);
            log.flush();
            return SyscallResult.newBuilder().setErrno(Errno.ENOTRECOVERABLE.number())
                    .setMessage("emulator bug (not the modelled kernel's): " + e).build();
        }
    }

    /**
     * execve announced (or, failed, taken back). A seeded run has exec for a
     * process with one live thread: the same process goes on in the new
     * program, whose Hello is its main thread's next event. EAGAIN while
     * other threads live (their end at the exec is not modelled here).
     */
    private SyscallResult execStart(Proc p, int id, Syscall call) {
        boolean failed = call.getExecStart().getFailed();
        if (!failed && (id != 0 || p.live.size() > 1)) {
            return SyscallResult.newBuilder().setErrno(Errno.EAGAIN.number()).setMessage("exec in a seeded run needs a"
                    + " process with one thread: " + p.name + " has " + p.live.size() + " live (join them first)")
                    .build();
        }
        SyscallResult r = execute(p, id, call);
        p.execing = !failed && r.getErrno() == 0;
        return r;
    }

    /** pthread_join's wait: until the thread has ended. */
    private SyscallResult join(Proc p, String name, Task task, int threadId) {
        String target = p.names.get(threadId);
        if (target == null || !p.tasks.containsKey(target)) {
            return SyscallResult.newBuilder().setErrno(Errno.ESRCH.number())
                    .setMessage("thread " + threadId + " of " + p.name + " was never started").build();
        }
        if (target.equals(name)) {
            return SyscallResult.newBuilder().setErrno(Errno.EDEADLK.number()).setMessage("a thread cannot join itself")
                    .build();
        }
        Kernel kernel = machine.kernel();
        kernel.setCurrent(task);
        kernel.point("futex_wait", StepKind.SYSCALL_ENTER, null);
        SyscallResult r = interruptibly(task, () -> {
            while (!p.ended.contains(target)) {
                scheduler.sleep(p.joins, Clock.NEVER);
            }
            return SyscallResult.newBuilder().build();
        });
        kernel.setCurrent(task);
        kernel.point("syscall_exit_to_user_mode", StepKind.SYSCALL_EXIT, null);
        return r;
    }

    /**
     * fork of a program behind the C shim: the server made the child process
     * (the reply names it); its main thread is a thread of the run from now
     * on, whose first event is its connection's Hello.
     */
    private void forkChild(Proc parent, SyscallResult r) {
        String childName = r.getText();
        Proc child = new Proc(childName);
        child.forkToken = r.getValues(0);
        child.parent = parent;
        child.process = dispatcher.live(childName);
        queues(child, machine.kernel());
        Task main = child.process.mainTask();
        child.live.add(childName);
        child.tasks.put(childName, main);
        procs.put(childName, child);
        synchronized (this) {
            joined.add(childName);
        }
        order.add(childName);
        parent.children.add(child);
        scheduler.spawn(new InterleavingScheduler.ThreadSpec(childName, main,
                () -> threadBody(child, childName, 0, main)));
    }

    /** The real fork failed after Fork: the child the server made never runs. */
    private void forkFailed(Proc parent, long token) {
        for (Proc child : parent.children) {
            if (child.forkToken == token && !child.exited) {
                mailbox(child.name).add(new Gone());
            }
        }
    }

    /** wait4's wait: until a child (real pid {@code pid}, any when pid <= 0) has exited in the run. */
    private SyscallResult waitChild(Proc p, Task task, int pid, int options) {
        final int wnohang = 1;
        Kernel kernel = machine.kernel();
        kernel.setCurrent(task);
        kernel.point("do_wait", StepKind.SYSCALL_ENTER, null);
        SyscallResult r = interruptibly(task, () -> {
            while (true) {
                boolean some = false;
                for (Proc c : p.children) {
                    if (p.waited.contains(c.name) || pid > 0 && c.process.pid() != pid) {
                        continue;
                    }
                    some = true;
                    if (c.exited) {
                        p.waited.add(c.name);
                        return SyscallResult.newBuilder().addValues(c.exitStatus == null ? KILLED : c.exitStatus)
                                .setText(c.name).build();
                    }
                }
                if (!some || (options & wnohang) != 0) {
                    return SyscallResult.newBuilder().addValues(-1).build();
                }
                scheduler.sleep(p.childExits, Clock.NEVER);
                kernel.setCurrent(task);
            }
        });
        kernel.setCurrent(task);
        kernel.point("syscall_exit_to_user_mode", StepKind.SYSCALL_EXIT, null);
        return r;
    }

    /** clone: the child thread exists (runnable) from now on. */
    private void clone(Proc p, String parent, Task parentTask, Clone c) {
        int n = record(parent, "clone", List.of(c.child(), "id=" + c.childId()), ByteString.EMPTY);
        Kernel kernel = machine.kernel();
        kernel.setCurrent(parentTask);
        kernel.point("kernel_clone", StepKind.SYSCALL_ENTER, null);
        p.names.putIfAbsent(c.childId(), c.child());
        Task child = dispatcher.threadStart(p.name, c.childId(), c.child());
        p.live.add(c.child());
        p.tasks.put(c.child(), child);
        int id = c.childId();
        scheduler.spawn(new InterleavingScheduler.ThreadSpec(c.child(), child, () -> threadBody(p, c.child(), id, child)));
        if (p.exiting) {
            scheduler.signal(child);
        }
        kernel.setCurrent(parentTask);
        kernel.point("syscall_exit_to_user_mode", StepKind.SYSCALL_EXIT, null);
        if (recorder != null) {
            recorder.line(n + " " + parent + " clone ok " + c.child());
        }
    }

    /** A thread of the process ends; the exiting thread, if any, is told; calls it still had are answered ESRCH. */
    private void endThread(Proc p, String name, int id, String why) {
        p.live.remove(name);
        p.ended.add(name);
        closeMailbox(p, name);
        if (id != 0) {
            dispatcher.threadExit(p.name, id);
        }
        Kernel kernel = machine.kernel();
        kernel.setCurrent(p.tasks.get(name));
        p.threadsGone.wakeUpAll();
        p.joins.wakeUpAll();
    }

    /**
     * exit_group: every other thread of the process gets a fatal signal and
     * ends at its next event; when they are gone, the process exits (the
     * model's do_exit), and {@code reply}, if any, gets the result.
     */
    private void exitProcess(Proc p, String name, int id, Task task, int status, Consumer<SyscallResult> reply) {
        Kernel kernel = machine.kernel();
        if (!p.exiting) {
            p.exiting = true;
            p.exiter = name;
            p.exitStatus = status;
            for (String other : List.copyOf(p.live)) {
                if (!other.equals(name)) {
                    scheduler.signal(p.tasks.get(other));
                }
            }
        }
        kernel.setCurrent(task);
        while (p.live.size() > 1) {
            scheduler.sleep(p.threadsGone, Clock.NEVER);
            kernel.setCurrent(task);
        }
        if (p.process.host() != null && replayed == null) {
            realExit(p.process.pid());
        }
        SyscallResult r = execute(p, id, Syscall.newBuilder().setExit(Exit.newBuilder().setStatus(status)).build());
        p.live.remove(name);
        p.ended.add(name);
        p.exited = true;
        closeMailbox(p, name);
        if (p.parent != null) {
            kernel.setCurrent(task);
            p.parent.childExits.wakeUpAll();
        }
        if (recorder != null) {
            recorder.line(sequence + " " + name + " exit " + CallText.outcome(r) + " status " + status);
        }
        if (reply != null) {
            reply.accept(r);
        }
    }

    /**
     * Waits (real time, holding the run: nothing else happens meanwhile) until
     * the real process {@code pid} of a program behind the shim is dead, so
     * that its descriptors are closed when its exit looks at its files'
     * anchors: which of them went with it is then the same in every run.
     */
    private void realExit(int pid) {
        Path stat = Path.of("/proc/" + pid + "/stat");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (pid > 0 && System.nanoTime() < deadline) {
            try {
                String text = Files.readString(stat);
                int close = text.lastIndexOf(')');
                char state = close > 0 && close + 2 < text.length() ? text.charAt(close + 2) : 'X';
                if (state == 'Z' || state == 'X') {
                    return;
                }
            } catch (IOException e) {
                return; // gone (reaped)
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void closeMailbox(Proc p, String name) {
        List<Event> left = new ArrayList<>();
        synchronized (p) {
            endedThreads.add(name);
            mailbox(name).drainTo(left);
        }
        for (Event e : left) {
            if (e instanceof Call c) {
                c.reply().accept(threadGone(name));
            }
        }
    }

    /** A summary for logs: seed, steps, decisions, calls, exit statuses, findings. */
    public static String describe(Result r) {
        if (!r.started()) {
            return "seed " + r.seed() + ": not started (" + r.abortReason() + ")";
        }
        Map<String, Long> kinds = new TreeMap<>();
        r.reports().forEach(x -> kinds.merge(x.kind().label() + " " + x.function(), 1L, Long::sum));
        return "seed " + r.seed() + ": " + r.calls() + " calls, " + r.steps() + " steps, " + r.decisions()
                + " decisions, exit " + r.exitStatuses() + (r.aborted() ? ", stopped: " + r.abortReason() : "")
                + (kinds.isEmpty() ? ", no findings" : ", findings " + kinds.keySet());
    }
}
