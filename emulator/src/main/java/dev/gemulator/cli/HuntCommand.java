package dev.gemulator.cli;

import static dev.gemulator.trace.Json.quote;

import dev.gemulator.check.Report;
import dev.gemulator.hunt.Classifier;
import dev.gemulator.hunt.ConcurrentScenarios;
import dev.gemulator.hunt.Hunt;
import dev.gemulator.kernel.Profile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gemulator hunt}: the hunt for false reports. Generates random
 * concurrent scenarios and runs each under the profiles asked for with POS,
 * random and bounded DFS schedules; prints, per profile, the schedules run
 * and what the checkers said. Under 6.x every report is a false report (a
 * defect of the model); under the historical profiles every schedule with
 * reports is classified into the spec's bugs. Scenarios with something to
 * look at are written to --out with the command that replays them.
 */
@Command(name = "hunt", mixinStandardHelpOptions = true,
        description = {"The hunt for false reports: random concurrent scenarios run under many schedules.",
            "The scenarios have 2-4 threads in 1-3 processes sharing drm fds, handles, names, dma-buf and sync_file "
            + "fds over every op, closes racing uses; each runs with POS, random, conflict and DFS schedules under the profiles "
            + "given. Under 6.x every report is a defect of the model; under v3.11, seed, seed-typofix and 3.12 every "
            + "schedule with reports is classified into the spec's bugs. Scenarios to look at go to --out with a "
            + "replay command.",
            "Exit status: 0 nothing unexplained, 2 bad input, 3 a report under 6.x or one no bug explains."})
public final class HuntCommand implements Callable<Integer> {

    @Option(names = "--scenarios", defaultValue = "1000", description = "how many scenarios (default: ${DEFAULT-VALUE})")
    private int scenarios;

    @Option(names = "--schedules", defaultValue = "100",
            description = "schedules per scenario and profile: 30%% POS, 30%% random, 20%% conflict, 20%% DFS (default: ${DEFAULT-VALUE})")
    private int schedules;

    @Option(names = "--seed", defaultValue = "1", description = "the first scenario's seed (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--profile", defaultValue = "6.x", split = ",",
            description = "profiles to hunt under, comma separated, or 'all' (default: ${DEFAULT-VALUE})")
    private List<String> profileNames;

    @Option(names = "--jobs", description = "parallel workers (default: the number of cores)")
    private int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--out", defaultValue = "gemulator-out/hunt",
            description = "where scenarios with something to look at are written (default: ${DEFAULT-VALUE})")
    private Path out;

    @Option(names = "--show", defaultValue = "20", description = "at most this many unexplained findings listed per profile"
            + " (default: ${DEFAULT-VALUE})")
    private int show;

    @Option(names = "--json", description = "print the result as JSON")
    private boolean json;

    @Option(names = "--print", paramLabel = "SEED", description = "print the scenario of this seed and exit")
    private Long print;

    @Override
    public Integer call() throws IOException {
        if (print != null) {
            System.out.print(ConcurrentScenarios.generate(print));
            return 0;
        }
        if (scenarios < 1 || schedules < 1 || jobs < 1 || show < 0) {
            System.err.println("gemulator: --scenarios, --schedules and --jobs must be at least 1, --show at least 0");
            return 2;
        }
        List<Profile> profiles = new ArrayList<>();
        for (String n : profileNames) {
            if (n.equals("all")) {
                profiles.addAll(Profile.ALL);
                continue;
            }
            Profile p = Profile.byName(n);
            if (p == null) {
                System.err.println("gemulator: unknown profile '" + n + "' (known: " + Profile.names() + ", all)");
                return 2;
            }
            profiles.add(p);
        }
        Hunt.Result r = Hunt.run(new Hunt.Config(seed, scenarios, schedules, List.copyOf(profiles), jobs));
        boolean unexplained = r.profiles().stream().anyMatch(p -> !p.unexplained().isEmpty());
        if (unexplained) {
            Files.createDirectories(out);
        }
        if (json) {
            printJson(r, System.out);
        } else {
            print(r, System.out);
        }
        return unexplained ? 3 : 0;
    }

    private String write(long scenario) throws IOException {
        Path file = out.resolve("hunt-" + scenario + ".gem");
        Files.writeString(file, ConcurrentScenarios.generate(scenario), StandardCharsets.UTF_8);
        return file.toString();
    }

    private void print(Hunt.Result r, PrintStream o) throws IOException {
        o.printf(Locale.ROOT, "hunted %d scenarios (seeds %d..%d), %d schedules each per profile, in %.1f s%n",
                r.scenarios(), seed, seed + r.scenarios() - 1, schedules, r.seconds());
        for (Hunt.ProfileResult p : r.profiles()) {
            List<Hunt.Hit> bad = p.unexplained();
            o.printf(Locale.ROOT, "%n%s: %,d schedules, %,d with reports, %,d %s%n", p.profile(), p.schedules(),
                    p.hits().size(), bad.size(), p.profile().equals(Profile.MODERN.name())
                            ? "false reports (findings under 6.x)" : "that no bug of the spec explains");
            for (Map.Entry<Classifier.Bug, Long> e : p.byBug().entrySet()) {
                o.printf(Locale.ROOT, "  %6d  %s%n          (%s)%n", e.getValue(), e.getKey().description(),
                        "scenarios/" + e.getKey().scenario());
            }
            int shown = 0;
            for (Map.Entry<String, List<Hunt.Hit>> e : p.unexplainedByFinding().entrySet()) {
                if (shown++ == show) {
                    o.println("  ... and more findings (--show N)");
                    break;
                }
                List<Hunt.Hit> group = e.getValue();
                Hunt.Hit h = group.get(0);
                long scenariosHit = group.stream().mapToLong(Hunt.Hit::scenario).distinct().count();
                o.printf(Locale.ROOT, "  %s (%d schedules in %d scenarios), first: %s%n", e.getKey(), group.size(),
                        scenariosHit, h.primary().line());
                o.println("    " + h.replay(write(h.scenario())));
            }
        }
    }

    private void printJson(Hunt.Result r, PrintStream o) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("{\"scenarios\":").append(r.scenarios()).append(",\"first_seed\":").append(seed)
                .append(",\"schedules_per_scenario\":").append(schedules).append(",\"profiles\":[");
        for (int i = 0; i < r.profiles().size(); i++) {
            Hunt.ProfileResult p = r.profiles().get(i);
            b.append(i == 0 ? "" : ",").append("{\"profile\":").append(quote(p.profile()))
                    .append(",\"schedules\":").append(p.schedules()).append(",\"with_reports\":").append(p.hits().size())
                    .append(",\"unexplained\":").append(p.unexplained().size()).append(",\"bugs\":{");
            int j = 0;
            for (Map.Entry<Classifier.Bug, Long> e : p.byBug().entrySet()) {
                b.append(j++ == 0 ? "" : ",").append(quote(e.getKey().name())).append(':').append(e.getValue());
            }
            b.append("},\"unexplained_findings\":[");
            int k = 0;
            for (Map.Entry<String, List<Hunt.Hit>> e : p.unexplainedByFinding().entrySet()) {
                Hunt.Hit h = e.getValue().get(0);
                b.append(k++ == 0 ? "" : ",").append("{\"finding\":").append(quote(e.getKey()))
                        .append(",\"schedules\":").append(e.getValue().size())
                        .append(",\"first\":").append(quote(h.primary().line()))
                        .append(",\"replay\":").append(quote(h.replay(write(h.scenario())))).append('}');
            }
            b.append("]}");
        }
        b.append("]}");
        o.println(b);
    }
}
