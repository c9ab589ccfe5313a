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
            int trials, int cap) {
        long[] counts = new long[trials];
        for (int t = 0; t < trials; t++) {
            long base = 1_000_003L * (t + 1);
            counts[t] = cap;
            for (int i = 0; i < cap; i++) {
                List<Report> r = Explorer.runOne(s, p, new Runner.RunOptions(base + i, strategy, 3, 800));
                if (r.stream().anyMatch(x -> x.kind() == kind && x.function().equals(function))) {
                    counts[t] = i + 1;
                    break;
                }
            }
        }
        Arrays.sort(counts);
        return counts;
    }

    public static void main(String[] args) throws Exception {
        double seconds = 3;
        int trials = 21;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--trials" -> trials = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: bench sched [--seconds S] [--trials N]");
                    System.exit(2);
                }
            }
        }
        Script race = scenario("export_vs_gem_close.gem");
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

        System.out.printf(Locale.ROOT, "schedules until the bug is hit (%d trials, first seeds 1000003*k; cap 3000):%n", trials);
        String f2 = "%-44s %-8s %8s %8s %8s%n";
        System.out.printf(Locale.ROOT, f2, "bug", "strategy", "median", "p90", "max");
        Script sl = scenario("seed/s_l.gem");
        Script flink = scenario("v3.11/l_flink.gem");
        List<Strategy.Name> strategies = List.of(Strategy.Name.values());
        for (Strategy.Name strategy : strategies) {
            long[] c = schedulesToFind(race, Profile.V3_11, strategy, Report.Kind.USE_AFTER_FREE,
                    "drm_gem_prime_handle_to_fd", trials, 3000);
            System.out.printf(Locale.ROOT, f2, "v3.11 export-vs-gem_close use-after-free", strategy, c[c.length / 2],
                    c[(int) Math.ceil(c.length * 0.9) - 1], c[c.length - 1]);
        }
        for (Strategy.Name strategy : strategies) {
            long[] c = schedulesToFind(sl, Profile.SEED, strategy, Report.Kind.WARN, "drm_prime_destroy_file_private",
                    trials, 3000);
            System.out.printf(Locale.ROOT, f2, "seed S-L1/S-L2 stale member", strategy, c[c.length / 2],
                    c[(int) Math.ceil(c.length * 0.9) - 1], c[c.length - 1]);
        }
        for (Strategy.Name strategy : strategies) {
            long[] c = schedulesToFind(flink, Profile.V3_11, strategy, Report.Kind.LEAK, "drm_gem_object_handle_free",
                    trials, 3000);
            System.out.printf(Locale.ROOT, f2, "v3.11 L-flink name leak", strategy, c[c.length / 2],
                    c[(int) Math.ceil(c.length * 0.9) - 1], c[c.length - 1]);
        }
        System.out.println();
        System.out.println("for scale (issue text): Fray on a plain Java model of the same race needs a median of 31 schedules"
                + " (random), 37 (POS), ~10,000 (PCT(3)), at 200-450 schedules/s");
    }

    private static void row(String fmt, String name, double[] r, double[] base) {
        System.out.printf(Locale.ROOT, fmt, name, String.format(Locale.ROOT, "%,.0f", r[0]),
                String.format(Locale.ROOT, "%,.0f", r[1]), String.format(Locale.ROOT, "%.2f", r[0] / base[0]));
    }
}
