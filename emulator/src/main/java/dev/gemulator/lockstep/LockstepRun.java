package dev.gemulator.lockstep;

import com.google.protobuf.ByteString;
import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import dev.gemulator.check.FindingKey;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.TraceRecorder;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
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
 *
 * <p>Clients may die and come back. A process whose connection drops is
 * gone for the rest of the iteration: its statements not yet asked for
 * print "gone" (the same point whatever the timing, given what it had
 * asked). A process that connects again, however late, joins at the next
 * iteration boundary (it waits for that iteration's Again); every iteration
 * from the one it joins is the one an undisturbed run gives for its seed.
 * Until it is back, each iteration starts with it gone. Asks carry their
 * iteration, so an ask left over from an iteration that is over is answered
 * as stale and never taken for a later one; a thread has at most one
 * statement asked for at a time.
 */
public final class LockstepRun implements Runner.Gate {
    /** A client thread's request for a statement of an iteration. */
    private record Ask(int iteration, int line, String op, Consumer<String> answer) {
    }

    /** Guards the state of the iteration under way, from here to {@code onAgain}. */
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** The statement each client thread asked for and the run has not taken yet: one at a time. */
    private final Map<String, Ask> asked = new HashMap<>();
    /** The statement each thread is running, until its line is answered. */
    private final Map<String, Ask> current = new HashMap<>();
    /** Processes whose client is connected now. */
    private final Set<String> connected = new TreeSet<>();
    /** Processes whose client said Hello at least once. */
    private final Set<String> everJoined = ConcurrentHashMap.newKeySet();
    /** Processes whose client went away and has not come back: gone from every iteration that starts. */
    private final Set<String> departed = new TreeSet<>();
    /** Processes gone in the iteration under way. */
    private final Set<String> goneProcesses = new HashSet<>();
    private final Set<String> exitedThreads = new HashSet<>();
    private final CompletableFuture<Integer> finished = new CompletableFuture<>();
    private final long watchdogMillis;
    private final PrintStream log;
    private volatile TraceRecorder recorder;
    private volatile Machine machine;
    private volatile int iterations = 1;
    private BiConsumer<Integer, Long> onAgain = (i, seed) -> { };
    private final List<Iteration> results = new CopyOnWriteArrayList<>();
    private final List<String> findings = new CopyOnWriteArrayList<>();
    private final List<Join> joins = new CopyOnWriteArrayList<>();
    private long resetNanos;
    private int resets;
    private volatile int iteration;
    private volatile long seed;
    private volatile boolean stopRequested;
    private volatile List<TraceRecord> lastTrace = List.of();
    private volatile ByteString lastTraceBytes;

    /** What one iteration of the run did. */
    public record Iteration(long seed, int exitStatus, String traceHash, List<Report> reports,
            String failure) {
    }

    /** A client process said Hello while the run was at {@code during}, and takes part from {@code from} on. */
    public record Join(String process, int during, int from) {
    }

    public LockstepRun(long watchdogMillis, PrintStream log) {
        this.watchdogMillis = watchdogMillis;
        this.log = log;
    }

    private volatile long joinDeadline = Long.MAX_VALUE;
    private volatile Duration joinTimeout;
    private volatile String scenarioName = "the scenario";
    private volatile String gaveUp;

    /**
     * Gives up the run when a process of the scenario has not connected
     * within {@code timeout} of {@link #start}: its statements and every
     * other process's still to come are "gone", no further iteration starts,
     * and {@link #gaveUp()} names the processes that never came.
     */
    public void joinTimeout(Duration timeout, String scenario) {
        this.joinTimeout = timeout;
        this.scenarioName = scenario;
    }

    /** Why the run gave up waiting for its clients, or null when it did not. */
    public String gaveUp() {
        return gaveUp;
    }

    /** The run's processes that have not connected yet, in order. */
    private List<String> missing() {
        return scenarioProcesses.stream().filter(p -> !everJoined.contains(p)).sorted().toList();
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
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream(), false,
                StandardCharsets.UTF_8);
        Thread.ofPlatform().name("gemulator-lockstep").daemon().start(() -> {
            try {
                int exit = 0;
                for (int i = 0; i < iterations && !stopRequested; i++) {
                    long seed = options.seed() + i;
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
                    it.reports().forEach(r -> findings.add(FindingKey.of(r).toString()));
                    lastTrace = List.copyOf(recorder.records());
                    lastTraceBytes = null;
                    onIteration.accept(it, lastTrace);
                    if (iterations > 1) {
                        out.println("iteration " + i + " seed " + seed + ": exit " + exit + ", " + it.reports().size()
                                + " reports" + (it.failure() == null ? "" : ", " + it.failure()) + ", trace "
                                + it.traceHash().substring(0, 16));
                    }
                    out.flush();
                    if (i + 1 < iterations && !stopRequested) {
                        awaitHold(i + 1);
                        nextIteration(i + 1, seed + 1);
                    }
                }
                lock.lock();
                try {
                    ended = true;
                } finally {
                    lock.unlock();
                }
                finished.complete(exit);
            } catch (Throwable t) {
                finished.completeExceptionally(t);
            }
        });
    }

    private boolean ended;
    /** The first iteration that may not begin until {@link #release}: none while it is the largest int. */
    private int holdBefore = Integer.MAX_VALUE;
    private final Condition released = lock.newCondition();

    /**
     * Keeps iteration {@code next} (and every later one) from beginning until
     * {@link #release}: the iteration under way runs to its end and the run
     * waits at that boundary, where clients may still join (they take part
     * from {@code next}). A later boundary replaces an earlier one, and a
     * run waiting at the earlier one goes on to it. A supervisor uses it to
     * place kills and bound a restart's absence in iterations, whatever the
     * machine's speed.
     */
    public void holdBefore(int next) {
        lock.lock();
        try {
            holdBefore = next;
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Lets the run go past the boundary {@link #holdBefore} set. */
    public void release() {
        lock.lock();
        try {
            holdBefore = Integer.MAX_VALUE;
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the run waits at the held boundary now. */
    public boolean held() {
        lock.lock();
        try {
            return waitingAtHold;
        } finally {
            lock.unlock();
        }
    }

    private boolean waitingAtHold;

    private void awaitHold(int next) throws InterruptedException {
        lock.lock();
        try {
            while (next >= holdBefore && !stopRequested) {
                waitingAtHold = true;
                released.await();
            }
            waitingAtHold = false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The boundary: the next iteration begins with every process gone whose
     * client is not connected now; asks of the iteration that ended are
     * answered as stale; and every connected client is told Again, all in
     * one step with respect to clients joining.
     */
    private void nextIteration(int next, long nextSeed) {
        List<Ask> stale = new ArrayList<>();
        lock.lock();
        try {
            stale.addAll(asked.values());
            stale.addAll(current.values());
            asked.clear();
            current.clear();
            exitedThreads.clear();
            goneProcesses.clear();
            goneProcesses.addAll(departed);
            if (stopRequested) {
                goneProcesses.addAll(scenarioProcesses);
            }
            this.iteration = next;
            this.seed = nextSeed;
            onAgain.accept(next, nextSeed);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        stale.forEach(a -> a.answer().accept(staleAnswer(a)));
    }

    private String staleAnswer(Ask a) {
        return "stale: iteration " + a.iteration() + " is over (the run is at iteration " + iteration + ")";
    }

    private final Set<String> scenarioProcesses = ConcurrentHashMap.newKeySet();
    private final Set<String> scenarioThreads = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> threadsPerProcess = new ConcurrentHashMap<>();

    private void learnNames(List<Script.Node> nodes) {
        for (Script.Node n : nodes) {
            switch (n) {
                case Script.Stmt s -> {
                    scenarioProcesses.add(s.proc());
                    scenarioThreads.add(s.proc());
                }
                case Script.Repeat r -> learnNames(r.body());
                case Script.Par p -> p.threads().forEach(t -> {
                    if (scenarioThreads.add(t.proc() + "." + t.name())) {
                        threadsPerProcess.merge(t.proc(), 1, Integer::sum);
                    }
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

    /** How many par threads the scenario gives {@code process} (what its client may have started at once). */
    public int threadsOf(String process) {
        return threadsPerProcess.getOrDefault(process, 0);
    }

    private volatile BiConsumer<Iteration, List<TraceRecord>> onIteration = (it, trace) -> { };

    /** Told on the run's thread when an iteration ends, with its trace (metrics). */
    public void onIteration(BiConsumer<Iteration, List<TraceRecord>> listener) {
        this.onIteration = listener;
    }

    /**
     * A client process said Hello: decides the first iteration it takes part
     * in and tells {@code welcome} (which writes the Welcome and makes the
     * connection hear Again) in the same step, so that no Again falls
     * between. A process not gone in the iteration under way takes part in
     * it (the run waits for it); one that is gone joins at the next one.
     */
    public void join(String process, Welcome welcome) {
        lock.lock();
        try {
            int during = iteration;
            int from = ended || stopRequested ? iterations : goneProcesses.contains(process) ? during + 1 : during;
            connected.add(process);
            everJoined.add(process);
            departed.remove(process);
            joins.add(new Join(process, during, from));
            welcome.accept(from, during);
        } finally {
            lock.unlock();
        }
    }

    /** A client process said Hello (no Welcome to write: tests and in-process clients). */
    public void clientJoined(String process) {
        join(process, (from, during) -> { });
    }

    /** What {@link #join} tells: the iteration the process starts with, and the one under way. */
    public interface Welcome {
        void accept(int from, int during);
    }

    /** Every Hello of a client process so far, in order. */
    public List<Join> joins() {
        return joins;
    }

    /** The client processes connected now. */
    public List<String> liveClients() {
        lock.lock();
        try {
            return List.copyOf(connected);
        } finally {
            lock.unlock();
        }
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

    /** The same as a trace file's bytes, made once per iteration however often it is asked for. */
    public ByteString lastTraceBytes() {
        ByteString b = lastTraceBytes;
        if (b == null) {
            List<TraceRecord> trace = lastTrace;
            if (trace.isEmpty()) {
                return ByteString.EMPTY;
            }
            var out = ByteString.newOutput();
            try {
                TraceRecorder.write(trace, out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            b = out.toByteString();
            if (lastTrace == trace) {
                lastTraceBytes = b;
            }
        }
        return b;
    }

    /** "kind function" of every report of every finished iteration, once per iteration it was made in. */
    public List<String> findings() {
        return findings;
    }

    /**
     * Ends the run early (the server shuts down): no further iteration
     * starts, and every statement still waiting for its client counts its
     * process as gone, so the current iteration runs to its end quickly and
     * its trace is complete.
     */
    public void abort() {
        lock.lock();
        try {
            stopRequested = true;
            goneProcesses.addAll(scenarioProcesses);
            changed.signalAll();
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Told when the next iteration begins (iteration index, seed): the server sends Again to every client. */
    public void onAgain(BiConsumer<Integer, Long> listener) {
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

    /** Asks for a statement of the iteration under way (tests). */
    public boolean ask(String thread, int line, String op, Consumer<String> answer) {
        return ask(thread, iteration, line, op, answer);
    }

    /**
     * A client thread asks for the statement at {@code line} of iteration
     * {@code iteration}; {@code answer} gets its output line. An ask for an
     * iteration that is not under way is answered as stale at once. Returns
     * false, taking nothing, when the thread already has a statement asked
     * for that is not answered (a client asks for one at a time).
     */
    public boolean ask(String thread, int iteration, int line, String op, Consumer<String> answer) {
        Ask a = new Ask(iteration, line, op, answer);
        lock.lock();
        try {
            if (iteration == this.iteration && !ended) {
                if (asked.containsKey(thread) || current.containsKey(thread)) {
                    return false;
                }
                asked.put(thread, a);
                changed.signalAll();
                return true;
            }
        } finally {
            lock.unlock();
        }
        answer.accept(staleAnswer(a));
        return true;
    }

    /**
     * A client thread ended in iteration {@code iteration}: its statements
     * still to come in that iteration are not waited for (they are "gone").
     */
    public void threadExited(String thread, int iteration) {
        lock.lock();
        try {
            if (iteration == this.iteration) {
                exitedThreads.add(thread);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The process's client went away: its remaining statements are not waited for, until it comes back. */
    public void processGone(String process) {
        lock.lock();
        try {
            connected.remove(process);
            departed.add(process);
            goneProcesses.add(process);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void before(Script.Stmt s, String thread) {
        long since = System.nanoTime();
        long warnAt = watchdogMillis;
        lock.lock();
        try {
            while (true) {
                Ask a = asked.remove(thread);
                if (a != null) {
                    if (a.line() != s.line() || !a.op().equals(s.op().opName())) {
                        goneProcesses.add(s.proc());
                        lock.unlock();
                        try {
                            a.answer().accept("out of step: the scenario's next statement of " + thread + " is line "
                                    + s.line() + " (" + s.op().opName() + "), not line " + a.line() + " (" + a.op() + ")");
                        } finally {
                            lock.lock();
                        }
                        throw new Runner.Gate.ProcessGone(s.proc());
                    }
                    current.put(thread, a);
                    return;
                }
                if (goneProcesses.contains(s.proc())) {
                    throw new Runner.Gate.ProcessGone(s.proc());
                }
                if (giveUpIfLate()) {
                    throw new Runner.Gate.ProcessGone(s.proc());
                }
                if (exitedThreads.contains(thread)) {
                    throw new Runner.Gate.ThreadGone(thread);
                }
                try {
                    changed.await(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Runner.Gate.ProcessGone(s.proc());
                }
                long waited = (System.nanoTime() - since) / 1_000_000;
                if (waited >= warnAt) {
                    String secs = String.format(Locale.ROOT, "%.1f", waited / 1000.0);
                    log.println(joinTimeout != null && !everJoined.contains(s.proc())
                            ? "gemulator: waiting for process " + s.proc() + " to connect (" + secs + " s; giving up after "
                                    + joinTimeout.toSeconds() + " s)"
                            : "gemulator: watchdog: " + thread + " has stayed in user space for " + secs
                                    + " s: it has not asked for line " + s.line() + " (" + s.op().opName()
                                    + "); the run waits for it");
                    log.flush();
                    warnAt += watchdogMillis;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void after(Script.Stmt s, String thread, String line) {
        Ask a;
        lock.lock();
        try {
            a = current.remove(thread);
        } finally {
            lock.unlock();
        }
        if (a != null) {
            a.answer().accept(line == null ? "" : line);
        }
    }
}
