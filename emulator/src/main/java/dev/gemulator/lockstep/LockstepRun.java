package dev.gemulator.lockstep;

import dev.gemulator.Machine;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.TraceRecorder;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A scenario run whose statements are asked for by real client processes
 * (lockstep). The server runs the scenario exactly as {@code run} does, with
 * the same seed, profile and strategy; before each statement it waits until
 * the client thread that owns it (process and thread by name) asks for that
 * statement, and afterwards sends it the statement's line. A thread that
 * waits for its client holds the baton, so nothing else happens meanwhile:
 * network timing changes when things happen in real time, never what
 * happens. The trace is the one the in-process run records.
 */
public final class LockstepRun implements Runner.Gate {
    /** A client thread's request for a statement. */
    private record Ask(int line, String op, Consumer<String> answer) {
    }

    private final Map<String, BlockingQueue<Ask>> mailboxes = new ConcurrentHashMap<>();
    private final Map<String, Ask> current = new ConcurrentHashMap<>();
    private final Set<String> goneProcesses = ConcurrentHashMap.newKeySet();
    private final Set<String> exitedThreads = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<Integer> finished = new CompletableFuture<>();
    private final long watchdogMillis;
    private final PrintStream log;
    private volatile TraceRecorder recorder;
    private volatile Machine machine;
    private volatile int iterations = 1;
    private java.util.function.BiConsumer<Integer, Long> onAgain = (i, seed) -> { };
    private final List<Iteration> results = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long resetNanos;
    private int resets;
    private volatile int iteration;
    private volatile long seed;
    private volatile boolean stopRequested;
    private volatile List<TraceRecord> lastTrace = List.of();
    private final Set<String> clients = ConcurrentHashMap.newKeySet();

    /** What one iteration of the run did. */
    public record Iteration(long seed, int exitStatus, String traceHash, List<dev.gemulator.check.Report> reports,
            String failure) {
    }

    public LockstepRun(long watchdogMillis, PrintStream log) {
        this.watchdogMillis = watchdogMillis;
        this.log = log;
    }

    private volatile long joinDeadline = Long.MAX_VALUE;
    private volatile java.time.Duration joinTimeout;
    private volatile String scenarioName = "the scenario";
    private volatile String gaveUp;

    /**
     * Gives up the run when a process of the scenario has not connected
     * within {@code timeout} of {@link #start}: its statements and every
     * other process's still to come are "gone", no further iteration starts,
     * and {@link #gaveUp()} names the processes that never came.
     */
    public void joinTimeout(java.time.Duration timeout, String scenario) {
        this.joinTimeout = timeout;
        this.scenarioName = scenario;
    }

    /** Why the run gave up waiting for its clients, or null when it did not. */
    public String gaveUp() {
        return gaveUp;
    }

    /** The run's processes that have not connected yet, in order. */
    private List<String> missing() {
        return scenarioProcesses.stream().filter(p -> !clients.contains(p)).sorted().toList();
    }

    /** Past the join deadline with processes missing: give the run up (once), saying who never came. */
    private boolean giveUpIfLate() {
        if (System.nanoTime() < joinDeadline || gaveUp != null) {
            return gaveUp != null;
        }
        List<String> missing = missing();
        if (missing.isEmpty()) {
            joinDeadline = Long.MAX_VALUE;
            return false;
        }
        gaveUp = "gave up after " + joinTimeout.toSeconds() + " s (--join-timeout): process"
                + (missing.size() == 1 ? " " : "es ") + String.join(", ", missing) + " of " + scenarioName
                + " never connected; start one client per process (./gemulator client --proc P " + scenarioName + ")";
        abort();
        return true;
    }

    /** Starts the scenario on its own thread; its output goes to {@code out}. */
    public void start(Script script, TraceHeader header, Profile profile, Runner.RunOptions options, PrintStream out) {
        start(script, header, profile, options, 1, out);
    }

    /**
     * Runs the scenario {@code iterations} times, seed after seed from the
     * options' seed, with the same client processes: after each iteration the
     * device is reset (a new machine) and {@link #onAgain} tells the clients
     * to run their part again. With one iteration the run's output goes to
     * {@code out}; with more, one summary line per iteration.
     */
    public void start(Script script, TraceHeader header, Profile profile, Runner.RunOptions options, int iterations,
            PrintStream out) {
        this.iterations = iterations;
        learnNames(script.nodes());
        if (joinTimeout != null) {
            joinDeadline = System.nanoTime() + joinTimeout.toNanos();
        }
        PrintStream sink = new PrintStream(java.io.OutputStream.nullOutputStream(), false,
                java.nio.charset.StandardCharsets.UTF_8);
        Thread.ofPlatform().name("gemulator-lockstep").daemon().start(() -> {
            try {
                int exit = 0;
                for (int i = 0; i < iterations && !stopRequested; i++) {
                    long seed = options.seed() + i;
                    this.iteration = i;
                    this.seed = seed;
                    long t0 = System.nanoTime();
                    Runner.RunOptions o = new Runner.RunOptions(seed, options.strategy(), options.pctDepth(),
                            options.pctMaxSteps());
                    machine = new Machine(profile);
                    recorder = new TraceRecorder(machine.kernel(), header.toBuilder().setSeed(seed).build());
                    Runner runner = new Runner(machine, iterations == 1 ? out : sink, o).gate(this).traceTo(recorder);
                    if (i > 0) {
                        resetNanos += System.nanoTime() - t0;
                        resets++;
                    }
                    exit = runner.run(script);
                    Iteration it = new Iteration(seed, exit, TraceRecorder.hash(recorder.records()),
                            machine.checkers().reports(), runner.firstFailure());
                    results.add(it);
                    lastTrace = List.copyOf(recorder.records());
                    onIteration.accept(it, lastTrace);
                    if (iterations > 1) {
                        out.println("iteration " + i + " seed " + seed + ": exit " + exit + ", " + it.reports().size()
                                + " reports" + (it.failure() == null ? "" : ", " + it.failure()) + ", trace "
                                + it.traceHash().substring(0, 16));
                    }
                    out.flush();
                    if (i + 1 < iterations && !stopRequested) {
                        current.clear();
                        exitedThreads.clear();
                        this.iteration = i + 1;
                        this.seed = seed + 1;
                        onAgain.accept(i + 1, seed + 1);
                    }
                }
                finished.complete(exit);
            } catch (Throwable t) {
                finished.completeExceptionally(t);
            }
        });
    }

    private final Set<String> scenarioProcesses = ConcurrentHashMap.newKeySet();
    private final Set<String> scenarioThreads = ConcurrentHashMap.newKeySet();

    private void learnNames(List<Script.Node> nodes) {
        for (Script.Node n : nodes) {
            switch (n) {
                case Script.Stmt s -> {
                    scenarioProcesses.add(s.proc());
                    scenarioThreads.add(s.proc());
                }
                case Script.Repeat r -> learnNames(r.body());
                case Script.Par p -> p.threads().forEach(t -> {
                    scenarioThreads.add(t.proc() + "." + t.name());
                    learnNames(t.body());
                });
            }
        }
    }

    /** Whether the scenario has statements for this process. */
    public boolean hasProcess(String process) {
        return scenarioProcesses.contains(process);
    }

    /** Whether the scenario has a thread of this name ("A", "A.t1"). */
    public boolean hasThread(String thread) {
        return scenarioThreads.contains(thread);
    }

    private volatile java.util.function.BiConsumer<Iteration, List<TraceRecord>> onIteration = (it, trace) -> { };

    /** Told on the run's thread when an iteration ends, with its trace (metrics). */
    public void onIteration(java.util.function.BiConsumer<Iteration, List<TraceRecord>> listener) {
        this.onIteration = listener;
    }

    /** A client process said Hello. */
    public void clientJoined(String process) {
        clients.add(process);
    }

    /** The client processes that joined and are not gone. */
    public List<String> liveClients() {
        return clients.stream().filter(c -> !goneProcesses.contains(c)).sorted().toList();
    }

    public int iteration() {
        return iteration;
    }

    public long seed() {
        return seed;
    }

    /** The trace of the last finished iteration (empty before the first ends). */
    public List<TraceRecord> lastTrace() {
        return lastTrace;
    }

    /**
     * Ends the run early (the server shuts down): no further iteration
     * starts, and every statement still waiting for its client counts its
     * process as gone, so the current iteration runs to its end quickly and
     * its trace is complete.
     */
    public void abort() {
        stopRequested = true;
        goneProcesses.addAll(scenarioProcesses);
    }

    /** Told when the next iteration begins (iteration index, seed): the server sends Again to every client. */
    public void onAgain(java.util.function.BiConsumer<Integer, Long> listener) {
        this.onAgain = listener;
    }

    public int iterations() {
        return iterations;
    }

    public List<Iteration> results() {
        return results;
    }

    /** Mean time to reset the device between iterations (a new machine and runner), in nanoseconds. */
    public double meanResetNanos() {
        return resets == 0 ? 0 : resetNanos / (double) resets;
    }

    public CompletableFuture<Integer> finished() {
        return finished;
    }

    /** The run's trace (complete once {@link #finished()} is). */
    public List<TraceRecord> trace() {
        return recorder.records();
    }

    public Machine machine() {
        return machine;
    }

    private BlockingQueue<Ask> mailbox(String thread) {
        return mailboxes.computeIfAbsent(thread, t -> new LinkedBlockingQueue<>());
    }

    /** A client thread asks for the statement at {@code line}; {@code answer} gets its output line. */
    public void ask(String thread, int line, String op, Consumer<String> answer) {
        mailbox(thread).add(new Ask(line, op, answer));
    }

    /**
     * A client thread ended in iteration {@code iteration}: its statements
     * still to come in that iteration are not waited for (they are "gone").
     */
    public void threadExited(String thread, int iteration) {
        if (iteration == this.iteration) {
            exitedThreads.add(thread);
        }
    }

    /** The process's client went away: its remaining statements are not waited for. */
    public void processGone(String process) {
        goneProcesses.add(process);
    }

    @Override
    public void before(Script.Stmt s, String thread) {
        BlockingQueue<Ask> box = mailbox(thread);
        long since = System.nanoTime();
        long warnAt = watchdogMillis;
        while (true) {
            Ask a;
            try {
                a = box.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Runner.Gate.ProcessGone(s.proc());
            }
            if (a != null) {
                if (a.line() != s.line() || !a.op().equals(s.op().opName())) {
                    a.answer().accept("out of step: the scenario's next statement of " + thread + " is line "
                            + s.line() + " (" + s.op().opName() + "), not line " + a.line() + " (" + a.op() + ")");
                    goneProcesses.add(s.proc());
                    throw new Runner.Gate.ProcessGone(s.proc());
                }
                current.put(thread, a);
                return;
            }
            if (goneProcesses.contains(s.proc()) || giveUpIfLate()) {
                throw new Runner.Gate.ProcessGone(s.proc());
            }
            if (exitedThreads.contains(thread) && box.isEmpty()) {
                throw new Runner.Gate.ThreadGone(thread);
            }
            long waited = (System.nanoTime() - since) / 1_000_000;
            if (waited >= warnAt) {
                String secs = String.format(java.util.Locale.ROOT, "%.1f", waited / 1000.0);
                log.println(joinTimeout != null && !clients.contains(s.proc())
                        ? "gemulator: waiting for process " + s.proc() + " to connect (" + secs + " s; giving up after "
                                + joinTimeout.toSeconds() + " s)"
                        : "gemulator: watchdog: " + thread + " has stayed in user space for " + secs
                                + " s: it has not asked for line " + s.line() + " (" + s.op().opName()
                                + "); the run waits for it");
                log.flush();
                warnAt += watchdogMillis;
            }
        }
    }

    @Override
    public void after(Script.Stmt s, String thread, String line) {
        Ask a = current.remove(thread);
        if (a != null) {
            a.answer().accept(line == null ? "" : line);
        }
    }
}
