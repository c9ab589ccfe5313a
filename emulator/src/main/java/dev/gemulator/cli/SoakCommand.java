package dev.gemulator.cli;

import dev.gemulator.explore.Soak;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gemulator soak}: the determinism soak. */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"The determinism soak: every scenario under every profile and strategy, each run twice.",
            "Seed after seed, each run's two trace hashes are compared; a mismatch is a bug of gemulator.",
            "Exit status: 0 all matched, 1 a mismatch, 2 bad options or no scenario directory."})
public final class SoakCommand implements Callable<Integer> {

    @Option(names = "--runs", defaultValue = "10000", description = "self-checked runs (default: ${DEFAULT-VALUE})")
    private int runs;

    @Option(names = "--seed", defaultValue = "1", description = "first seed (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--jobs", defaultValue = "0", description = "threads, 0 for one per core (default: ${DEFAULT-VALUE})")
    private int jobs;

    @Option(names = "--dir", paramLabel = "DIR", description = "scenario directories (default: scenarios and conformance)")
    private List<Path> dirs;

    @Option(names = "--strategy", split = ",", paramLabel = "S,S",
            description = "the strategies to cycle through (default: random, pct, pos, conflict)")
    private List<String> strategies = Soak.STRATEGIES.stream().map(Strategy.Name::label).toList();

    @Override
    public Integer call() {
        UserError.check(runs >= 1, "--runs wants at least 1, not " + runs);
        UserError.check(jobs >= 0, "--jobs wants 0 (one per core) or more, not " + jobs);
        Set<Strategy.Name> named = new LinkedHashSet<>();
        for (String st : strategies) {
            named.add(UserError.strategy(st, List.of()));
        }
        List<Path> from = dirs != null ? dirs : List.of(Path.of("scenarios"), Path.of("conformance"));
        for (Path d : from) {
            if (!Files.isDirectory(d)) {
                System.err.println("gemulator: no scenario directory " + d + " (run from the repository, or give --dir)");
                return 2;
            }
        }
        List<Path> files = Soak.scenarios(from);
        List<Strategy.Name> chosen = List.copyOf(named);
        var cases = Soak.cases(files, runs, seed, chosen);
        int threads = jobs > 0 ? jobs : Runtime.getRuntime().availableProcessors();
        Soak.Result r = Soak.run(cases, threads, Soak::traceHash);
        System.out.printf(Locale.ROOT, "soak: %d runs, each twice, over %d scenarios, %d profiles, %d strategies,"
                + " seeds %d..%d: %d mismatches (%.0f runs/s on %d threads)%n", r.runs(),
                cases.stream().map(Soak.Case::path).distinct().count(), Profile.ALL.size(),
                chosen.size(), seed, cases.stream().mapToLong(Soak.Case::seed).max().orElse(seed),
                r.mismatches().size(), r.runsPerSecond(), threads);
        System.out.println("  by profile: " + r.byProfile());
        System.out.println("  by strategy: " + r.byStrategy());
        r.mismatches().stream().limit(20).forEach(c -> System.out.println("  MISMATCH ./gemulator run " + c));
        return r.mismatches().isEmpty() ? 0 : 1;
    }
}
