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
 */
public final class Simulation implements AutoCloseable {
    /** What the simulation thread does next. */
    private enum Kind { CALL, THREAD_START, THREAD_EXIT, GONE, STATUS, DEBUGFS, STOP }

    /** One piece of work: a request of a thread of a named process (and where its result goes), or a control event. */
    private record Work(Kind kind, String process, int thread, String name, Syscall call, Consumer<SyscallResult> done) {
        static Work control(Kind kind, String process, int thread, String name, Consumer<SyscallResult> done) {
            return new Work(kind, process, thread, name, null, done);
        }
    }

    private static final Work STOP = Work.control(Kind.STOP, "", 0, "", r -> { });

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
        return inbox.offer(new Work(Kind.CALL, process, thread, "", call, done));
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
                w = inbox.take();
            } catch (InterruptedException e) {
                return;
            }
            switch (w.kind()) {
                case STOP -> {
                    endTrace();
                    return;
                }
                case STATUS, DEBUGFS -> w.done().accept(null);
                case GONE -> {
                    dispatcher.exitIfLive(w.process());
                    newReports();
                }
                case THREAD_START -> dispatcher.threadStart(w.process(), w.thread(), w.name());
                case THREAD_EXIT -> dispatcher.threadExit(w.process(), w.thread());
                case CALL -> {
                    String task = dispatcher.taskName(w.process(), w.thread());
                    // a thread that never said ThreadStart gets the task the dispatcher names so
                    String who = task != null ? task : w.thread() == 0 ? w.process() : w.process() + ".t" + w.thread();
                    String op = opName(w.call());
                    if (recorder != null) {
                        recorder.request((int) executed + 1, who, op, arguments(w.call()));
                    }
                    long t0 = System.nanoTime();
                    SyscallResult r = executeSafely(w);
                    executed++;
                    ServerMetrics m = metrics;
                    if (m != null) {
                        m.ioctl(op, errnoName(r.getErrno()), System.nanoTime() - t0);
                    }
                    if (recorder != null) {
                        recorder.line(executed + " " + who + " " + op + " " + outcome(r));
                    }
                    newReports();
                    w.done().accept(r);
                }
            }
            if (!waitingForRoom.isEmpty()) {
                runWaiting();
            }
            if (recorder != null && inbox.isEmpty()) {
                recorder.flush();
            }
        }
    }

    /**
     * Runs a request. A modelled kernel deadlock (the checkers report it)
     * answers EDEADLK; an exception from the emulator itself is a bug of
     * ours: it is logged loudly with its stack, counted as a finding and
     * answered ENOTRECOVERABLE, and the server goes on serving.
     */
    private SyscallResult executeSafely(Work w) {
        try {
            return dispatcher.execute(w.process(), w.thread(), w.call());
        } catch (dev.gemulator.sched.TaskHungException e) {
            return SyscallResult.newBuilder().setErrno(dev.gemulator.kernel.Errno.EDEADLK.number())
                    .setMessage("the kernel deadlocked: " + e.getMessage()).build();
        } catch (RuntimeException e) {
            log.println("gemulator: EMULATOR BUG while running " + w.process() + " " + w.call().getCallCase() + ":");
            e.printStackTrace(log);
            log.flush();
            findings.add("emulator-bug " + w.call().getCallCase().name().toLowerCase(java.util.Locale.ROOT));
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
