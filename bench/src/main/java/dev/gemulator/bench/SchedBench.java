package dev.gemulator.bench;

import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import dev.gemulator.explore.Explorer;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Benchmarks of the seeded interleaving (issue "Seeded interleaving inside
 * the kernel"): schedules/s and steps/s on IGT's export-vs-gem_close race
 * (2 threads x 10 iterations), against the same scenario run with its par
 * block flattened (no interleaving) in the same run; and how many schedules
 * each strategy needs to hit the 3.11 use-after-free, the seed commit's
 * S-L1 leak and 3.11's L-flink name leak (median and p90 over independent
 * trials; conflict is the conflict-directed strategy). Nothing is asserted.
 */
public final class SchedBench {
    private SchedBench() {
    }

    private static Script scenario(String name) throws Exception {
        Path p = Path.of(System.getProperty("gemulator.repo", "."), "scenarios", name);
        return Parser.parse(p.toString(), Files.readString(p));
    }

    private static final PrintStream SINK = new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8);

    /** The scenario with its par block run as plain sequential statements: one thread after the other. */
    private static Script flattened(Script s) {
        List<Script.Node> out = new ArrayList<>();
        for (Script.Node n : s.nodes()) {
            if (n instanceof Script.Par p) {
                for (Script.Thread t : p.threads()) {
                    out.addAll(t.body());
                }
            } else {
                out.add(n);
            }
        }
        return new Script(s.path(), out);
    }

    private static double[] rate(Script s, Profile p, Strategy.Name strategy, double seconds) {
        long schedules = 0;
        long steps = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        while (System.nanoTime() < end) {
            Machine m = new Machine(p);
            new Runner(m, SINK, new Runner.RunOptions(schedules + 1, strategy, 3, 800)).run(s);
            steps += m.checkers().steps();
            schedules++;
        }
        double secs = (System.nanoTime() - start) / 1e9;
        return new double[] {schedules / secs, steps / secs};
    }

    /** Schedules until the first schedule that shows the finding, for trials starting at different seeds. */
    private static long[] schedulesToFind(Script s, Profile p, Strategy.Name strategy, Report.Kind kind, String function,
            Seeds seeds, int cap) {
        long[] counts = new long[seeds.trials];
        for (int t = 0; t < seeds.trials; t++) {
            long base = seeds.first(t);
            counts[t] = cap;
            for (int i = 0; i < cap; i++) {
                List<Report> r = Explorer.runOne(s, p, new Runner.RunOptions(base + i, strategy, 3, 800));
                if (r.stream().anyMatch(x -> x.kind() == kind && x.function().equals(function))) {
                    counts[t] = i + 1;
                    break;
                }
            }
        }
        if (SchedBench.counts) {
            System.out.println("  " + strategy + " per trial: " + Arrays.toString(counts));
        }
        Arrays.sort(counts);
        return counts;
    }

    /**
     * The first seeds of the trials: trial k (from 1) starts at {@code step * k + offset}. The table's
     * default is 1000003*k; another family (--seed-step 7919 --seed-offset 13) checks that a change to a
     * strategy is not fitted to the default's seeds.
     */
    record Seeds(int trials, long step, long offset) {
        long first(int trial) {
            return step * (trial + 1) + offset;
        }

        String describe() {
            return step + "*k" + (offset == 0 ? "" : "+" + offset);
        }
    }

    /** The bugs of the table: the scenario, the profile it shows under, the report that is the finding, by the name --bugs takes. */
    private enum Bug {
        UAF("uaf", "v3.11 export-vs-gem_close use-after-free", "export_vs_gem_close.gem", Profile.V3_11,
                Report.Kind.USE_AFTER_FREE, "drm_gem_prime_handle_to_fd"),
        SL("sl", "seed S-L1/S-L2 stale member", "seed/s_l.gem", Profile.SEED, Report.Kind.WARN,
                "drm_prime_destroy_file_private"),
        FLINK("flink", "v3.11 L-flink name leak", "v3.11/l_flink.gem", Profile.V3_11, Report.Kind.LEAK,
                "drm_gem_object_handle_free");

        final String label;
        final String title;
        final String scenario;
        final Profile profile;
        final Report.Kind kind;
        final String function;

        Bug(String label, String title, String scenario, Profile profile, Report.Kind kind, String function) {
            this.label = label;
            this.title = title;
            this.scenario = scenario;
            this.profile = profile;
            this.kind = kind;
            this.function = function;
        }
    }

    /** Whether each row is followed by every trial's count (--counts), in trial order. */
    private static boolean counts;

    public static void main(String[] args) throws Exception {
        double seconds = 3;
        int trials = 21;
        long step = 1_000_003L;
        long offset = 0;
        boolean rates = true;
        int hitRate = 0;
        List<Strategy.Name> strategies = List.of(Strategy.Name.values());
        List<Bug> bugs = List.of(Bug.values());
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--trials" -> trials = Integer.parseInt(args[++i]);
                case "--seed-step" -> step = Long.parseLong(args[++i]);
                case "--seed-offset" -> offset = Long.parseLong(args[++i]);
                case "--no-rates" -> rates = false;
                case "--counts" -> counts = true;
                case "--hit-rate" -> hitRate = Integer.parseInt(args[++i]);
                case "--strategies" -> strategies = Arrays.stream(args[++i].split(",")).map(Strategy.Name::parse).toList();
                case "--bugs" -> bugs = Arrays.stream(args[++i].split(",")).map(b -> Arrays.stream(Bug.values())
                        .filter(x -> x.label.equals(b)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("unknown bug '" + b + "' (known: uaf, sl, flink)")))
                        .toList();
                default -> {
                    System.err.println("usage: bench sched [--seconds S] [--trials N] [--seed-step A] [--seed-offset B]"
                            + " [--no-rates] [--counts] [--strategies a,b] [--bugs uaf,sl,flink]"
                            + " [--hit-rate SCHEDULES]");
                    System.exit(2);
                }
            }
        }
        Seeds seeds = new Seeds(trials, step, offset);
        Script race = scenario("export_vs_gem_close.gem");
        if (rates) {
            rates(race, seconds);
        }
        if (hitRate > 0) {
            hitRates(offset, hitRate, strategies, bugs);
        } else {
            table(seeds, strategies, bugs);
        }
    }

    private static void rates(Script race, double seconds) {
        rate(race, Profile.MODERN, Strategy.Name.RANDOM, 1);
        double[] flat = rate(flattened(race), Profile.MODERN, Strategy.Name.RANDOM, seconds);
        double[] random = rate(race, Profile.MODERN, Strategy.Name.RANDOM, seconds);
        double[] pos = rate(race, Profile.MODERN, Strategy.Name.POS, seconds);
        System.out.println("gemulator bench sched: export-vs-gem_close, 2 threads x 10 iterations, one core, JDK "
                + System.getProperty("java.version"));
        System.out.println();
        String fmt = "%-46s %14s %14s %10s%n";
        System.out.printf(Locale.ROOT, fmt, "run", "schedules/s", "steps/s", "x flat");
        row(fmt, "flattened (no interleaving, baseline)", flat, flat);
        row(fmt, "interleaved, random", random, flat);
        row(fmt, "interleaved, pos", pos, flat);
        System.out.println();
    }

    private static void table(Seeds seeds, List<Strategy.Name> strategies, List<Bug> bugs) throws Exception {
        System.out.printf(Locale.ROOT, "schedules until the bug is hit (%d trials, first seeds %s; cap 3000):%n",
                seeds.trials, seeds.describe());
        String f2 = "%-44s %-8s %8s %8s %8s%n";
        System.out.printf(Locale.ROOT, f2, "bug", "strategy", "median", "p90", "max");
        for (Bug bug : bugs) {
            Script s = scenario(bug.scenario);
            for (Strategy.Name strategy : strategies) {
                long[] c = schedulesToFind(s, bug.profile, strategy, bug.kind, bug.function, seeds, 3000);
                System.out.printf(Locale.ROOT, f2, bug.title, strategy, c[c.length / 2],
                        c[(int) Math.ceil(c.length * 0.9) - 1], c[c.length - 1]);
            }
        }
        System.out.println();
        System.out.println("for scale (issue text): Fray on a plain Java model of the same race needs a median of 31 schedules"
                + " (random), 37 (POS), ~10,000 (PCT(3)), at 200-450 schedules/s");
    }

    /**
     * The share of {@code schedules} consecutive seeds (from {@code first}) whose schedule shows each bug:
     * the per-schedule hit probability the medians above are drawn from, with far less noise than 21 trials.
     */
    private static void hitRates(long first, int schedules, List<Strategy.Name> strategies, List<Bug> bugs)
            throws Exception {
        System.out.printf(Locale.ROOT, "share of schedules that hit the bug (seeds %d..%d):%n", first, first + schedules - 1);
        String f = "%-44s %-8s %8s%n";
        System.out.printf(Locale.ROOT, f, "bug", "strategy", "hit");
        for (Bug bug : bugs) {
            Script s = scenario(bug.scenario);
            for (Strategy.Name strategy : strategies) {
                int hits = 0;
                for (int i = 0; i < schedules; i++) {
                    List<Report> r = Explorer.runOne(s, bug.profile, new Runner.RunOptions(first + i, strategy, 3, 800));
                    if (r.stream().anyMatch(x -> x.kind() == bug.kind && x.function().equals(bug.function))) {
                        hits++;
                    }
                }
                System.out.printf(Locale.ROOT, f, bug.title, strategy,
                        String.format(Locale.ROOT, "%.3f", hits / (double) schedules));
            }
        }
    }

    private static void row(String fmt, String name, double[] r, double[] base) {
        System.out.printf(Locale.ROOT, fmt, name, String.format(Locale.ROOT, "%,.0f", r[0]),
                String.format(Locale.ROOT, "%,.0f", r[1]), String.format(Locale.ROOT, "%.2f", r[0] / base[0]));
    }
}
