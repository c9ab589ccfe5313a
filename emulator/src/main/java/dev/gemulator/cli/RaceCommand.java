package dev.gemulator.cli;

import dev.gemulator.check.FindingKey;
import dev.gemulator.explore.FindingTable;
import dev.gemulator.explore.Shard;
import dev.gemulator.explore.Shrinker;
import dev.gemulator.kernel.Profile;
import dev.gemulator.race.RaceRunner;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.trace.Timeline;
import dev.gemulator.trace.TraceRecorder;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gemulator race -- COMMAND [ARGS...] [--- COMMAND2 ...]}: runs real
 * programs against a fresh seeded device for every seed and reports each
 * distinct finding as explore does: how many seeds hit it, its first seed,
 * the programs' exit statuses and output, and the command that replays it.
 */
@Command(name = "race", mixinStandardHelpOptions = true,
        description = {"Runs programs (Java with the client library, C through the shim) against a fresh seeded device "
            + "per seed, on all cores, and reports what they found.",
            "Each distinct finding is reported with how many seeds hit it, its first seed, the programs' exit status and "
            + "output, and the command that replays it. Every program is told the server (GEMULATOR_SERVER, "
            + "GEMULATOR_SOCKET) and its process name (GEMULATOR_PROCESS: A, B, ...); a command that starts with plain java "
            + "runs on the JDK gemulator runs on.",
            "Exit status: 0 nothing found, 1 the programs could not run, 2 bad input, 3 something found (--found-exit-status)."})
public final class RaceCommand implements Callable<Integer> {

    @Option(names = "--seeds", defaultValue = "1..100", paramLabel = "FIRST..LAST",
            description = "the seeds to run: FIRST..LAST, or N for 1..N (default: ${DEFAULT-VALUE})")
    private String seeds;

    @Option(names = "--seed", paramLabel = "S", description = "run this one seed (with --trace, record it)")
    private Long seed;

    @Option(names = "--trace", paramLabel = "OUT", description = "with --seed: write the run's trace to OUT (replay OUT)")
    private Path traceOut;

    @Option(names = "--profile", defaultValue = "6.x",
            description = "kernel profile: 6.x, v3.11, seed, seed-typofix, 3.12 (default: ${DEFAULT-VALUE})")
    private String profile;

    @Option(names = "--strategy", defaultValue = "pos", description = "random, pct, pos, conflict (default: ${DEFAULT-VALUE})")
    private String strategy;

    @Option(names = "--pct-depth", defaultValue = "3", description = "PCT's bug depth d (default: ${DEFAULT-VALUE})")
    private int pctDepth;

    @Option(names = "--pct-steps", defaultValue = "0",
            description = "PCT's step count k (default: measured with one random run)")
    private long pctSteps;

    @Option(names = "--procs", split = ",", paramLabel = "A,B",
            description = "the processes the run waits for (default: one per command, A, B, C...)")
    private List<String> procs = new ArrayList<>();

    @Option(names = "--jobs", description = "parallel workers (default: the number of cores)")
    private int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--timeout", defaultValue = "120",
            description = "seconds of real time one seed may take before it is stopped (default: ${DEFAULT-VALUE})")
    private long timeoutSeconds;

    @Option(names = "--watchdog-ms", defaultValue = "10000",
            description = "name a thread that stays in user space this long (default: ${DEFAULT-VALUE})")
    private long watchdogMillis;

    @Option(names = "--json", description = "print the result as JSON")
    private boolean json;

    @Option(names = "--shrink", description = "shrink each finding's schedule to the fewest preemptions, write its trace"
            + " and its picture (trace html), and print it as a table, one column per thread")
    private boolean shrink;

    @Option(names = "--shrink-runs", defaultValue = "400",
            description = "--shrink: at most about this many runs of the programs per finding (default: ${DEFAULT-VALUE})")
    private int shrinkRuns;

    @Mixin
    private ShardOptions shards;

    @Parameters(paramLabel = "COMMAND", description = "after --: the programs, separated by ---")
    private List<String> words = new ArrayList<>();

    private List<List<String>> commands() {
        List<List<String>> out = new ArrayList<>();
        List<String> cur = new ArrayList<>();
        for (String w : words) {
            if (w.equals("---")) {
                out.add(cur);
                cur = new ArrayList<>();
            } else {
                cur.add(w);
            }
        }
        out.add(cur);
        return out;
    }

    @Override
    public Integer call() {
        Profile p = Profile.byName(profile);
        if (p == null) {
            System.err.println("gemulator: unknown kernel profile '" + profile + "' (known: " + Profile.names() + ")");
            return 2;
        }
        Strategy.Name strategyName;
        try {
            strategyName = Strategy.Name.parse(strategy, List.of());
        } catch (IllegalArgumentException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        }
        shards.check();
        List<List<String>> commands = commands();
        if (words.isEmpty() || commands.stream().anyMatch(List::isEmpty)) {
            System.err.println("gemulator: race needs programs: race [OPTIONS] -- COMMAND [ARGS...] [--- COMMAND2 ...]");
            return 2;
        }
        for (String name : procs) {
            if (!name.matches("[A-Za-z][A-Za-z0-9_]{0,63}")) {
                System.err.println("gemulator: --procs: bad process name '" + name + "'");
                return 2;
            }
        }
        if (!procs.isEmpty() && procs.size() < commands.size()) {
            System.err.println("gemulator: --procs names " + procs.size() + " processes for " + commands.size()
                    + " commands: name at least one per command");
            return 2;
        }
        long first;
        long last;
        // (kept for the report's first line)
        if (seed != null) {
            first = seed;
            last = seed;
        } else {
            Matcher m = Pattern.compile("(-?\\d+)\\.\\.(-?\\d+)|(\\d+)").matcher(seeds);
            if (!m.matches() || (m.group(3) == null && Long.parseLong(m.group(2)) < Long.parseLong(m.group(1)))) {
                System.err.println("gemulator: --seeds wants FIRST..LAST or a count, not '" + seeds + "'");
                return 2;
            }
            first = m.group(3) != null ? 1 : Long.parseLong(m.group(1));
            last = m.group(3) != null ? Long.parseLong(m.group(3)) : Long.parseLong(m.group(2));
        }
        if (traceOut != null && seed == null) {
            System.err.println("gemulator: --trace records one run: give it a --seed");
            return 2;
        }
        UserError.check(!shards.sharded() || seed == null, "--shard splits --seeds: it does not go with --seed");
        UserError.check(!shards.sharded() || !shrink, "--shrink does not go with --shard: shrink a finding after merge, "
                + "with race --shrink on a range that holds its first seed");
        Shard shard = shards.shard();
        long total = last - first + 1;
        long runFirst = shard == null ? first : shard.firstSeed(first, total);
        long runLast = shard == null ? last : runFirst + shard.size(total) - 1;
        RaceRunner runner = new RaceRunner(new RaceRunner.Options(commands, procs, p, strategyName, pctDepth, pctSteps,
                runFirst, runLast, jobs, timeoutSeconds * 1000, watchdogMillis, System.err));
        try {
            if (strategyName == Strategy.Name.PCT && pctSteps <= 0) {
                pctSteps = runner.measureSteps();
                runner = new RaceRunner(runner.options().withPctSteps(pctSteps));
            }
            if (seed != null) {
                return one(runner);
            }
            RaceRunner.Result result = runner.run();
            boolean tables = !shrink && (!json || shard != null);
            List<RaceReport.Item> items = new ArrayList<>();
            for (RaceRunner.Finding f : result.findings()) {
                boolean program = !f.key().kind().isReport();
                Map<String, Long> statuses = new LinkedHashMap<>();
                f.first().statuses().forEach((k, v) -> statuses.put(k, (long) v));
                items.add(new RaceReport.Item(f.kind(), f.function(), f.detail(), f.firstSeed(), f.seeds(), statuses,
                        f.first().output(), replayCommand(f.firstSeed(), commands),
                        tables && !program ? table(runner, f) : null));
            }
            RaceReport report = new RaceReport(commands, profile, strategy, pctDepth, pctSteps,
                    json ? first : runFirst, json ? total : result.seeds(), items, result.seconds(), jobs,
                    result.persistent(), result.launches());
            if (json) {
                System.out.println(report.json(shard, runFirst, result.seeds()));
                return shards.exitStatus(!result.findings().isEmpty());
            }
            System.out.print(report.text(shards.timing()));
            for (RaceRunner.Finding f : result.findings()) {
                if (shrink && f.key().kind().isReport()) {
                    shrinkOne(runner, f);
                }
            }
            return shards.exitStatus(!result.findings().isEmpty());
        } catch (RaceRunner.RaceError e) {
            System.err.println("gemulator: " + e.getMessage());
            return 1;
        }
    }

    /** {@code --seed S}: one run, with its trace when asked. */
    private int one(RaceRunner runner) throws RaceRunner.RaceError {
        RaceRunner.Outcome o = runner.runOne(seed, null);
        if (o.problem() != null && o.problem().startsWith("error: ")) {
            throw new RaceRunner.RaceError(o.problem().substring(7));
        }
        System.out.printf(Locale.ROOT, "raced %s: profile %s, strategy %s, seed %d: %d steps, exit status %s%n",
                RaceRunner.shortCommandLine(runner.options().commands()), profile, strategy, seed, o.steps(),
                statusText(o.statuses()));
        if (o.problem() != null) {
            System.out.println("  " + o.problem());
        }
        List<FindingKey> keys = o.findingKeys();
        System.out.println(keys.isEmpty() ? "findings: none" : "findings: " + keys.size());
        for (FindingKey k : keys) {
            System.out.println("  " + k + ": " + o.detail(k));
        }
        printOutput(o, "  ");
        if (traceOut != null) {
            try (var os = new BufferedOutputStream(Files.newOutputStream(traceOut))) {
                TraceRecorder.write(o.trace(), os);
            } catch (IOException e) {
                System.err.println("gemulator: cannot write " + traceOut + ": " + e.getMessage());
                return 1;
            }
            System.out.println("trace: " + traceOut + " (" + o.trace().size() + " records, sha256 " + o.traceHash()
                    + "); ./gemulator replay " + traceOut);
        }
        return keys.isEmpty() ? 0 : 3;
    }

    private static String statusText(Map<String, Integer> statuses) {
        List<String> parts = new ArrayList<>();
        statuses.forEach((p, s) -> parts.add(p + " " + s));
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }

    private static void printOutput(RaceRunner.Outcome o, String indent) {
        o.output().forEach((p, text) -> {
            String t = text.strip();
            if (!t.isEmpty()) {
                System.out.println(indent + "output of " + p + ":");
                for (String line : t.split("\n", -1)) {
                    System.out.println(indent + "  " + line);
                }
            }
        });
    }

    private String replayCommand(long s, List<List<String>> commands) {
        return "./gemulator race --seed " + s + " --profile " + profile + " --strategy " + strategy
                + (strategy.equals("pct") ? " --pct-depth " + pctDepth + " --pct-steps " + pctSteps : "")
                + (procs.isEmpty() ? "" : " --procs " + String.join(",", procs))
                + " --trace race-" + s + ".trace -- " + RaceRunner.commandLine(commands);
    }

    /** Every client thread is a column: a race's threads are its processes' main threads too. */
    private static boolean column(String task) {
        return !task.isEmpty() && !task.equals("kworker");
    }

    /** The finding's first seed again, with its trace: the table of what led to it (and a check that it comes back). */
    private String table(RaceRunner runner, RaceRunner.Finding f) {
        RaceRunner.Outcome o = runner.runOne(f.firstSeed(), null);
        String head = "== " + f.kind() + " in " + f.function() + " at seed " + f.firstSeed() + " (profile " + profile
                + ", strategy " + strategy + "; --shrink for the fewest preemptions)\n";
        if (!o.findingKeys().contains(f.key())) {
            return head + "   NOT SHOWN AGAIN by a second run of seed " + f.firstSeed()
                    + ": the programs do not make the same calls every time (they depend on real time or randomness"
                    + " the run does not control)\n";
        }
        return head + FindingTable.render(o.trace(), o.detail(f.key()), RaceCommand::column);
    }

    /** Cuts the finding's schedule to the fewest preemptions, writes its trace and picture, prints its table. */
    private void shrinkOne(RaceRunner runner, RaceRunner.Finding f) {
        long s = f.firstSeed();
        Shrinker.Outcome shrunk;
        try (RaceRunner.Job job = runner.job()) {
            Shrinker.Rerun rerun = decisions -> {
                SeededRun.Config c = runnerConfig(runner, s);
                RaceRunner.Outcome o = job.run(decisions == null ? c : c.replaying(decisions));
                return o.problem() != null ? null : o.trace();
            };
            shrunk = Shrinker.shrink(rerun, f.key(), shrinkRuns);
        } catch (IllegalArgumentException e) {
            System.out.println();
            System.out.println("== " + f.kind() + " in " + f.function() + ": cannot shrink seed " + s + ": "
                    + e.getMessage());
            return;
        }
        String base = "race." + f.kind() + "." + f.function().replace(' ', '_');
        Path out = Path.of(base + ".min.trace");
        Path html = Path.of(base + ".min.html");
        try (var os = new BufferedOutputStream(Files.newOutputStream(out))) {
            TraceRecorder.write(shrunk.trace(), os);
            Timeline timeline = Timeline.of(shrunk.trace());
            Timeline.Window w = timeline.focus();
            Files.writeString(html, timeline.html(w != null ? w : timeline.defaultWindow()), StandardCharsets.UTF_8);
        } catch (IOException e) {
            System.err.println("gemulator: cannot write " + out + ": " + e.getMessage());
            return;
        }
        String detail = shrunk.trace().stream().filter(r -> r.hasReport() && f.key().matches(r.getReport()))
                .map(r -> r.getReport().getDetail()).findFirst().orElse(f.detail());
        System.out.println();
        System.out.println("== " + f.kind() + " in " + f.function());
        System.out.println("   " + f.detail());
        System.out.println("   seed " + s + ", profile " + profile + ", strategy " + strategy + "; shrunk to "
                + shrunk.preemptions() + " preemptions, " + shrunk.switches() + " switches (" + shrunk.runs()
                + " runs of the programs" + (shrunk.runs() >= shrinkRuns ? ", stopped at --shrink-runs" : "") + ")");
        System.out.println("   replay: ./gemulator replay " + out + "    (original: "
                + replayCommand(s, runner.options().commands()) + ")");
        System.out.println("   picture: " + html + "    (./gemulator trace html --focus " + out + ")");
        System.out.println("   in the shrunk run: " + detail);
        System.out.println();
        System.out.print(FindingTable.render(shrunk.trace(), detail, RaceCommand::column));
    }

    private static SeededRun.Config runnerConfig(RaceRunner runner, long s) {
        return runner.traced(s);
    }

}
