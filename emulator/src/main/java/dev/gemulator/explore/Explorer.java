package dev.gemulator.explore;

import dev.gemulator.Machine;
import dev.gemulator.check.FindingKey;
import dev.gemulator.check.Report;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.trace.Traces;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs many schedules of a scenario, seed after seed, and gathers the
 * distinct findings (kind and kernel function), each with the first seed
 * that showed it. Schedules are independent machines, so they run in
 * parallel; the result does not depend on how many jobs ran them.
 */
public final class Explorer {

    /** What to explore; with {@code checkDeterminism} every schedule runs twice and the trace hashes must match. */
    public record Config(Profile profile, Runner.RunOptions options, long firstSeed, int schedules, int jobs,
            boolean checkDeterminism) {
        public Config(Profile profile, Runner.RunOptions options, long firstSeed, int schedules, int jobs) {
            this(profile, options, firstSeed, schedules, jobs, false);
        }
    }

    /** Two runs of one schedule recorded different traces: a bug of the emulator, never of the model. */
    public static final class NondeterminismException extends RuntimeException {
        public NondeterminismException(String message) {
            super(message);
        }
    }

    /** A distinct finding. */
    public record Finding(Report.Kind kind, String function, String detail, long firstSeed, int schedules) {
        public FindingKey key() {
            return new FindingKey(FindingKey.Kind.of(kind), function);
        }
    }

    /** The findings in kind/function order and how long the run took. */
    public record Result(List<Finding> findings, int schedules, double seconds) {
        public boolean found(Report.Kind kind, String function) {
            return findings.stream().anyMatch(f -> f.kind == kind && f.function.equals(function));
        }
    }

    private Explorer() {
    }

    /** One schedule: the reports of the run with this seed. */
    /**
     * One schedule: the checkers' reports of the run with this seed, and an
     * EXPECTATION finding when a statement's stated expectation failed.
     */
    public static List<Report> runOne(Script script, Profile profile, Runner.RunOptions options) {
        Machine m = new Machine(profile);
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8);
        Runner runner = new Runner(m, sink, options);
        runner.run(script);
        List<Report> out = new ArrayList<>(m.checkers().reports());
        if (runner.firstFailure() != null) {
            out.add(new Report(Report.Kind.EXPECTATION, "line " + runner.firstFailedStatement().line(),
                    runner.firstFailure(), 0));
        }
        return out;
    }

    /** One schedule run twice with traces: the reports, after checking both traces are the same. */
    static List<Report> runTwiceAndCompare(Script script, Profile profile, Runner.RunOptions options) {
        TraceHeader h = TraceHeader.newBuilder()
                .setProfile(profile.name()).setSeed(options.seed()).setStrategy(options.strategy().label()).build();
        var first = Traces.run(script, h, profile, options);
        var second = Traces.run(script, h, profile, options);
        if (!first.hash().equals(second.hash())) {
            int at = Traces.firstDivergence(first.records(), second.records());
            throw new NondeterminismException("seed " + options.seed() + ": two runs differ at trace record " + at);
        }
        return runOne(script, profile, options);
    }

    public static Result explore(Script script, Config config) {
        long start = System.nanoTime();
        List<List<Report>> outcomes = new ArrayList<>(Collections.nCopies(config.schedules(), List.of()));
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, config.jobs()));
        try {
            List<Future<List<Report>>> futures = new ArrayList<>(config.schedules());
            for (int i = 0; i < config.schedules(); i++) {
                long seed = config.firstSeed() + i;
                Runner.RunOptions o = config.options();
                Runner.RunOptions withSeed = new Runner.RunOptions(seed, o.strategy(), o.pctDepth(), o.pctMaxSteps());
                futures.add(pool.submit(() -> config.checkDeterminism()
                        ? runTwiceAndCompare(script, config.profile(), withSeed)
                        : runOne(script, config.profile(), withSeed)));
            }
            for (int i = 0; i < futures.size(); i++) {
                outcomes.set(i, futures.get(i).get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("exploration interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NondeterminismException n) {
                throw n;
            }
            throw new IllegalStateException("a schedule failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        Map<FindingKey, Finding> findings = new TreeMap<>();
        for (int i = 0; i < outcomes.size(); i++) {
            long seed = config.firstSeed() + i;
            List<FindingKey> seenHere = new ArrayList<>();
            for (Report r : outcomes.get(i)) {
                FindingKey key = FindingKey.of(r);
                if (seenHere.contains(key)) {
                    continue;
                }
                seenHere.add(key);
                Finding f = findings.get(key);
                findings.put(key, f == null
                        ? new Finding(r.kind(), r.function(), r.detail(), seed, 1)
                        : new Finding(f.kind, f.function, f.detail, f.firstSeed, f.schedules + 1));
            }
        }
        return new Result(List.copyOf(findings.values()), config.schedules(), (System.nanoTime() - start) / 1e9);
    }
}
