package dev.gemulator.explore;

import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Coverage-guided exploration: schedules whose {@link Coverage} pairs were
 * new go into a corpus, and later schedules are mostly mutations of corpus
 * entries: the entry's decisions up to a random point, there a different
 * thread (or none: the strategy picks), and from then on the strategy
 * decides with the schedule's own seed ({@link Strategy.Replay#STRATEGY}).
 * The rest are fresh schedules of the strategy, seed after seed, as an
 * unguided explore runs them.
 *
 * <p>Schedules run in batches of {@link #BATCH}, planned from the corpus as
 * it was before the batch; a batch's schedules run in parallel and are then
 * taken in order. Every choice comes from a generator seeded with the
 * run's first seed, so a run's result does not depend on --jobs, and the
 * same command gives the same result.
 */
public final class Guided {
    /** Schedules planned together from one state of the corpus. */
    public static final int BATCH = 32;
    /** How many corpus entries are drawn to choose the parent of a mutation. */
    static final int TOURNAMENT = 3;

    /** What to explore: as {@link Explorer.Config}; {@code guided} false runs the seeds unguided (the baseline). */
    public record Config(Profile profile, Runner.RunOptions options, long firstSeed, int schedules, int jobs,
            boolean guided) {
    }

    /** Schedule {@code index}: its seed, and the decisions it starts with (null: none, the strategy alone). */
    public record Plan(int index, long seed, int[] decisions, int parent) {
        /** The options that run it. */
        public Runner.RunOptions options(Runner.RunOptions base) {
            return new Runner.RunOptions(seed, base.strategy(), base.pctDepth(), base.pctMaxSteps(), decisions);
        }
    }

    /** What a schedule did: its reports, its coverage pairs (sorted) and the decisions it took. */
    public record Outcome(List<Report> reports, long[] pairs, int[] decisions) {
    }

    /** A finding of the run and the plan of the first schedule that showed it. */
    public record Found(Explorer.Finding finding, Plan first) {
    }

    /**
     * The findings (kind/function order), the coverage after every schedule
     * (pairs and distinct fingerprints, cumulative), the corpus size and how
     * many schedules were mutations.
     */
    public record Result(List<Found> findings, int schedules, int[] pairsCurve, int[] fingerprintCurve, int corpus,
            int mutated, double seconds) {
        public int pairs() {
            return pairsCurve.length == 0 ? 0 : pairsCurve[pairsCurve.length - 1];
        }

        public int fingerprints() {
            return fingerprintCurve.length == 0 ? 0 : fingerprintCurve[fingerprintCurve.length - 1];
        }

        /** The number of the first schedule (1-based) that showed {@code kind function}, or 0. */
        public int firstSchedule(Report.Kind kind, String function) {
            return findings.stream().filter(f -> f.finding().kind() == kind && f.finding().function().equals(function))
                    .mapToInt(f -> f.first().index() + 1).findFirst().orElse(0);
        }
    }

    private Guided() {
    }

    /** Runs one schedule with its coverage. */
    public static Outcome runOne(Script script, Profile profile, Runner.RunOptions options) {
        Machine m = new Machine(profile);
        Coverage coverage = new Coverage();
        m.observe(coverage);
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8);
        Runner runner = new Runner(m, sink, options);
        runner.run(script);
        List<Report> out = new ArrayList<>(m.checkers().reports());
        if (runner.firstFailure() != null) {
            out.add(new Report(Report.Kind.EXPECTATION, "line " + runner.firstFailedStatement().line(),
                    runner.firstFailure(), 0));
        }
        int[] d = runner.decisions().stream().mapToInt(Integer::intValue).toArray();
        return new Outcome(out, coverage.pairs(), d);
    }

    /** A corpus entry: the schedule's decisions, how many threads they name, its number and its pairs. */
    private record Entry(int[] decisions, int threads, int index, long[] pairs) {
    }

    /** Runs {@code config.schedules()} schedules, guided or (the baseline) not. */
    public static Result explore(Script script, Config config) {
        long start = System.nanoTime();
        Random random = new Random(Coverage.mix(config.firstSeed() ^ 0x6A09E667F3BCC909L));
        List<Entry> corpus = new ArrayList<>();
        Map<Long, int[]> covered = new HashMap<>();
        Set<Long> fingerprints = new HashSet<>();
        int[] pairsCurve = new int[config.schedules()];
        int[] fingerprintCurve = new int[config.schedules()];
        Map<String, Found> findings = new TreeMap<>();
        int mutated = 0;
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, config.jobs()));
        try {
            for (int from = 0; from < config.schedules(); from += BATCH) {
                int to = Math.min(config.schedules(), from + BATCH);
                List<Plan> plans = new ArrayList<>();
                for (int i = from; i < to; i++) {
                    Plan p = config.guided() ? plan(i, config.firstSeed() + i, corpus, covered, random)
                            : new Plan(i, config.firstSeed() + i, null, -1);
                    mutated += p.decisions() != null ? 1 : 0;
                    plans.add(p);
                }
                List<Future<Outcome>> futures = new ArrayList<>();
                for (Plan p : plans) {
                    Runner.RunOptions o = p.options(config.options());
                    futures.add(pool.submit(() -> runOne(script, config.profile(), o)));
                }
                for (int k = 0; k < plans.size(); k++) {
                    Plan p = plans.get(k);
                    Outcome out = futures.get(k).get();
                    boolean fresh = false;
                    for (long pair : out.pairs()) {
                        int[] hits = covered.get(pair);
                        if (hits == null) {
                            covered.put(pair, new int[] {1});
                            fresh = true;
                        } else {
                            hits[0]++;
                        }
                    }
                    fingerprints.add(Coverage.fingerprint(out.pairs()));
                    pairsCurve[p.index()] = covered.size();
                    fingerprintCurve[p.index()] = fingerprints.size();
                    if (fresh && out.decisions().length > 0) {
                        corpus.add(new Entry(out.decisions(), Arrays.stream(out.decisions()).max().orElse(0) + 1,
                                p.index(), out.pairs()));
                    }
                    record(findings, out.reports(), p);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("exploration interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a schedule failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return new Result(List.copyOf(findings.values()), config.schedules(), pairsCurve, fingerprintCurve,
                corpus.size(), mutated, (System.nanoTime() - start) / 1e9);
    }

    /**
     * The plan of schedule {@code index}: with an empty corpus, or one time
     * in two, a fresh schedule; else a mutation of a corpus entry: of
     * {@link #TOURNAMENT} entries drawn, the one whose rarest pair the
     * fewest schedules have reached.
     */
    private static Plan plan(int index, long seed, List<Entry> corpus, Map<Long, int[]> covered, Random random) {
        if (corpus.isEmpty() || random.nextBoolean()) {
            return new Plan(index, seed, null, -1);
        }
        int n = corpus.size();
        Entry parent = null;
        long best = Long.MAX_VALUE;
        for (int k = 0; k < TOURNAMENT; k++) {
            Entry e = corpus.get(random.nextInt(n));
            long rare = rarity(e, covered);
            if (rare < best) {
                best = rare;
                parent = e;
            }
        }
        int[] d = parent.decisions();
        int at = random.nextInt(d.length);
        int[] out;
        if (parent.threads() > 1 && random.nextInt(3) != 0) {
            // another thread at that decision, then the strategy
            int other = random.nextInt(parent.threads() - 1);
            out = Arrays.copyOf(d, at + 2);
            out[at] = other >= d[at] ? other + 1 : other;
        } else {
            // the strategy takes over at that decision (with this schedule's seed)
            out = Arrays.copyOf(d, at + 1);
        }
        out[out.length - 1] = Strategy.Replay.STRATEGY;
        return new Plan(index, seed, out, parent.index());
    }

    /** How many schedules had the rarest pair of {@code e}. */
    private static long rarity(Entry e, Map<Long, int[]> covered) {
        long min = Long.MAX_VALUE;
        for (long p : e.pairs()) {
            min = Math.min(min, covered.get(p)[0]);
        }
        return min;
    }

    private static void record(Map<String, Found> findings, List<Report> reports, Plan p) {
        List<String> seenHere = new ArrayList<>();
        for (Report r : reports) {
            String key = r.kind().label() + " " + r.function();
            if (seenHere.contains(key)) {
                continue;
            }
            seenHere.add(key);
            Found f = findings.get(key);
            findings.put(key, f == null
                    ? new Found(new Explorer.Finding(r.kind(), r.function(), r.detail(), p.seed(), 1), p)
                    : new Found(new Explorer.Finding(f.finding().kind(), f.finding().function(), f.finding().detail(),
                            f.finding().firstSeed(), f.finding().schedules() + 1), f.first()));
        }
    }
}
