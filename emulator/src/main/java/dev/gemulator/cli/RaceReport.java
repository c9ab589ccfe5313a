package dev.gemulator.cli;

import static dev.gemulator.trace.Json.quote;

import dev.gemulator.explore.Shard;
import dev.gemulator.race.RaceRunner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code race} prints for a range of seeds, as data, so that one
 * unsharded run and the merge of its shards print the same text.
 */
record RaceReport(List<List<String>> commands, String profile, String strategy, int pctDepth, long pctSteps,
        long firstSeed, long seeds, List<Item> findings, double seconds, long jobs, boolean persistent, long launches) {

    /** A distinct finding: its first seed's exit statuses and output; {@code table} printed after the list (or null). */
    record Item(String kind, String function, String detail, long firstSeed, long seeds, Map<String, Long> statuses,
            Map<String, String> output, String replay, String table) {
        String key() {
            return kind + " " + function;
        }
    }

    static String statusText(Map<String, ? extends Number> statuses) {
        List<String> parts = new ArrayList<>();
        statuses.forEach((p, s) -> parts.add(p + " " + s));
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }

    static void output(StringBuilder b, Map<String, String> output, String indent) {
        output.forEach((p, text) -> {
            String t = text.strip();
            if (!t.isEmpty()) {
                b.append(indent).append("output of ").append(p).append(":\n");
                for (String line : t.split("\n", -1)) {
                    b.append(indent).append("  ").append(line).append('\n');
                }
            }
        });
    }

    String text(boolean timing) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "raced %s: profile %s, strategy %s%s, seeds %d..%d%n",
                RaceRunner.shortCommandLine(commands), profile, strategy,
                strategy.equals("pct") ? " (d=" + pctDepth + ", k=" + pctSteps + ")" : "", firstSeed, firstSeed + seeds - 1));
        if (timing) {
            b.append(String.format(Locale.ROOT, "seeds run: %d in %.2f s (%.2f seeds/s, %d jobs, %s)%n", seeds, seconds,
                    seeds / Math.max(seconds, 1e-9), Math.min(jobs, seeds), persistent
                            ? "persistent clients: " + launches + " launches"
                            : "a launch per seed: " + launches + " launches"));
        } else {
            b.append("seeds run: ").append(seeds).append('\n');
        }
        if (findings.isEmpty()) {
            return b.append("findings: none\n").toString();
        }
        b.append("findings: ").append(findings.size()).append('\n');
        for (Item f : findings) {
            b.append('\n');
            b.append("  ").append(f.kind).append(" in ").append(f.function).append(" (").append(f.seeds).append(" of ")
                    .append(seeds).append(" seeds, first at seed ").append(f.firstSeed).append(")\n");
            b.append("    ").append(f.detail).append('\n');
            b.append("    exit status: ").append(statusText(f.statuses)).append('\n');
            output(b, f.output, "    ");
            b.append("    replay: ").append(f.replay).append('\n');
        }
        for (Item f : findings) {
            if (f.table != null) {
                b.append('\n').append(f.table);
            }
        }
        return b.toString();
    }

    /** One line of JSON: the unsharded form, or with {@code shard} the shard's part with its tables, for merge. */
    String json(Shard shard, long shardFirst, long shardSeeds) {
        StringBuilder sb = new StringBuilder("{");
        if (shard != null) {
            sb.append("\"gemulator\":\"race-shard\",\"shard\":").append(shard.index()).append(",\"shards\":")
                    .append(shard.count()).append(",\"shard_first_seed\":").append(shardFirst).append(",\"shard_seeds\":")
                    .append(shardSeeds).append(",\"pct_depth\":").append(pctDepth).append(",\"pct_steps\":")
                    .append(pctSteps).append(',');
        }
        long ran = shard != null ? shardSeeds : seeds;
        sb.append("\"commands\":[");
        for (int i = 0; i < commands.size(); i++) {
            sb.append(i == 0 ? "" : ",").append('[');
            for (int j = 0; j < commands.get(i).size(); j++) {
                sb.append(j == 0 ? "" : ",").append(quote(commands.get(i).get(j)));
            }
            sb.append(']');
        }
        sb.append("],\"profile\":").append(quote(profile)).append(",\"strategy\":").append(quote(strategy))
                .append(",\"first_seed\":").append(firstSeed).append(",\"seeds\":").append(seeds)
                .append(String.format(Locale.ROOT, ",\"seconds\":%.3f,\"seeds_per_second\":%.2f", seconds,
                        ran / Math.max(seconds, 1e-9)))
                .append(",\"persistent\":").append(persistent).append(",\"launches\":").append(launches)
                .append(",\"findings\":[");
        boolean firstFinding = true;
        for (Item f : findings) {
            sb.append(firstFinding ? "" : ",").append("{\"kind\":").append(quote(f.kind)).append(",\"function\":")
                    .append(quote(f.function)).append(",\"detail\":").append(quote(f.detail))
                    .append(",\"first_seed\":").append(f.firstSeed).append(",\"seeds\":").append(f.seeds)
                    .append(",\"exit_status\":{");
            boolean firstStatus = true;
            for (var e : f.statuses.entrySet()) {
                sb.append(firstStatus ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
                firstStatus = false;
            }
            sb.append("},\"output\":{");
            boolean firstOut = true;
            for (var e : f.output.entrySet()) {
                sb.append(firstOut ? "" : ",").append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                firstOut = false;
            }
            sb.append("},\"replay\":").append(quote(f.replay));
            if (shard != null) {
                sb.append(",\"table\":").append(f.table == null ? "null" : quote(f.table));
            }
            sb.append('}');
            firstFinding = false;
        }
        return sb.append("]}").toString();
    }

    /** The whole run's report from its shards' JSON, in index order. */
    static RaceReport merge(List<Map<String, Object>> shards) {
        Map<String, Object> one = shards.get(0);
        List<Item> all = new ArrayList<>();
        double seconds = 0;
        long launches = 0;
        for (Map<String, Object> s : shards) {
            seconds += MergeCommand.number(s, "seconds");
            launches += MergeCommand.integer(s, "launches");
            for (Object o : MergeCommand.list(s, "findings")) {
                Map<String, Object> f = MergeCommand.map(o, "a finding");
                Map<String, Long> statuses = new LinkedHashMap<>();
                MergeCommand.map(f.get("exit_status"), "exit_status")
                        .forEach((k, v) -> statuses.put(k, v instanceof Long l ? l : 0L));
                Map<String, String> output = new LinkedHashMap<>();
                MergeCommand.map(f.get("output"), "output").forEach((k, v) -> output.put(k, String.valueOf(v)));
                all.add(new Item(MergeCommand.string(f, "kind"), MergeCommand.string(f, "function"),
                        MergeCommand.string(f, "detail"), MergeCommand.integer(f, "first_seed"),
                        MergeCommand.integer(f, "seeds"), statuses, output, MergeCommand.string(f, "replay"),
                        (String) f.get("table")));
            }
        }
        all.sort(Comparator.comparingLong(Item::firstSeed));
        // the order the whole run lists them in: RaceRunner's, by key
        Map<String, Item> byKey = new TreeMap<>();
        for (Item f : all) {
            Item seen = byKey.get(f.key());
            byKey.put(f.key(), seen == null ? f : new Item(seen.kind, seen.function, seen.detail, seen.firstSeed,
                    seen.seeds + f.seeds, seen.statuses, seen.output, seen.replay, seen.table));
        }
        List<List<String>> commands = new ArrayList<>();
        for (Object c : MergeCommand.list(one, "commands")) {
            List<String> words = new ArrayList<>();
            for (Object w : (List<?>) c) {
                words.add(String.valueOf(w));
            }
            commands.add(words);
        }
        return new RaceReport(commands, MergeCommand.string(one, "profile"), MergeCommand.string(one, "strategy"),
                (int) MergeCommand.integer(one, "pct_depth"), MergeCommand.integer(one, "pct_steps"),
                MergeCommand.integer(one, "first_seed"), MergeCommand.integer(one, "seeds"), List.copyOf(byKey.values()),
                seconds, shards.size(), Boolean.TRUE.equals(one.get("persistent")), launches);
    }
}
