package dev.gemulator.cli;

import static dev.gemulator.trace.Json.quote;

import dev.gemulator.explore.Explorer;
import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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
            "Exit status: 0 nothing found, 1 nondeterminism (a bug of gemulator), 2 bad input, 3 something found."})
public final class ExploreCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE.gem")
    private Path file;

    @picocli.CommandLine.Mixin
    private ScheduleOptions kernel;

    @Option(names = "--strategy", defaultValue = "random",
            description = "random, pct, pos, or dfs (every schedule within --preemptions) (default: ${DEFAULT-VALUE})")
    private String strategy;

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

    @Override
    public Integer call() throws Exception {
        Profile p = kernel.resolveProfile();
        if (p == null) {
            return 2;
        }
        kernel.check();
        UserError.check(schedules >= 1, "--schedules wants at least 1, not " + schedules);
        UserError.check(jobs >= 1, "--jobs wants at least 1, not " + jobs);
        UserError.check(preemptions >= 0, "--preemptions wants 0 or more, not " + preemptions);
        if (!List.of("random", "pct", "pos", "dfs").contains(strategy)) {
            System.err.println("gemulator: unknown strategy '" + strategy + "' (known: random, pct, pos, dfs)");
            return 2;
        }
        Script script;
        try {
            script = Parser.parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (ParseException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("gemulator: cannot read " + file + ": " + e.getMessage());
            return 2;
        }
        if (strategy.equals("dfs")) {
            return dfs(script, p);
        }
        kernel.pctSteps(script, p, strategy);
        Explorer.Result result;
        try {
            result = Explorer.explore(script, new Explorer.Config(p,
                    new Runner.RunOptions(baseSeed, strategy, kernel.pctDepth, kernel.pctSteps), baseSeed, schedules, jobs,
                    checkDeterminism));
        } catch (Explorer.NondeterminismException e) {
            System.err.println("gemulator: NONDETERMINISM (an emulator bug): " + e.getMessage());
            return 1;
        }
        if (json) {
            printJson(result);
        } else {
            printText(result);
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        for (Explorer.Finding f : json ? List.<Explorer.Finding>of() : result.findings()) {
            if (shrink) {
                shrinkOne(script, p, text, f);
            } else if (f.kind() != dev.gemulator.check.Report.Kind.EXPECTATION) {
                Runner.RunOptions o = new Runner.RunOptions(f.firstSeed(), strategy, kernel.pctDepth, kernel.pctSteps);
                var rec = dev.gemulator.trace.Traces.run(script, dev.gemulator.trace.Traces.header(file.toString(), text, p, o), p, o);
                System.out.println();
                System.out.println("== " + f.kind().label() + " in " + f.function() + " at seed " + f.firstSeed()
                        + " (profile " + kernel.profile + ", strategy " + strategy + "; --shrink for the fewest preemptions)");
                System.out.print(dev.gemulator.explore.FindingTable.render(rec.records(), f.detail()));
            }
        }
        return result.findings().isEmpty() ? 0 : 3;
    }

    private int dfs(Script script, Profile p) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        var header = dev.gemulator.trace.Traces.header(file.toString(), text, p,
                new Runner.RunOptions(0, "random", kernel.pctDepth, kernel.pctSteps));
        var r = dev.gemulator.explore.Dfs.explore(script, p, header, preemptions, schedules);
        System.out.printf(Locale.ROOT, "explored %s: profile %s, dfs with at most %d preemptions%n", file, kernel.profile, preemptions);
        System.out.printf(Locale.ROOT, "schedules run: %d in %.2f s (%.0f schedules/s); %s%n", r.schedules(), r.seconds(),
                r.schedules() / Math.max(r.seconds(), 1e-9),
                r.exhausted() ? "every schedule within the bound was run" : "stopped at --schedules before the end");
        if (r.findings().isEmpty()) {
            System.out.println("findings: none");
            return 0;
        }
        System.out.println("findings: " + r.findings().size());
        String base = file.getFileName().toString().replaceAll("\\.gem$", "");
        for (Explorer.Finding f : r.findings()) {
            Path out = output(base + "." + f.kind().label() + "." + f.function().replace(' ', '_') + ".dfs.trace");
            try (var os = new java.io.BufferedOutputStream(Files.newOutputStream(out))) {
                dev.gemulator.trace.TraceRecorder.write(r.traces().get(f.key()), os);
            }
            System.out.println();
            System.out.println("  " + f.kind().label() + " in " + f.function() + " (" + f.schedules() + " of "
                    + r.schedules() + " schedules, first in schedule " + f.firstSeed() + ")");
            System.out.println("    " + f.detail());
            System.out.println("    replay: ./gemulator replay " + out);
        }
        return 3;
    }

    private void shrinkOne(Script script, Profile p, String text, Explorer.Finding f) throws IOException {
        Runner.RunOptions o = new Runner.RunOptions(f.firstSeed(), strategy, kernel.pctDepth, kernel.pctSteps);
        var shrunk = dev.gemulator.explore.Shrinker.shrink(script, p, o, dev.gemulator.trace.Traces.header(
                file.toString(), text, p, o), f.key());
        String base = file.getFileName().toString().replaceAll("\\.gem$", "");
        Path out = output(base + "." + f.kind().label() + "." + f.function().replace(' ', '_') + ".min.trace");
        try (var os = new java.io.BufferedOutputStream(Files.newOutputStream(out))) {
            dev.gemulator.trace.TraceRecorder.write(shrunk.trace(), os);
        }
        System.out.println();
        System.out.println("== " + f.kind().label() + " in " + f.function());
        System.out.println("   " + f.detail());
        System.out.println("   seed " + f.firstSeed() + ", profile " + kernel.profile + ", strategy " + strategy + "; shrunk to "
                + shrunk.preemptions() + " preemptions, " + shrunk.switches() + " switches (" + shrunk.runs() + " runs)");
        System.out.println("   replay: ./gemulator replay " + out + "    (original: " + replayCommand(f.firstSeed()) + ")");
        System.out.println("   picture: ./gemulator trace html --focus " + out + " > " + out.toString().replaceAll("\\.trace$", ".html"));
        String detail = shrunk.trace().stream().filter(r -> r.hasReport()
                && (r.getReport().getKind() + " " + r.getReport().getFunction()).equals(f.key()))
                .map(r -> r.getReport().getDetail()).findFirst().orElse(f.detail());
        System.out.println("   in the shrunk run: " + detail);
        System.out.println();
        System.out.print(dev.gemulator.explore.FindingTable.render(shrunk.trace(), detail));
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
                + (strategy.equals("pct") ? " --pct-depth " + kernel.pctDepth + " --pct-steps " + kernel.pctSteps : "") + " --seed " + seed;
    }

    private void printText(Explorer.Result result) {
        List<Explorer.Finding> findings = result.findings();
        double seconds = result.seconds();
        System.out.printf(Locale.ROOT, "explored %s: profile %s, strategy %s%s, seeds %d..%d%n", file, kernel.profile, strategy,
                strategy.equals("pct") ? " (d=" + kernel.pctDepth + ", k=" + kernel.pctSteps + ")" : "", baseSeed, baseSeed + schedules - 1);
        System.out.printf(Locale.ROOT, "schedules run: %d in %.2f s (%.0f schedules/s, %d jobs)%n", schedules, seconds,
                schedules / seconds, jobs);
        if (checkDeterminism) {
            System.out.println("determinism: every schedule ran twice with identical trace hashes");
        }
        if (findings.isEmpty()) {
            System.out.println("findings: none");
            return;
        }
        System.out.println("findings: " + findings.size());
        for (Explorer.Finding f : findings) {
            System.out.println();
            System.out.println("  " + f.kind().label() + " in " + f.function() + " (" + f.schedules() + " of " + schedules
                    + " schedules, first at seed " + f.firstSeed() + ")");
            System.out.println("    " + f.detail());
            System.out.println("    replay: " + replayCommand(f.firstSeed()));
        }
    }

    private void printJson(Explorer.Result result) {
        List<Explorer.Finding> findings = result.findings();
        double seconds = result.seconds();
        StringBuilder sb = new StringBuilder();
        sb.append("{\"file\":").append(quote(file.toString())).append(",\"profile\":").append(quote(kernel.profile))
                .append(",\"strategy\":").append(quote(strategy)).append(",\"first_seed\":").append(baseSeed)
                .append(",\"schedules\":").append(schedules)
                .append(String.format(Locale.ROOT, ",\"seconds\":%.3f,\"schedules_per_second\":%.1f", seconds, schedules / seconds))
                .append(",\"findings\":[");
        boolean first = true;
        for (Explorer.Finding f : findings) {
            sb.append(first ? "" : ",").append("{\"kind\":").append(quote(f.kind().label())).append(",\"function\":")
                    .append(quote(f.function())).append(",\"detail\":").append(quote(f.detail()))
                    .append(",\"first_seed\":").append(f.firstSeed()).append(",\"schedules\":").append(f.schedules())
                    .append(",\"replay\":").append(quote(replayCommand(f.firstSeed()))).append('}');
            first = false;
        }
        System.out.println(sb.append("]}"));
    }
}
