package dev.gemulator.cli;

import static dev.gemulator.trace.Json.quote;

import dev.gemulator.explore.Shard;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code explore} (random, pct, pos) prints, as data: the run's header,
 * its findings with their first seeds, replay commands and tables. One
 * unsharded run and the merge of its shards build the same report, so they
 * print the same text.
 */
record ExploreReport(String file, String profile, String strategy, int pctDepth, long pctSteps, long firstSeed,
        long schedules, boolean checkDeterminism, List<Item> findings, double seconds, int jobs, String guided) {

    ExploreReport(String file, String profile, String strategy, int pctDepth, long pctSteps, long firstSeed,
            long schedules, boolean checkDeterminism, List<Item> findings, double seconds, int jobs) {
        this(file, profile, strategy, pctDepth, pctSteps, firstSeed, schedules, checkDeterminism, findings, seconds, jobs,
                null);
    }

    /** A distinct finding; {@code table} is the block printed after the list (null: none). */
    record Item(String kind, String function, String detail, long firstSeed, long schedules, String replay,
            String table) {
        String key() {
            return kind + " " + function;
        }
    }

    /** The text an unsharded run prints: the header, the findings, then each finding's table. */
    String text(boolean timing) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "explored %s: profile %s, strategy %s%s, seeds %d..%d%n", file, profile,
                strategy, strategy.equals("pct") ? " (d=" + pctDepth + ", k=" + pctSteps + ")" : "", firstSeed,
                firstSeed + schedules - 1));
        if (timing) {
            b.append(String.format(Locale.ROOT, "schedules run: %d in %.2f s (%.0f schedules/s, %d jobs)%n", schedules,
                    seconds, schedules / Math.max(seconds, 1e-9), jobs));
        } else {
            b.append("schedules run: ").append(schedules).append('\n');
        }
        if (checkDeterminism) {
            b.append("determinism: every schedule ran twice with identical trace hashes\n");
        }
        if (guided != null) {
            b.append(guided).append('\n');
        }
        if (findings.isEmpty()) {
            return b.append("findings: none\n").toString();
        }
        b.append("findings: ").append(findings.size()).append('\n');
        for (Item f : findings) {
            b.append('\n');
            b.append("  ").append(f.kind).append(" in ").append(f.function).append(" (").append(f.schedules)
                    .append(" of ").append(schedules).append(" schedules, first at seed ").append(f.firstSeed)
                    .append(")\n");
            b.append("    ").append(f.detail).append('\n');
            b.append("    replay: ").append(f.replay).append('\n');
        }
        for (Item f : findings) {
            if (f.table != null) {
                b.append('\n').append(f.table);
            }
        }
        return b.toString();
    }

    /**
     * One line of JSON: the unsharded form, or with {@code shard} the shard's
     * part (its seeds, its findings with their tables) for {@code merge}.
     */
    String json(Shard shard, long shardFirst, long shardSchedules) {
        StringBuilder sb = new StringBuilder("{");
        if (shard != null) {
            sb.append("\"gemulator\":\"explore-shard\",\"shard\":").append(shard.index()).append(",\"shards\":")
                    .append(shard.count()).append(",\"shard_first_seed\":").append(shardFirst)
                    .append(",\"shard_schedules\":").append(shardSchedules).append(",\"pct_depth\":").append(pctDepth)
                    .append(",\"pct_steps\":").append(pctSteps).append(",\"check_determinism\":")
                    .append(checkDeterminism).append(',');
        }
        long ran = shard != null ? shardSchedules : schedules;
        sb.append("\"file\":").append(quote(file)).append(",\"profile\":").append(quote(profile))
                .append(",\"strategy\":").append(quote(strategy)).append(",\"first_seed\":").append(firstSeed)
                .append(",\"schedules\":").append(schedules)
                .append(guided == null ? "" : ",\"guided\":" + quote(guided))
                .append(String.format(Locale.ROOT, ",\"seconds\":%.3f,\"schedules_per_second\":%.1f", seconds,
                        ran / Math.max(seconds, 1e-9)))
                .append(",\"findings\":[");
        boolean first = true;
        for (Item f : findings) {
            sb.append(first ? "" : ",").append("{\"kind\":").append(quote(f.kind)).append(",\"function\":")
                    .append(quote(f.function)).append(",\"detail\":").append(quote(f.detail))
                    .append(",\"first_seed\":").append(f.firstSeed).append(",\"schedules\":").append(f.schedules)
                    .append(",\"replay\":").append(quote(f.replay));
            if (shard != null) {
                sb.append(",\"table\":").append(f.table == null ? "null" : quote(f.table));
            }
            sb.append('}');
            first = false;
        }
        return sb.append("]}").toString();
    }

    /**
     * The whole run's report from all its shards' JSON (each once): findings
     * by kind and function, counts summed, the first seed the smallest and
     * its detail, replay command and table with it.
     */
    static ExploreReport merge(List<Map<String, Object>> shards) {
        Map<String, Object> one = shards.get(0);
        List<Item> all = new ArrayList<>();
        double seconds = 0;
        for (Map<String, Object> s : shards) {
            seconds += MergeCommand.number(s, "seconds");
            for (Object o : MergeCommand.list(s, "findings")) {
                Map<String, Object> f = MergeCommand.map(o, "a finding");
                all.add(new Item(MergeCommand.string(f, "kind"), MergeCommand.string(f, "function"),
                        MergeCommand.string(f, "detail"), MergeCommand.integer(f, "first_seed"),
                        MergeCommand.integer(f, "schedules"), MergeCommand.string(f, "replay"),
                        (String) f.get("table")));
            }
        }
        Map<String, Item> byKey = new TreeMap<>();
        all.sort(Comparator.comparingLong(Item::firstSeed));
        for (Item f : all) {
            Item seen = byKey.get(f.key());
            byKey.put(f.key(), seen == null ? f : new Item(seen.kind, seen.function, seen.detail, seen.firstSeed,
                    seen.schedules + f.schedules, seen.replay, seen.table));
        }
        return new ExploreReport(MergeCommand.string(one, "file"), MergeCommand.string(one, "profile"),
                MergeCommand.string(one, "strategy"), (int) MergeCommand.integer(one, "pct_depth"),
                MergeCommand.integer(one, "pct_steps"), MergeCommand.integer(one, "first_seed"),
                MergeCommand.integer(one, "schedules"), Boolean.TRUE.equals(one.get("check_determinism")),
                List.copyOf(byKey.values()), seconds, shards.size());
    }
}
