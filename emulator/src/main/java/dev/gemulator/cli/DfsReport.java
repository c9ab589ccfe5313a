package dev.gemulator.cli;

import static dev.gemulator.trace.Json.quote;

import dev.gemulator.explore.Dfs;
import dev.gemulator.explore.Explorer;
import dev.gemulator.explore.Shard;
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
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code explore --strategy dfs} prints, as data, so that one whole
 * search and the merge of its shards print the same text. A finding's
 * trace file is written by whoever prints it: the whole search, or merge
 * (which runs the finding's first schedule again from its prefix).
 */
record DfsReport(String file, String profile, int preemptions, int schedules, boolean exhausted, List<Item> findings,
        double seconds) {

    /** A finding: where its trace went. */
    record Item(String kind, String function, String detail, long firstSchedule, long schedules, Path trace) {
    }

    String text(boolean timing) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "explored %s: profile %s, dfs with at most %d preemptions%n", file, profile,
                preemptions));
        String end = exhausted ? "every schedule within the bound was run" : "stopped at --schedules before the end";
        if (timing) {
            b.append(String.format(Locale.ROOT, "schedules run: %d in %.2f s (%.0f schedules/s); %s%n", schedules, seconds,
                    schedules / Math.max(seconds, 1e-9), end));
        } else {
            b.append("schedules run: ").append(schedules).append("; ").append(end).append('\n');
        }
        if (findings.isEmpty()) {
            return b.append("findings: none\n").toString();
        }
        b.append("findings: ").append(findings.size()).append('\n');
        for (Item f : findings) {
            b.append('\n');
            b.append("  ").append(f.kind).append(" in ").append(f.function).append(" (").append(f.schedules).append(" of ")
                    .append(schedules).append(" schedules, first in schedule ").append(f.firstSchedule).append(")\n");
            b.append("    ").append(f.detail).append('\n');
            b.append("    replay: ./gemulator replay ").append(f.trace).append('\n');
        }
        return b.toString();
    }

    /** The name of a finding's trace file in {@code out}. */
    static Path traceFile(Path out, String file, String kind, String function) {
        String base = Path.of(file).getFileName().toString().replaceAll("\\.gem$", "");
        return out.resolve(base + "." + kind + "." + function.replace(' ', '_') + ".dfs.trace");
    }

    /** A dfs shard's JSON line: the run, then its parts (subtrees) with their findings and prefixes. */
    static String json(String file, String text, String profile, int preemptions, int maxSchedules, int pctDepth,
            long pctSteps, Shard shard, Dfs.Sharded sharded) {
        List<Dfs.Part> parts = sharded.parts();
        double seconds = sharded.seconds();
        StringBuilder sb = new StringBuilder();
        sb.append("{\"gemulator\":\"dfs-shard\",\"shard\":").append(shard.index()).append(",\"shards\":")
                .append(shard.count()).append(",\"file\":").append(quote(file)).append(",\"scenario_sha256\":")
                .append(quote(HexFormat.of().formatHex(Traces.sha256(text)))).append(",\"profile\":").append(quote(profile))
                .append(",\"preemptions\":").append(preemptions).append(",\"max_schedules\":").append(maxSchedules)
                .append(",\"pct_depth\":").append(pctDepth).append(",\"pct_steps\":").append(pctSteps)
                .append(String.format(Locale.ROOT, ",\"seconds\":%.3f", seconds)).append(",\"subtrees\":[");
        boolean firstPart = true;
        for (Dfs.Part p : parts) {
            sb.append(firstPart ? "" : ",").append("{\"subtree\":").append(p.subtree()).append(",\"schedules\":")
                    .append(p.schedules()).append(",\"exhausted\":").append(p.exhausted()).append(",\"findings\":[");
            boolean first = true;
            for (Explorer.Finding f : p.findings()) {
                sb.append(first ? "" : ",").append("{\"kind\":").append(quote(f.kind().label())).append(",\"function\":")
                        .append(quote(f.function())).append(",\"detail\":").append(quote(f.detail()))
                        .append(",\"first\":").append(f.firstSeed()).append(",\"schedules\":").append(f.schedules())
                        .append(",\"prefix\":[");
                int[] prefix = p.prefixes().get(f.key());
                for (int i = 0; i < prefix.length; i++) {
                    sb.append(i == 0 ? "" : ",").append(prefix[i]);
                }
                sb.append("]}");
                first = false;
            }
            sb.append("]}");
            firstPart = false;
        }
        // the branches under the first schedule, so that merge can tell whether every subtree is there
        return sb.append("],\"branches\":").append(sharded.branches()).append('}').toString();
    }

    /**
     * The whole search's report from its shards: the parts in the whole
     * search's order (the first schedule, then branch 0, 1, ...), schedule
     * numbers offset by the sizes of the parts before, and each finding's
     * trace written to {@code out} from its first schedule's prefix.
     */
    static DfsReport merge(List<Map<String, Object>> shards, Path out) {
        Map<String, Object> one = shards.get(0);
        Map<Long, Map<String, Object>> parts = new TreeMap<>();
        long branches = MergeCommand.integer(one, "branches");
        for (Map<String, Object> s : shards) {
            for (Object o : MergeCommand.list(s, "subtrees")) {
                Map<String, Object> p = MergeCommand.map(o, "a subtree");
                parts.put(MergeCommand.integer(p, "subtree"), p);
            }
        }
        int maxSchedules = (int) MergeCommand.integer(one, "max_schedules");
        boolean exhausted = parts.containsKey(-1L);
        for (long j = 0; j < branches; j++) {
            exhausted &= parts.containsKey(j);
        }
        long before = 0;
        Map<String, Item> findings = new LinkedHashMap<>();
        Map<String, long[]> prefixes = new LinkedHashMap<>();
        List<Object[]> firsts = new ArrayList<>();
        for (Map<String, Object> p : parts.values()) {
            exhausted &= Boolean.TRUE.equals(p.get("exhausted"));
            for (Object o : MergeCommand.list(p, "findings")) {
                Map<String, Object> f = MergeCommand.map(o, "a finding");
                String kind = MergeCommand.string(f, "kind");
                String function = MergeCommand.string(f, "function");
                String key = kind + " " + function;
                long first = before + MergeCommand.integer(f, "first");
                Item seen = findings.get(key);
                if (seen == null) {
                    findings.put(key, new Item(kind, function, MergeCommand.string(f, "detail"), first,
                            MergeCommand.integer(f, "schedules"), traceFile(out, MergeCommand.string(one, "file"), kind,
                                    function)));
                    List<Object> pre = MergeCommand.list(f, "prefix");
                    long[] prefix = new long[pre.size()];
                    for (int i = 0; i < prefix.length; i++) {
                        prefix[i] = (Long) pre.get(i);
                    }
                    prefixes.put(key, prefix);
                } else {
                    findings.put(key, new Item(seen.kind, seen.function, seen.detail, seen.firstSchedule,
                            seen.schedules + MergeCommand.integer(f, "schedules"), seen.trace));
                }
            }
            before += MergeCommand.integer(p, "schedules");
        }
        double seconds = 0;
        for (Map<String, Object> s : shards) {
            seconds += MergeCommand.number(s, "seconds");
        }
        if (before > maxSchedules) {
            exhausted = false;
        }
        List<Item> ordered = new ArrayList<>(findings.values());
        ordered.sort(Comparator.comparingLong(Item::firstSchedule));
        if (!ordered.isEmpty()) {
            writeTraces(one, prefixes, findings, out);
        }
        return new DfsReport(MergeCommand.string(one, "file"), MergeCommand.string(one, "profile"),
                (int) MergeCommand.integer(one, "preemptions"), (int) before, exhausted, ordered, seconds);
    }

    private static void writeTraces(Map<String, Object> one, Map<String, long[]> prefixes, Map<String, Item> findings,
            Path out) {
        String file = MergeCommand.string(one, "file");
        String text;
        Script script;
        try {
            text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            script = Parser.parse(file, text);
        } catch (IOException e) {
            throw new UserError("cannot read " + file + " (merge runs each finding's first schedule again to write its "
                    + "trace; run it where the scenario is): " + e.getMessage());
        } catch (ParseException e) {
            throw new UserError(e.getMessage());
        }
        if (!HexFormat.of().formatHex(Traces.sha256(text)).equals(MergeCommand.string(one, "scenario_sha256"))) {
            throw new UserError(file + " is not the scenario the shards explored (its sha256 differs)");
        }
        Profile p = Profile.byName(MergeCommand.string(one, "profile"));
        if (p == null) {
            throw new UserError("unknown kernel profile in the shards: " + one.get("profile"));
        }
        var header = Traces.header(file, text, p, new Runner.RunOptions(0, Strategy.Name.RANDOM,
                (int) MergeCommand.integer(one, "pct_depth"), MergeCommand.integer(one, "pct_steps")));
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UserError("cannot make --out " + out + ": " + e.getMessage());
        }
        for (var e : prefixes.entrySet()) {
            int[] prefix = Arrays.stream(e.getValue()).mapToInt(v -> (int) v).toArray();
            var run = Traces.run(script, header, p, Dfs.options(prefix));
            Path to = findings.get(e.getKey()).trace();
            try (var os = new BufferedOutputStream(Files.newOutputStream(to))) {
                TraceRecorder.write(run.records(), os);
            } catch (IOException x) {
                throw new UserError("cannot write " + to + ": " + x.getMessage());
            }
        }
    }
}
