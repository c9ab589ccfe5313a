package dev.gemulator.cli;

import dev.gemulator.check.Report;
import dev.gemulator.explore.Dfs;
import dev.gemulator.explore.Explorer;
import dev.gemulator.explore.FindingTable;
import dev.gemulator.explore.Guided;
import dev.gemulator.explore.Shard;
import dev.gemulator.explore.Shrinker;
import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gemulator explore FILE.gem}: runs many schedules of a scenario's
 * par blocks, seed after seed, and reports each distinct finding (kind and
 * kernel function) with the first seed that showed it and the command that
 * replays it. Exit 0 when nothing was found, 3 when something was.
 */
@Command(name = "explore", mixinStandardHelpOptions = true,
        description = {"Runs many schedules of a scenario and reports each distinct finding with the command that replays it.",
            "Schedules run seed after seed (the first seed, the next, ...) on all cores, or with --strategy dfs every "
            + "schedule within --preemptions. Each finding is printed with how many schedules hit it and its first seed; "
            + "--shrink cuts its schedule to the fewest preemptions and writes the shrunk run's trace to --out.",
            "Exit status: 0 nothing found, 1 nondeterminism (a bug of gemulator), 2 bad input, 3 something found (--found-exit-status)."})
public final class ExploreCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE.gem")
    private Path file;

    @Mixin
    private ScheduleOptions kernel;

    @Option(names = "--strategy", defaultValue = "random",
            description = "random, pct, pos, conflict (parks a thread between two critical sections while the others run "
                + "whole system calls; --pct-depth sets its odds), or dfs (every schedule within --preemptions) "
                + "(default: ${DEFAULT-VALUE})")
    private String strategy;

    private Strategy.Name name;

    @Option(names = "--preemptions", defaultValue = "2", description = "dfs: the preemption bound (default: ${DEFAULT-VALUE})")
    private int preemptions;

    @Option(names = "--schedules", defaultValue = "1000", description = "how many schedules (default: ${DEFAULT-VALUE})")
    private int schedules;

    @Option(names = "--seed", defaultValue = "1", description = "the first seed (default: ${DEFAULT-VALUE})")
    private long baseSeed;

    @Option(names = "--jobs", description = "parallel workers (default: the number of cores)")
    private int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--json", description = "print the result as JSON")
    private boolean json;

    @Option(names = "--check-determinism", description = "run every schedule twice and compare the trace hashes")
    private boolean checkDeterminism;

    @Option(names = "--shrink", description = "shrink each finding's schedule to the fewest preemptions, write its trace"
            + " and print it as a table, one column per thread")
    private boolean shrink;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "gemulator-out",
            description = "where --shrink and dfs write the traces of findings (default: ${DEFAULT-VALUE}, "
                + "which the repository ignores)")
    private Path outDir;

    @Mixin
    private ShardOptions shards;

    @Option(names = "--guided", description = "coverage-guided: keep the schedules that ordered new pairs of racing steps "
            + "(two threads' consecutive steps on one object) and spend half the schedules on mutations of them (a prefix "
            + "of their decisions, another thread at its end, then the strategy); with any strategy but dfs; not with "
            + "--shard or --check-determinism")
    private boolean guided;

    @Override
    public Integer call() throws Exception {
        Profile p = kernel.resolveProfile();
        if (p == null) {
            return 2;
        }
        kernel.check();
        UserError.check(schedules >= 1, "--schedules wants at least 1, not " + schedules);
        UserError.check(jobs >= 1, "--jobs wants at least 1, not " + jobs);
        shards.check();
        UserError.check(preemptions >= 0, "--preemptions wants 0 or more, not " + preemptions);
        // dfs is no strategy of a run but a search of every schedule: name stays null
        try {
            name = strategy.equals("dfs") ? null : Strategy.Name.parse(strategy, List.of(), "dfs");
        } catch (IllegalArgumentException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        }
        Script script;
        try {
            script = Parser.parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (ParseException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("gemulator: " + UserError.cannotRead(file, e));
            return 2;
        }
        UserError.check(!guided || name != null, "--guided does not go with --strategy dfs, which runs every "
                + "schedule within --preemptions anyway");
        if (name == null) {
            return dfs(script, p);
        }
        kernel.pctSteps(script, p, name);
        UserError.check(!shards.sharded() || !shrink, "--shrink does not go with --shard: shrink a finding after merge, "
                + "with explore --shrink on a range that holds its first seed");
        UserError.check(!shards.sharded() || !guided, "--guided does not go with --shard: each schedule depends on the "
                + "coverage of all before it (run guided shards as separate runs with their own --seed)");
        UserError.check(!checkDeterminism || !guided, "--guided does not go with --check-determinism (check the seeds "
                + "unguided)");
        if (guided) {
            return guided(script, p);
        }
        Shard shard = shards.shard();
        long first = shard == null ? baseSeed : shard.firstSeed(baseSeed, schedules);
        int count = shard == null ? schedules : (int) shard.size(schedules);
        Explorer.Result result;
        try {
            result = Explorer.explore(script, new Explorer.Config(p,
                    new Runner.RunOptions(first, name, kernel.pctDepth, kernel.pctSteps), first, count, jobs,
                    checkDeterminism));
        } catch (Explorer.NondeterminismException e) {
            System.err.println("gemulator: NONDETERMINISM (an emulator bug): " + e.getMessage());
            return 1;
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        boolean tables = !shrink && (!json || shard != null);
        List<ExploreReport.Item> items = new ArrayList<>();
        for (Explorer.Finding f : result.findings()) {
            String table = null;
            if (tables && f.kind() != Report.Kind.EXPECTATION) {
                Runner.RunOptions o = new Runner.RunOptions(f.firstSeed(), name, kernel.pctDepth, kernel.pctSteps);
                var rec = Traces.run(script, Traces.header(file.toString(), text, p, o), p, o);
                table = "== " + f.kind().label() + " in " + f.function() + " at seed " + f.firstSeed()
                        + " (profile " + kernel.profile + ", strategy " + strategy + "; --shrink for the fewest preemptions)\n"
                        + FindingTable.render(rec.records(), f.detail());
            }
            items.add(new ExploreReport.Item(f.kind().label(), f.function(), f.detail(), f.firstSeed(), f.schedules(),
                    replayCommand(f.firstSeed()), table));
        }
        // a shard's own text shows its part of the seeds
        ExploreReport report = new ExploreReport(file.toString(), kernel.profile, strategy, kernel.pctDepth,
                kernel.pctSteps, json ? baseSeed : first, json ? schedules : count, checkDeterminism, items,
                result.seconds(), jobs);
        if (json) {
            System.out.println(report.json(shard, first, count));
            return shards.exitStatus(!result.findings().isEmpty());
        }
        System.out.print(report.text(shards.timing()));
        for (Explorer.Finding f : shrink ? result.findings() : List.<Explorer.Finding>of()) {
            shrinkOne(script, p, text, f, options(f.firstSeed(), null), replayCommand(f.firstSeed()));
        }
        return shards.exitStatus(!result.findings().isEmpty());
    }

    private Runner.RunOptions options(long seed, int[] decisions) {
        return new Runner.RunOptions(seed, name, kernel.pctDepth, kernel.pctSteps, decisions);
    }

    /**
     * {@code --guided}: the findings of a coverage-guided run. A finding
     * first shown by a mutated schedule is replayed from its trace, written
     * to --out; one shown by a fresh schedule by its seed, as unguided.
     */
    private int guided(Script script, Profile p) throws IOException {
        Runner.RunOptions base = options(baseSeed, null);
        var result = Guided.explore(script, new Guided.Config(p, base, baseSeed,
                schedules, jobs, true));
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<ExploreReport.Item> items = new ArrayList<>();
        List<String> replays = new ArrayList<>();
        for (var found : result.findings()) {
            Explorer.Finding f = found.finding();
            Runner.RunOptions o = found.first().options(base);
            String replay = replayCommand(f.firstSeed());
            var header = Traces.header(file.toString(), text, p, o);
            if (found.first().decisions() != null) {
                var rec = Traces.run(script, header, p, o);
                String name = file.getFileName().toString().replaceAll("\\.gem$", "") + ".guided." + f.kind().label()
                        + "." + f.function().replace(' ', '_') + ".trace";
                Path out = output(name);
                try (var os = new BufferedOutputStream(Files.newOutputStream(out))) {
                    TraceRecorder.write(rec.records(), os);
                }
                replay = "./gemulator replay " + out + "    (schedule " + (found.first().index() + 1) + ": seed "
                        + f.firstSeed() + " after a prefix of schedule " + (found.first().parent() + 1) + "'s decisions)";
            }
            String table = null;
            if (!shrink && !json && f.kind() != Report.Kind.EXPECTATION) {
                var rec = Traces.run(script, header, p, o);
                table = "== " + f.kind().label() + " in " + f.function() + " at schedule " + (found.first().index() + 1)
                        + " (profile " + kernel.profile + ", strategy " + strategy + ", guided; --shrink for the fewest "
                        + "preemptions)\n" + FindingTable.render(rec.records(), f.detail());
            }
            replays.add(replay);
            items.add(new ExploreReport.Item(f.kind().label(), f.function(), f.detail(), f.firstSeed(), f.schedules(),
                    replay, table));
        }
        String summary = String.format(Locale.ROOT, "guided: %d of %d schedules mutated from a corpus of %d; coverage %d "
                + "pairs of racing steps, %d distinct schedule fingerprints", result.mutated(), result.schedules(),
                result.corpus(), result.pairs(), result.fingerprints());
        ExploreReport report = new ExploreReport(file.toString(), kernel.profile, strategy, kernel.pctDepth, kernel.pctSteps,
                baseSeed, schedules, false, items, result.seconds(), jobs, summary);
        if (json) {
            System.out.println(report.json(null, baseSeed, schedules));
            return shards.exitStatus(!items.isEmpty());
        }
        System.out.print(report.text(shards.timing()));
        for (int i = 0; shrink && i < result.findings().size(); i++) {
            var found = result.findings().get(i);
            shrinkOne(script, p, text, found.finding(), found.first().options(base), replays.get(i));
        }
        return shards.exitStatus(!items.isEmpty());
    }

    private int dfs(Script script, Profile p) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        var header = Traces.header(file.toString(), text, p,
                new Runner.RunOptions(0, Strategy.Name.RANDOM, kernel.pctDepth, kernel.pctSteps));
        Shard shard = shards.shard();
        if (shard != null) {
            var parts = Dfs.explorePart(script, p, header, preemptions, schedules, shard);
            if (json) {
                System.out.println(DfsReport.json(file.toString(), text, kernel.profile, preemptions, schedules,
                        kernel.pctDepth, kernel.pctSteps, shard, parts));
            } else {
                int n = parts.parts().stream().mapToInt(Dfs.Part::schedules).sum();
                long found = parts.parts().stream().mapToLong(x -> x.findings().size()).sum();
                System.out.printf(Locale.ROOT, "explored %s: profile %s, dfs with at most %d preemptions, shard %s: %d of "
                        + "%d subtrees, %d schedules, %d findings in them (--json and merge for the whole search)%n", file,
                        kernel.profile, preemptions, shard, parts.parts().stream().filter(x -> x.subtree() >= 0).count(),
                        parts.branches(), n, found);
            }
            return shards.exitStatus(!parts.parts().stream().allMatch(x -> x.findings().isEmpty()));
        }
        var r = Dfs.explore(script, p, header, preemptions, schedules);
        List<DfsReport.Item> items = new ArrayList<>();
        for (Explorer.Finding f : r.findings()) {
            Path out = output(DfsReport.traceFile(outDir, file.toString(), f.kind().label(), f.function())
                    .getFileName().toString());
            try (var os = new BufferedOutputStream(Files.newOutputStream(out))) {
                TraceRecorder.write(r.traces().get(f.key()), os);
            }
            items.add(new DfsReport.Item(f.kind().label(), f.function(), f.detail(), f.firstSeed(), f.schedules(), out));
        }
        System.out.print(new DfsReport(file.toString(), kernel.profile, preemptions, r.schedules(), r.exhausted(), items,
                r.seconds()).text(shards.timing()));
        return shards.exitStatus(!r.findings().isEmpty());
    }

    private void shrinkOne(Script script, Profile p, String text, Explorer.Finding f, Runner.RunOptions o, String original)
            throws IOException {
        var shrunk = Shrinker.shrink(script, p, o, Traces.header(
                file.toString(), text, p, o), f.key());
        String base = file.getFileName().toString().replaceAll("\\.gem$", "");
        Path out = output(base + "." + f.kind().label() + "." + f.function().replace(' ', '_') + ".min.trace");
        try (var os = new BufferedOutputStream(Files.newOutputStream(out))) {
            TraceRecorder.write(shrunk.trace(), os);
        }
        System.out.println();
        System.out.println("== " + f.kind().label() + " in " + f.function());
        System.out.println("   " + f.detail());
        System.out.println("   seed " + f.firstSeed() + ", profile " + kernel.profile + ", strategy " + strategy + "; shrunk to "
                + shrunk.preemptions() + " preemptions, " + shrunk.switches() + " switches (" + shrunk.runs() + " runs)");
        System.out.println("   replay: ./gemulator replay " + out + "    (original: " + original + ")");
        System.out.println("   picture: ./gemulator trace html --focus " + out + " > " + out.toString().replaceAll("\\.trace$", ".html"));
        String detail = shrunk.trace().stream().filter(r -> r.hasReport() && f.key().matches(r.getReport()))
                .map(r -> r.getReport().getDetail()).findFirst().orElse(f.detail());
        System.out.println("   in the shrunk run: " + detail);
        System.out.println();
        System.out.print(FindingTable.render(shrunk.trace(), detail));
    }

    /** A file of {@link #outDir} (made if need be) that a finding's trace goes to. */
    private Path output(String name) {
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new UserError("cannot make --out " + outDir + ": " + e.getMessage());
        }
        return outDir.resolve(name);
    }

    private String replayCommand(long seed) {
        return "./gemulator run " + file + " --profile " + kernel.profile + " --strategy " + strategy
                + (name == Strategy.Name.PCT ? " --pct-depth " + kernel.pctDepth + " --pct-steps " + kernel.pctSteps
                : name == Strategy.Name.CONFLICT && kernel.pctDepth != 3 ? " --pct-depth " + kernel.pctDepth : "") + " --seed " + seed;
    }
}
