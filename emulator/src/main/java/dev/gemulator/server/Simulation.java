package dev.gemulator.server;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.Exit;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;

/**
 * The one thread that owns the emulated machine. Connections hand it work
 * through a bounded inbox; it runs each request to completion in arrival
 * order (the free-running mode) and hands the result back. Nothing else
 * touches the machine.
 *
 * <p>Time: the machine's clock moves with the server's own (monotonic) time,
 * so a vgem fence nobody signals expires 10 s after it was attached and the
 * timeouts of programs behind the C shim last what they say: such a call
 * that waits (poll with a timeout, sleep) does not hold the thread, it is
 * parked, looked at again whenever something woke the kernel's wait queues
 * (a fence signalled) and answered when ready, at its deadline, or when its
 * caller cancels it. Emulated processes (the Java client, the wire) keep
 * virtual time: their waits end at once, moving the clock to their end.
 */
public final class Simulation implements AutoCloseable {
    /** What the simulation thread does next. */
    private enum Kind { CALL, THREAD_START, THREAD_EXIT, GONE, STATUS, DEBUGFS, STOP, RUN, CANCEL }

    /**
     * What a call gives back: its result and the descriptors (of this JVM) to
     * pass to the caller just before it, with SCM_RIGHTS; {@code passed}
     * runs once they are written.
     */
    public record Answer(SyscallResult result, java.util.List<Integer> fds, Runnable passed) {
        static Answer of(SyscallResult r) {
            return new Answer(r, java.util.List.of(), () -> { });
        }
    }

    /** One piece of work: a request of a thread of a named process (and where its result goes), or a control event. */
    private record Work(Kind kind, String process, int thread, String name, Syscall call, long requestId,
            Consumer<Answer> answer, Runnable run) {
        static Work control(Kind kind, String process, int thread, String name, Consumer<SyscallResult> done) {
            return new Work(kind, process, thread, name, null, 0, a -> done.accept(a.result()), null);
        }

        void done(SyscallResult r) {
            answer.accept(Answer.of(r));
        }
    }

    /** A waiting call: its work, the same call with timeout 0, and when it gives up (server clock). */
    private record Parked(Work work, Syscall once, long deadlineNanos) {
    }

    private static final Work STOP = Work.control(Kind.STOP, "", 0, "", r -> { });
    private final java.util.List<Parked> parked = new java.util.ArrayList<>();
    private final long startNanos = System.nanoTime();
    private long lastTickNanos = startNanos;
    private long wakesSeen;
    private long nextExecCheckNanos;

    private final Machine machine;
    private volatile long executed;
    private final Limits limits;
    private volatile ServerMetrics metrics;
    private final java.io.PrintStream log;
    private final dev.gemulator.trace.TraceRecorder recorder;
    private final java.io.OutputStream traceStream;
    private int reported;
    private final java.util.List<String> findings = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final SyscallDispatcher dispatcher;
    private final BlockingQueue<Work> inbox;
    private final Thread thread;
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> waitingForRoom =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    public Simulation(Profile profile, int inboxCapacity) {
        this(profile, inboxCapacity, null, System.err);
    }

    /**
     * With a {@code trace} stream, records every request (in arrival order,
     * numbered), its kernel steps, its result line and every report; the
     * trace is flushed whenever the inbox runs empty and at every report,
     * and ends when the simulation closes. Reports also go to {@code log}
     * as they happen.
     */
    public Simulation(Profile profile, int inboxCapacity, java.io.OutputStream trace, java.io.PrintStream log) {
        this(profile, inboxCapacity, trace, log, Limits.DEFAULT);
    }

    /** As above, with the server's {@code limits} applied to the device and its processes. */
    public Simulation(Profile profile, int inboxCapacity, java.io.OutputStream trace, java.io.PrintStream log,
            Limits limits) {
        this.machine = new Machine(profile);
        this.limits = limits;
        machine.scheduler().interruptEndlessSleeps(true);
        machine.kernel().devices().forEach(d -> {
            d.setMemoryLimit(limits.deviceMemoryBytes());
            d.setObjectLimit(limits.maxObjectsPerDevice());
            d.setHandleLimit(limits.maxHandlesPerFile());
        });
        this.log = log;
        if (trace != null) {
            recorder = new dev.gemulator.trace.TraceRecorder(machine.kernel(), dev.gemulator.proto.v1.TraceHeader
                    .newBuilder().setEmulatorVersion(dev.gemulator.trace.Traces.EMULATOR_VERSION)
                    .setScenarioPath("(free-running server)").setProfile(profile.name()).setStrategy("arrival")
                    .setFormatVersion(dev.gemulator.trace.Traces.FORMAT_VERSION)
                    .build(), trace);
            machine.observe(recorder);
            traceStream = trace;
        } else {
            recorder = null;
            traceStream = null;
        }
        this.dispatcher = new SyscallDispatcher(machine, limits.maxFdsPerProcess());
        this.inbox = new ArrayBlockingQueue<>(inboxCapacity);
        this.thread = Thread.ofPlatform().name("gemulator-simulation").daemon().start(this::loop);
    }

    public Machine machine() {
        return machine;
    }

    /** Starts counting into {@code metrics} (before requests arrive). */
    public void metrics(ServerMetrics metrics) {
        this.metrics = metrics;
        // the device gauges are copied on this thread when scraped, not after every request
        metrics.beforeScrape(() -> {
            var copied = new java.util.concurrent.CompletableFuture<Void>();
            if (inbox.offer(Work.control(Kind.STATUS, "", 0, "", r -> {
                metrics.devices(machine.kernel());
                copied.complete(null);
            }))) {
                try {
                    copied.get(1, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // busy: the scrape shows the values copied last time
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
    }

    public Limits limits() {
        return limits;
    }

    /** How many requests have run so far. */
    public long executed() {
        return executed;
    }

    /** Runs {@code r} once (on the simulation thread) when the inbox next has room. */
    public void whenRoom(Runnable r) {
        waitingForRoom.add(r);
        if (inbox.remainingCapacity() > 0) {
            runWaiting();
        }
    }

    private void runWaiting() {
        Runnable r;
        while ((r = waitingForRoom.poll()) != null) {
            r.run();
        }
    }

    /**
     * Queues a request; {@code done} runs on the simulation thread with the
     * result. Returns false when the inbox is full (the caller stops reading
     * its connection and retries from {@link #whenRoom}).
     */
    public boolean submit(String process, int thread, Syscall call, Consumer<SyscallResult> done) {
        return inbox.offer(new Work(Kind.CALL, process, thread, "", call, 0, a -> done.accept(a.result()), null));
    }

    /**
     * As above, for a caller that can receive descriptors (a Unix socket
     * connection): {@code answer} gets them with the result. {@code requestId}
     * names the call for {@link #cancel}.
     */
    public boolean submit(String process, int thread, long requestId, Syscall call, Consumer<Answer> answer) {
        return inbox.offer(new Work(Kind.CALL, process, thread, "", call, requestId, answer, null));
    }

    /** Answers a waiting call of the thread now, with what is ready (false when the inbox is full). */
    public boolean cancel(String process, int thread, long requestId) {
        return inbox.offer(new Work(Kind.CANCEL, process, thread, "", null, requestId, a -> { }, null));
    }

    /** Runs {@code r} on the simulation thread, in turn (blocks while the inbox is full). */
    public void onThread(Runnable r) {
        try {
            inbox.put(new Work(Kind.RUN, "", 0, "", null, 0, a -> { }, r));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The server's clock: nanoseconds since it started (the machine's clock follows it). */
    public long serverNanos() {
        return System.nanoTime() - startNanos;
    }

    private volatile java.nio.file.Path anchors;

    /**
     * Programs behind the C shim: their emulated files' anchors listen at
     * {@code anchorsListener}, object pages go to {@code shmem}'s files.
     */
    public void hostFiles(dev.gemulator.server.shim.Anchors anchorsListener, dev.gemulator.server.shim.TmpfsShmem shmem,
            dev.gemulator.server.shim.DeviceTree tree) {
        this.anchors = anchorsListener.path();
        this.tree = tree.root();
        onThread(() -> {
            dispatcher.host().anchors(anchorsListener);
            dispatcher.host().shmem(shmem);
            dispatcher.host().tree(tree);
        });
    }

    private volatile java.nio.file.Path tree;

    /** The device tree programs behind the shim see, or null before {@link #hostFiles}. */
    public java.nio.file.Path treePath() {
        return tree;
    }

    /** Where anchors connect, or null before {@link #hostFiles}. */
    public java.nio.file.Path anchorsPath() {
        return anchors;
    }

    /** An anchor went without a word from its program (the watcher saw it). */
    public void anchorGone(long ino) {
        onThread(() -> dispatcher.host().anchorGone(ino));
    }

    /**
     * A connection of a program behind the C shim says who it is; {@code answer}
     * gets (on the simulation thread) the process and thread it is, or why not.
     */
    public void shimHello(String name, dev.gemulator.proto.v1.ShimHello hello, dev.gemulator.kernel.proc.Credentials peer,
            long connection, Consumer<dev.gemulator.server.shim.HostCalls.Joined> answer) {
        onThread(() -> {
            var joined = dispatcher.shimHello(name, hello, peer, connection);
            newReports();
            answer.accept(joined);
        });
    }

    /** How many system calls of {@code process} wait in the inbox now (a glance for tests and status). */
    public int waiting(String process) {
        int n = 0;
        for (Work w : inbox) {
            if (w.kind() == Kind.CALL && w.process().equals(process)) {
                n++;
            }
        }
        return n;
    }

    /** A thread of the process starts (its own kernel task from now on); false when the inbox is full. */
    public boolean threadStart(String process, int thread, String name) {
        return inbox.offer(Work.control(Kind.THREAD_START, process, thread, name, r -> { }));
    }

    /** A thread of the process ended; false when the inbox is full. */
    public boolean threadExit(String process, int thread) {
        return inbox.offer(Work.control(Kind.THREAD_EXIT, process, thread, "", r -> { }));
    }

    /** A thread of the process ended (its connection went away): queued, never refused. */
    public void threadGone(String process, int thread) {
        try {
            inbox.put(Work.control(Kind.THREAD_EXIT, process, thread, "", r -> { }));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The main connection {@code connection} of a program behind the shim
     * went away: its process exits, unless that connection is no longer the
     * process's (an exec's new program connected already).
     */
    public void exitProcess(String process, long connection) {
        try {
            inbox.put(new Work(Kind.GONE, process, 0, "", null, connection, a -> { }, null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The process exits (its connection went away): queued behind its requests, never refused. */
    public void exitProcess(String process) {
        try {
            inbox.put(Work.control(Kind.GONE, process, 0, "", r -> { }));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Answers with the debugfs views of the device, from the simulation thread (false when the inbox is full). */
    public boolean debugfs(Consumer<String> answer) {
        return inbox.offer(Work.control(Kind.DEBUGFS, "", 0, "", r -> answer.accept(
                dev.gemulator.kernel.drm.DrmDebugfs.all(machine.kernel()))));
    }

    /** Answers with the names of the live processes, from the simulation thread (false when the inbox is full). */
    public boolean status(Consumer<java.util.List<String>> answer) {
        return inbox.offer(Work.control(Kind.STATUS, "", 0, "", r -> answer.accept(
                machine.kernel().processes().stream().map(dev.gemulator.kernel.proc.Process::name).toList())));
    }

    private void loop() {
        while (true) {
            Work w;
            try {
                long wait = waitNanos();
                w = wait < 0 ? inbox.take() : inbox.poll(wait, java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                return;
            }
            tick();
            if (w != null) {
                switch (w.kind()) {
                    case STOP -> {
                        endTrace();
                        return;
                    }
                    case STATUS, DEBUGFS -> w.done(null);
                    case RUN -> w.run().run();
                    case GONE -> {
                        parked.removeIf(p -> p.work().process().equals(w.process()));
                        dispatcher.exitIfLive(w.process(), w.requestId());
                        newReports();
                    }
                    case THREAD_START -> dispatcher.threadStart(w.process(), w.thread(), w.name());
                    case THREAD_EXIT -> {
                        parked.removeIf(p -> p.work().process().equals(w.process()) && p.work().thread() == w.thread());
                        dispatcher.threadExit(w.process(), w.thread());
                    }
                    case CANCEL -> cancelParked(w);
                    case CALL -> call(w);
                }
            }
            lookAgain();
            if (!waitingForRoom.isEmpty()) {
                runWaiting();
            }
            if (recorder != null && inbox.isEmpty()) {
                recorder.flush();
            }
        }
    }

    /** Moves the machine's clock on by the server's time since the last tick (firing due timers). */
    private void tick() {
        long now = System.nanoTime();
        long elapsed = now - lastTickNanos;
        lastTickNanos = now;
        if (elapsed > 0) {
            machine.scheduler().advanceTo(clockNanos() + elapsed);
        }
    }

    private long clockNanos() {
        return machine.kernel().clock().nowNanos();
    }

    /** Runs a request; one of a program behind the shim that would wait is parked instead (see the class comment). */
    private void call(Work w) {
        Syscall once = dispatcher.isHost(w.process()) ? waitingCall(w.call()) : null;
        if (once == null) {
            w.answer().accept(run(w, w.call()));
            return;
        }
        long timeoutMs = timeoutMs(w.call());
        long deadline = timeoutMs < 0 ? Long.MAX_VALUE : clockNanos() + timeoutMs * 1_000_000L;
        Parked p = new Parked(w, once, deadline);
        if (w.call().hasSleep()) {
            parked.add(p);
            return;
        }
        Answer a = run(w, once);
        if (ready(a.result()) || timeoutMs == 0) {
            w.answer().accept(a);
        } else {
            parked.add(p);
        }
    }

    /** The same call with timeout 0, when {@code call} may wait (a poll with a timeout, a sleep); else null. */
    private static Syscall waitingCall(Syscall call) {
        if (call.hasPollFds() && call.getPollFds().getTimeoutMs() != 0) {
            return call.toBuilder().setPollFds(call.getPollFds().toBuilder().setTimeoutMs(0)).build();
        }
        if (call.hasPoll() && call.getPoll().getTimeoutMs() != 0) {
            return call.toBuilder().setPoll(call.getPoll().toBuilder().setTimeoutMs(0)).build();
        }
        if (call.hasSleep() && call.getSleep().getMilliseconds() > 0) {
            return call.toBuilder().setSleep(call.getSleep().toBuilder().setMilliseconds(0)).build();
        }
        return null;
    }

    private static long timeoutMs(Syscall call) {
        if (call.hasPollFds()) {
            return call.getPollFds().getTimeoutMs();
        }
        if (call.hasPoll()) {
            return call.getPoll().getTimeoutMs();
        }
        return call.getSleep().getMilliseconds();
    }

    /** Whether a waiting call's answer ends the wait: an error, or some fd ready. */
    private static boolean ready(SyscallResult r) {
        return r.getErrno() != 0 || r.getValuesCount() > 0 && r.getValues(0) != 0;
    }

    /** Answers parked calls that are ready (after a wake-up) or due. */
    private void lookAgain() {
        if (!parked.isEmpty()) {
            long wakes = machine.scheduler().wakes();
            boolean woken = wakes != wakesSeen;
            wakesSeen = wakes;
            long now = clockNanos();
            for (Parked p : java.util.List.copyOf(parked)) {
                boolean due = now >= p.deadlineNanos();
                if (!due && (!woken || p.work().call().hasSleep())) {
                    continue;
                }
                Answer a = run(p.work(), p.once());
                if (due || ready(a.result())) {
                    parked.remove(p);
                    p.work().answer().accept(a);
                }
            }
        }
        long now = System.nanoTime() - startNanos;
        if (now >= nextExecCheckNanos) {
            nextExecCheckNanos = now + 1_000_000_000L;
            dispatcher.exitLostInExec();
            newReports();
        }
    }

    private void cancelParked(Work c) {
        for (Parked p : java.util.List.copyOf(parked)) {
            Work w = p.work();
            if (w.process().equals(c.process()) && w.thread() == c.thread() && w.requestId() == c.requestId()) {
                parked.remove(p);
                w.answer().accept(run(w, p.once()));
            }
        }
    }

    /** How long the loop may wait for work: until the next parked deadline, kernel timer or exec check; -1 for ever. */
    private long waitNanos() {
        long next = Long.MAX_VALUE;
        for (Parked p : parked) {
            next = Math.min(next, p.deadlineNanos());
        }
        next = Math.min(next, machine.kernel().clock().nextDeadlineNanos());
        long wait = next == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, next - clockNanos());
        if (dispatcher.host().waitingForExec()) {
            wait = Math.min(wait, Math.max(0, nextExecCheckNanos - (System.nanoTime() - startNanos)));
        }
        return wait == Long.MAX_VALUE ? -1 : wait;
    }

    /** Runs one call (traced, counted) and takes the descriptors it passes. */
    private Answer run(Work w, Syscall call) {
        String task = dispatcher.taskName(w.process(), w.thread());
        // a thread that never said ThreadStart gets the task the dispatcher names so
        String who = task != null ? task : w.thread() == 0 ? w.process() : w.process() + ".t" + w.thread();
        String op = opName(call);
        if (recorder != null) {
            recorder.request((int) executed + 1, who, op, arguments(call));
        }
        long t0 = System.nanoTime();
        SyscallResult r = executeSafely(w, call);
        executed++;
        ServerMetrics m = metrics;
        if (m != null) {
            m.ioctl(op, errnoName(r.getErrno()), System.nanoTime() - t0);
        }
        if (recorder != null) {
            recorder.line(executed + " " + who + " " + op + " " + outcome(r));
        }
        newReports();
        java.util.List<Integer> fds = dispatcher.host().takePassed();
        if (fds.isEmpty()) {
            return Answer.of(r);
        }
        var files = dispatcher.host().takePassedFiles();
        return new Answer(r, fds, () -> files.forEach(dev.gemulator.server.shim.TmpfsShmem.TmpfsFile::passed));
    }

    /**
     * Runs a request. A modelled kernel deadlock (the checkers report it)
     * answers EDEADLK; an exception from the emulator itself is a bug of
     * ours: it is logged loudly with its stack, counted as a finding and
     * answered ENOTRECOVERABLE, and the server goes on serving.
     */
    private SyscallResult executeSafely(Work w, Syscall call) {
        try {
            return dispatcher.execute(w.process(), w.thread(), call);
        } catch (dev.gemulator.sched.TaskHungException e) {
            return SyscallResult.newBuilder().setErrno(dev.gemulator.kernel.Errno.EDEADLK.number())
                    .setMessage("the kernel deadlocked: " + e.getMessage()).build();
        } catch (RuntimeException e) {
            log.println("gemulator: EMULATOR BUG while running " + w.process() + " " + call.getCallCase() + ":");
            e.printStackTrace(log);
            log.flush();
            findings.add("emulator-bug " + call.getCallCase().name().toLowerCase(java.util.Locale.ROOT));
            return SyscallResult.newBuilder().setErrno(dev.gemulator.kernel.Errno.ENOTRECOVERABLE.number())
                    .setMessage("emulator bug (not the modelled kernel's): " + e).build();
        }
    }

    /** The reports the checkers made since the last look: logged, traced (and flushed), counted. */
    private void newReports() {
        var reports = machine.checkers().reports();
        while (reported < reports.size()) {
            var r = reports.get(reported++);
            log.println("gemulator: " + r);
            log.flush();
            findings.add(r.kind().label() + " " + r.function());
            if (metrics != null) {
                metrics.report(r.kind().label());
            }
            if (recorder != null) {
                recorder.report(r);
            }
        }
    }

    /** "kind function" of every report so far. */
    public java.util.List<String> findings() {
        return findings;
    }

    private void endTrace() {
        if (recorder != null) {
            recorder.end(0);
            try {
                traceStream.close();
            } catch (java.io.IOException e) {
                log.println("gemulator: cannot close the trace: " + e.getMessage());
            }
        }
    }

    /** The trace's hash so far (null without a trace). */
    public String traceHash() {
        return recorder == null ? null : recorder.streamedHash();
    }

    /** The call's op for traces and metrics: the ioctl's short name ("create_dumb"), else the system call's. */
    static String opName(Syscall call) {
        if (call.hasIoctl()) {
            var row = dev.gemulator.kernel.uapi.IoctlTable.byCmd(call.getIoctl().getRequest());
            return row != null ? row.shortName() : "ioctl";
        }
        return call.getCallCase().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static java.util.List<String> arguments(Syscall call) {
        java.util.List<String> args = new java.util.ArrayList<>();
        if (call.hasIoctl()) {
            var io = call.getIoctl();
            args.add("fd=" + io.getFd());
            args.add("request=" + dev.gemulator.kernel.uapi.IoctlCmd.hex(io.getRequest()));
            for (var m : io.getMemoryList()) {
                if (m.getAddress() == io.getArg()) {
                    args.add("arg=hex:" + java.util.HexFormat.of().formatHex(m.getData().toByteArray()));
                }
            }
            return args;
        }
        for (var e : call.getAllFields().entrySet()) {
            if (e.getValue() instanceof com.google.protobuf.Message m) {
                m.getAllFields().forEach((f, v) -> args.add(f.getName() + "=" + (v instanceof com.google.protobuf.ByteString b
                        ? b.size() + " bytes" : v)));
            }
        }
        return args;
    }

    /** OK for 0, ENOENT for 2; a number the model has no name for as "errno-N". */
    private static String errnoName(int number) {
        var e = dev.gemulator.kernel.Errno.byNumber(number);
        return e == null ? "errno-" + number : e.name();
    }

    private static String outcome(SyscallResult r) {
        if (r.getErrno() != 0) {
            return errnoName(r.getErrno());
        }
        StringBuilder b = new StringBuilder("ok");
        r.getValuesList().forEach(v -> b.append(' ').append(v));
        return b.toString();
    }

    /** Finishes what is queued, then stops. */
    @Override
    public void close() {
        try {
            inbox.put(STOP);
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
