package dev.gemulator.hunt;

import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import dev.gemulator.explore.Dfs;
import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.Traces;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The hunt for false reports: random concurrent scenarios
 * ({@link ConcurrentScenarios}), each run under every profile asked for with
 * POS, random, conflict and bounded DFS schedules. Under Linux 6.x every checker report
 * is a defect of the model (unless the real kernel has the bug, which a
 * scenario must then document with the fixing commit); under the historical
 * profiles every schedule with reports is classified into the spec's bugs
 * ({@link Classifier}), and what fits none is listed to be examined.
 *
 * <p>The result does not depend on how many jobs ran it.
 */
public final class Hunt {

    /** What to hunt: scenario seeds {@code firstScenario} on, schedules per scenario and profile. */
    public record Config(long firstScenario, int scenarios, int schedules, List<Profile> profiles, int jobs) {
    }

    /** One schedule with reports: where it came from and what it showed. */
    public record Hit(long scenario, String profile, String strategy, long seed, List<Report> reports,
            Classifier.Bug bug) {
        /** The first report that is not a leak, else the first one. */
        public Report primary() {
            return reports.stream().filter(r -> r.kind() != Report.Kind.LEAK).findFirst().orElse(reports.get(0));
        }

        /** How to run this schedule again, with the scenario written to {@code file}. */
        public String replay(String file) {
            return strategy.equals("dfs")
                    ? "./gemulator explore " + file + " --profile " + profile + " --strategy dfs --preemptions "
                            + DFS_PREEMPTIONS + "   # schedule " + seed + " of the search"
                    : "./gemulator run " + file + " --profile " + profile + " --strategy " + strategy + " --seed " + seed;
        }
    }

    /** Per profile: schedules run, and the schedules with reports. */
    public record ProfileResult(String profile, long schedules, List<Hit> hits) {
        /** Schedules per bug, in the order of {@link Classifier.Bug}. */
        public Map<Classifier.Bug, Long> byBug() {
            Map<Classifier.Bug, Long> out = new EnumMap<>(Classifier.Bug.class);
            for (Hit h : hits) {
                if (h.bug() != null) {
                    out.merge(h.bug(), 1L, Long::sum);
                }
            }
            return out;
        }

        /** The hits no bug of the spec explains (every hit under 6.x). */
        public List<Hit> unexplained() {
            return hits.stream().filter(h -> h.bug() == null).toList();
        }

        /**
         * The unexplained hits grouped by their primary report's kind and
         * function, each group's hits in hunt order.
         */
        public Map<String, List<Hit>> unexplainedByFinding() {
            Map<String, List<Hit>> out = new TreeMap<>();
            for (Hit h : unexplained()) {
                Report r = h.primary();
                out.computeIfAbsent(r.kind().label() + " " + r.function(), k -> new ArrayList<>()).add(h);
            }
            return out;
        }
    }

    /** The whole hunt. */
    public record Result(int scenarios, List<ProfileResult> profiles, double seconds) {
        public long schedules() {
            return profiles.stream().mapToLong(ProfileResult::schedules).sum();
        }
    }

    /** DFS explores schedules with at most this many preemptions. */
    public static final int DFS_PREEMPTIONS = 2;

    private Hunt() {
    }

    /** The seeded strategies a scenario runs under, in order, before its DFS share. */
    private static final Strategy.Name[] STRATEGIES = {Strategy.Name.POS, Strategy.Name.RANDOM, Strategy.Name.CONFLICT};

    /** How a scenario's schedules are split: 30% POS, 30% random walk, 20% conflict, the rest DFS. */
    static int[] split(int schedules) {
        int pos = schedules * 3 / 10;
        int random = schedules * 3 / 10;
        int conflict = schedules / 5;
        return new int[] {pos, random, conflict, schedules - pos - random - conflict};
    }

    /** The scenario of {@code seed}, parsed. A generated scenario that does not parse is a bug of the generator. */
    public static Script scenario(long seed) {
        String text = ConcurrentScenarios.generate(seed);
        try {
            return Parser.parse("hunt-" + seed + ".gem", text);
        } catch (ParseException e) {
            throw new IllegalStateException("generated scenario " + seed + " does not parse: " + e.getMessage()
                    + "\n" + text, e);
        }
    }

    private record Task(long scenario, Profile profile) {
    }

    private record Outcome(long schedules, List<Hit> hits) {
    }

    public static Result run(Config config) {
        long start = System.nanoTime();
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < config.scenarios(); i++) {
            for (Profile p : config.profiles()) {
                tasks.add(new Task(config.firstScenario() + i, p));
            }
        }
        List<Outcome> outcomes = new ArrayList<>(Collections.nCopies(tasks.size(), null));
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, config.jobs()));
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (Task t : tasks) {
                futures.add(pool.submit(() -> hunt(t, config.schedules())));
            }
            for (int i = 0; i < futures.size(); i++) {
                outcomes.set(i, futures.get(i).get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("the hunt was interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a schedule failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        Map<String, List<Hit>> hits = new LinkedHashMap<>();
        Map<String, Long> schedules = new TreeMap<>();
        for (Profile p : config.profiles()) {
            hits.put(p.name(), new ArrayList<>());
            schedules.put(p.name(), 0L);
        }
        for (int i = 0; i < tasks.size(); i++) {
            String p = tasks.get(i).profile().name();
            hits.get(p).addAll(outcomes.get(i).hits());
            schedules.merge(p, outcomes.get(i).schedules(), Long::sum);
        }
        List<ProfileResult> results = new ArrayList<>();
        for (Profile p : config.profiles()) {
            results.add(new ProfileResult(p.name(), schedules.get(p.name()), List.copyOf(hits.get(p.name()))));
        }
        return new Result(config.scenarios(), results, (System.nanoTime() - start) / 1e9);
    }

    /** Every schedule of one scenario under one profile. */
    private static Outcome hunt(Task t, int budget) {
        Script script = scenario(t.scenario());
        int[] split = split(budget);
        List<Hit> hits = new ArrayList<>();
        long runs = 0;
        for (int s = 0; s < STRATEGIES.length; s++) {
            for (long seed = 1; seed <= split[s]; seed++) {
                Runner.RunOptions o = new Runner.RunOptions(seed, STRATEGIES[s], 3, 1000);
                Schedule run = schedule(script, t.profile(), o);
                runs++;
                if (!run.reports().isEmpty()) {
                    hits.add(new Hit(t.scenario(), t.profile().name(), STRATEGIES[s].label(), seed, run.reports(),
                            Classifier.classify(t.profile(), run.reports(), run.output())));
                }
            }
        }
        int dfs = split[STRATEGIES.length];
        if (dfs > 0) {
            Runner.RunOptions o = new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000);
            var header = Traces.header(script.path(), "", t.profile(), o);
            long[] count = new long[1];
            Dfs.search(script, t.profile(), header, DFS_PREEMPTIONS, dfs, (schedule, run) -> {
                count[0]++;
                List<Report> reports = checkerReports(Dfs.reports(run.records()));
                if (!reports.isEmpty()) {
                    hits.add(new Hit(t.scenario(), t.profile().name(), "dfs", schedule, reports,
                            Classifier.classify(t.profile(), reports, Dfs.output(run.records()))));
                }
            });
            runs += count[0];
        }
        return new Outcome(runs, hits);
    }

    /** One schedule's checker reports and its output. */
    public record Schedule(List<Report> reports, String output) {
    }

    /** Runs one schedule of {@code script}. */
    public static Schedule schedule(Script script, Profile profile, Runner.RunOptions options) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Machine m = new Machine(profile);
        new Runner(m, new PrintStream(output, false, StandardCharsets.UTF_8), options).run(script);
        return new Schedule(checkerReports(m.checkers().reports()), output.toString(StandardCharsets.UTF_8));
    }

    /** The checkers' reports: expectations are not the checkers' (the generated threads state none). */
    private static List<Report> checkerReports(List<Report> reports) {
        return reports.stream().filter(r -> r.kind() != Report.Kind.EXPECTATION).toList();
    }
}
