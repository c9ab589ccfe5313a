package dev.gemulator.bench;

import dev.gemulator.sched.Strategy;
import dev.gemulator.check.Report;
import dev.gemulator.explore.Guided;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench coverage}: how interleaving coverage (explore's coverage
 * pairs, and distinct schedule fingerprints) grows per 1,000 schedules for
 * each strategy with and without {@code explore --guided}, on the 3.11
 * use-after-free, the seed commit's S-L1, 3.11's L-flink and the 6.x
 * export-vs-gem_close race; then the schedules until the first finding of
 * the three historical bugs with guidance (median and p90 over trials, the
 * same first seeds as bench sched). Nothing is asserted.
 */
public final class CoverageBench {
    private CoverageBench() {
    }

    private record Case(String name, String file, Profile profile, Report.Kind kind, String function) {
    }

    private static final List<Case> CASES = List.of(
            new Case("v3.11 export-vs-gem_close UAF", "export_vs_gem_close.gem", Profile.V3_11,
                    Report.Kind.USE_AFTER_FREE, "drm_gem_prime_handle_to_fd"),
            new Case("seed S-L1", "seed/s_l.gem", Profile.SEED, Report.Kind.WARN, "drm_prime_destroy_file_private"),
            new Case("v3.11 L-flink", "v3.11/l_flink.gem", Profile.V3_11, Report.Kind.LEAK, "drm_gem_object_handle_free"),
            new Case("6.x export-vs-gem_close", "export_vs_gem_close.gem", Profile.MODERN, null, null));

    private static Script scenario(String name) throws Exception {
        Path p = Path.of(System.getProperty("gemulator.repo", "."), "scenarios", name);
        return Parser.parse(p.toString(), Files.readString(p));
    }

    private static Runner.RunOptions options(Script s, Profile p, String strategy) {
        return new Runner.RunOptions(0, Strategy.Name.parse(strategy), 3, 800); // as bench sched
    }

    public static void main(String[] args) throws Exception {
        int schedules = 5000;
        int step = 1000;
        int trials = 21;
        long seed = 1;
        int jobs = Runtime.getRuntime().availableProcessors();
        List<String> strategies = List.of("random", "pct", "pos", "conflict");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--schedules" -> schedules = Integer.parseInt(args[++i]);
                case "--every" -> step = Integer.parseInt(args[++i]);
                case "--trials" -> trials = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--jobs" -> jobs = Integer.parseInt(args[++i]);
                case "--strategies" -> strategies = List.of(args[++i].split(","));
                default -> {
                    System.err.println("usage: bench coverage [--schedules N] [--every N] [--trials N] [--seed S]"
                            + " [--jobs N] [--strategies a,b]");
                    System.exit(2);
                }
            }
        }
        System.out.printf(Locale.ROOT, "gemulator bench coverage: coverage pairs / distinct schedule fingerprints after"
                + " every %,d schedules (seeds %d..), unguided and explore --guided%n", step, seed);
        for (Case c : CASES) {
            Script s = scenario(c.file());
            System.out.println();
            System.out.println(c.name() + " (" + c.file() + ", profile " + c.profile().name() + ")");
            StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-10s %-8s", "strategy", "mode"));
            for (int n = step; n <= schedules; n += step) {
                head.append(String.format(Locale.ROOT, " %13s", String.format(Locale.ROOT, "%,d", n)));
            }
            System.out.println(head);
            for (String strategy : strategies) {
                for (boolean guided : new boolean[] {false, true}) {
                    Guided.Result r = Guided.explore(s, new Guided.Config(c.profile(), options(s, c.profile(), strategy),
                            seed, schedules, jobs, guided));
                    StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-10s %-8s", strategy,
                            guided ? "guided" : "plain"));
                    for (int n = step; n <= schedules; n += step) {
                        row.append(String.format(Locale.ROOT, " %13s", r.pairsCurve()[n - 1] + "/"
                                + r.fingerprintCurve()[n - 1]));
                    }
                    if (c.kind() != null) {
                        int first = r.firstSchedule(c.kind(), c.function());
                        row.append(first == 0 ? "   not found" : "   first at " + first);
                    }
                    System.out.println(row);
                }
            }
        }
        System.out.println();
        int cap = 3000;
        System.out.printf(Locale.ROOT, "schedules until the bug is hit with --guided (%d trials, first seeds 1000003*k,"
                + " as bench sched; cap %d):%n", trials, cap);
        String f2 = "%-44s %-8s %8s %8s %8s%n";
        System.out.printf(Locale.ROOT, f2, "bug", "strategy", "median", "p90", "max");
        for (Case c : CASES) {
            if (c.kind() == null) {
                continue;
            }
            Script s = scenario(c.file());
            for (String strategy : strategies) {
                long[] counts = new long[trials];
                for (int t = 0; t < trials; t++) {
                    counts[t] = firstFinding(s, c, options(s, c.profile(), strategy), 1_000_003L * (t + 1), cap, jobs);
                }
                Arrays.sort(counts);
                System.out.printf(Locale.ROOT, f2, c.name(), strategy, counts[trials / 2],
                        counts[(int) Math.ceil(trials * 0.9) - 1], counts[trials - 1]);
            }
        }
    }

    /** Schedules of a guided run from {@code first} until the finding, growing the budget until the cap. */
    private static long firstFinding(Script s, Case c, Runner.RunOptions o, long first, int cap, int jobs) {
        for (int budget = 64; ; budget *= 4) {
            int n = Math.min(budget, cap);
            Guided.Result r = Guided.explore(s, new Guided.Config(c.profile(), o, first, n, jobs, true));
            int at = r.firstSchedule(c.kind(), c.function());
            if (at > 0) {
                return at;
            }
            if (n == cap) {
                return cap;
            }
        }
    }
}
