package dev.gemulator.gemscript;

import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.sched.InterleavingScheduler;
import dev.gemulator.sched.Strategy;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Runs a parsed script on a machine, statement by statement in file order,
 * and prints the contract output of spec/gemscript.md: one line per
 * statement, the checkers' reports, then the expectations summary. The
 * statements themselves run in {@link Statements}, through the lockstep
 * gate in {@link Gatekeeper} when a run has one; the threads of a par block
 * are interleaved here, under the seeded strategy.
 *
 * <p>Exit status: 0 when every expectation held, 1 when one failed, 3 when a
 * checker reported a kernel bug (whatever the expectations did).
 */
public final class Runner {
    /** Exit statuses of a run. */
    public static final int OK = 0;
    public static final int EXPECTATION_FAILED = 1;
    public static final int PARSE_ERROR = 2;
    public static final int KERNEL_BUG = 3;

    private final Machine machine;
    private final Output out;
    private final Tally tally = new Tally();
    private final Statements statements;
    private final Scope top = new Scope(null);
    private final RunOptions options;
    private final Random random;
    private final int[] replayCursor = new int[1];
    private long longestParSteps;
    private final List<Integer> decisions = new ArrayList<>();
    private Gatekeeper gatekeeper;

    /**
     * How the threads of {@code par} blocks are interleaved: the seed, the
     * strategy and, to replay a recorded schedule,
     * its decisions.
     */
    public record RunOptions(long seed, Strategy.Name strategy, int pctDepth, long pctMaxSteps, int[] replayDecisions) {
        public static final RunOptions DEFAULT = new RunOptions(0, Strategy.Name.RANDOM, 3, 10_000);

        public RunOptions(long seed, Strategy.Name strategy, int pctDepth, long pctMaxSteps) {
            this(seed, strategy, pctDepth, pctMaxSteps, null);
        }

        /** The strategy of a par block; with recorded decisions, a replay of them. */
        Strategy newStrategy(int[] replayCursor) {
            Strategy s = strategy.create(pctDepth, pctMaxSteps);
            return replayDecisions == null ? s : new Strategy.Replay(replayDecisions, replayCursor, s);
        }
    }

    /**
     * Where statements wait for their process (lockstep runs): before a
     * statement runs, {@link #before} blocks until the client thread that
     * owns it asks for it; {@link #after} hands it the statement's line.
     */
    public interface Gate {
        /** Thrown by {@link #before} when the process's client is gone for good. */
        final class ProcessGone extends RuntimeException {
            public ProcessGone(String process) {
                super(process, null, false, false);
            }
        }

        /** Thrown by {@link #before} when the client thread ended with statements left (its process lives on). */
        final class ThreadGone extends RuntimeException {
            public ThreadGone(String thread) {
                super(thread, null, false, false);
            }
        }

        void before(Script.Stmt s, String thread);

        void after(Script.Stmt s, String thread, String line);
    }

    public Runner(Machine machine, PrintStream out) {
        this(machine, out, RunOptions.DEFAULT);
    }

    public Runner(Machine machine, PrintStream out, RunOptions options) {
        this.machine = machine;
        this.out = new Output(out);
        this.statements = new Statements(machine.sys(), this.out, tally);
        this.options = options;
        this.random = new Random(options.seed());
    }

    /** Runs the script to the end, tears the machine down and prints the summary. Returns the exit status. */
    public int run(Script script) {
        if (script.hasPar()) {
            out.print("seed " + options.seed() + " strategy " + options.strategy());
        }
        runNodes(script.nodes(), null, top);
        List<Report> reports = machine.teardown();
        RunRecorder recorder = out.recorder();
        for (Report r : reports) {
            out.print(r.line());
            if (recorder != null) {
                recorder.report(r);
            }
        }
        out.print("expectations: " + tally.passed() + " passed, " + tally.failed() + " failed");
        out.flush();
        int exit = !reports.isEmpty() ? KERNEL_BUG : tally.failed() == 0 ? OK : EXPECTATION_FAILED;
        if (recorder != null) {
            recorder.end(exit);
        }
        return exit;
    }

    /** Records the run (steps, decisions, lines, reports) into {@code recorder}. */
    public Runner traceTo(RunRecorder recorder) {
        out.recordTo(recorder);
        machine.observe(recorder);
        return this;
    }

    /** Calls {@code hook} before each statement runs (the demo narrates with it). */
    public Runner beforeStatement(Consumer<Script.Stmt> hook) {
        statements.beforeStatement(hook);
        return this;
    }

    /** Runs every statement through {@code gate} (lockstep runs of client processes). */
    public Runner gate(Gate gate) {
        this.gatekeeper = new Gatekeeper(gate, statements, machine.sys(), out, tally);
        return this;
    }

    /** The most steps any par block of the run took (PCT's k for this scenario). */
    public long longestParSteps() {
        return longestParSteps;
    }

    /** The decisions of the run's par blocks, in order (what a replay of the schedule follows). */
    public List<Integer> decisions() {
        return Collections.unmodifiableList(decisions);
    }

    /**
     * PCT needs the number of steps k of a run; this measures it with one
     * random run of the scenario on a fresh machine.
     */
    public static long measureSteps(Script script, Profile profile) {
        Runner r = new Runner(new Machine(profile),
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8),
                new RunOptions(0, Strategy.Name.RANDOM, 1, 1));
        r.run(script);
        return Math.max(1, r.longestParSteps());
    }

    /** The first statement whose expectation failed, or null. */
    public Script.Stmt firstFailedStatement() {
        return tally.firstFailedStatement();
    }

    /** What the first failed expectation was ("line 9: gem_close expected EINVAL, got ok"), or null. */
    public String firstFailure() {
        return tally.firstFailure();
    }

    public int passed() {
        return tally.passed();
    }

    public int failed() {
        return tally.failed();
    }

    /** Runs nodes as the main thread of their processes ({@code thread} null) or as one thread of a par. */
    private void runNodes(List<Script.Node> nodes, Task thread, Scope scope) {
        for (Script.Node n : nodes) {
            switch (n) {
                case Script.Stmt s -> {
                    if (gatekeeper != null) {
                        gatekeeper.run(s, thread, scope);
                    } else {
                        statements.run(s, thread, scope);
                    }
                }
                case Script.Repeat r -> {
                    for (long i = 0; i < r.count(); i++) {
                        runNodes(r.body(), thread, scope);
                    }
                }
                case Script.Par p -> par(p);
            }
        }
    }

    /** The threads of a par block run together under the seeded strategy. */
    private void par(Script.Par p) {
        List<InterleavingScheduler.ThreadSpec> specs = new ArrayList<>();
        for (Script.Thread t : p.threads()) {
            Process proc = statements.proc(t.proc());
            String name = t.proc() + "." + t.name();
            Task task = proc.newTask(name);
            Scope scope = new Scope(top);
            specs.add(new InterleavingScheduler.ThreadSpec(name, task, () -> runNodes(t.body(), task, scope)));
        }
        Strategy strategy = options.newStrategy(replayCursor);
        InterleavingScheduler sched = new InterleavingScheduler(machine.kernel(), strategy, random);
        if (out.recorder() != null) {
            sched.onDecision(out.recorder());
        }
        sched.run(specs);
        longestParSteps = Math.max(longestParSteps, sched.steps());
        decisions.addAll(sched.decisions());
        out.print("par " + p.line() + ": " + strategy.describe() + ", " + sched.steps() + " steps, "
                + sched.decisions().size() + " decisions");
    }
}
