package dev.gemulator.cli;

import dev.gemulator.trace.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gemulator merge RESULTS...}: the shards of one explore or race run
 * ({@code --shard I/N --json}) joined into what the whole run prints: each
 * finding with its count over every shard, its first seed, detail, replay
 * command and table. Files may hold other lines (kubectl logs of every pod
 * in one file): every line that is a shard's JSON counts.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Joins the --json results of the shards of one explore or race run (--shard I/N) into what the "
            + "whole run prints (without timing).",
            "Every shard 0..N-1 must be there once, all of the same run. A file may hold several shards' lines and other "
            + "lines (kubectl logs of a whole Job).",
            "Exit status: 0 nothing found, 2 bad input (a shard missing, twice, or of another run), 3 something found."})
public final class MergeCommand implements Callable<Integer> {

    /** The fields of a shard's JSON that are its own, not the run's. */
    private static final Set<String> OWN = Set.of("shard", "shard_first_seed", "shard_schedules", "shard_seeds",
            "seconds", "schedules_per_second", "seeds_per_second", "findings", "launches", "persistent", "subtrees",
            "exhausted", "shard_runs");

    @Parameters(paramLabel = "RESULTS", arity = "1..*", description = "files holding the shards' JSON lines")
    private List<Path> files;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "gemulator-out",
            description = "dfs: where the findings' traces go, as explore writes them (default: ${DEFAULT-VALUE})")
    private Path outDir;

    @Override
    public Integer call() throws Exception {
        List<Map<String, Object>> shards = new ArrayList<>();
        for (Path f : files) {
            String text;
            try {
                text = Files.readString(f, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UserError(UserError.cannotRead(f, e));
            }
            int line = 0;
            for (String l : text.split("\n", -1)) {
                line++;
                String t = l.strip();
                if (!t.startsWith("{\"gemulator\":")) {
                    continue;
                }
                try {
                    shards.add(map(Json.parse(t), f + ":" + line));
                } catch (Json.SyntaxError e) {
                    throw new UserError(f + ":" + line + ": not a shard's JSON (" + e.getMessage() + ")");
                }
            }
        }
        UserError.check(!shards.isEmpty(), "no shard results in " + files
                + " (they are the lines explore/race --shard I/N --json prints)");
        List<Map<String, Object>> ordered = ordered(shards);
        String kind = string(ordered.get(0), "gemulator");
        String out = switch (kind) {
            case "explore-shard" -> ExploreReport.merge(ordered).text(false);
            case "race-shard" -> RaceReport.merge(ordered).text(false);
            case "dfs-shard" -> DfsReport.merge(ordered, outDir).text(false);
            default -> throw new UserError("unknown result kind '" + kind + "' (known: explore-shard, race-shard, dfs-shard)");
        };
        System.out.print(out);
        return out.contains("\nfindings: none\n") ? 0 : 3;
    }

    /** The shards in index order, after checking they are all there once and all of one run. */
    private static List<Map<String, Object>> ordered(List<Map<String, Object>> shards) {
        Map<String, Object> first = shards.get(0);
        long n = integer(first, "shards");
        Map<Long, Map<String, Object>> byIndex = new TreeMap<>();
        for (Map<String, Object> s : shards) {
            for (String k : first.keySet()) {
                if (!OWN.contains(k) && !Objects.equals(first.get(k), s.get(k))) {
                    throw new UserError("shard " + s.get("shard") + " is of another run than shard " + first.get("shard")
                            + ": " + k + " is " + Json.quote(String.valueOf(s.get(k))) + ", not "
                            + Json.quote(String.valueOf(first.get(k))));
                }
            }
            long i = integer(s, "shard");
            if (byIndex.put(i, s) != null) {
                throw new UserError("shard " + i + "/" + n + " is there twice");
            }
        }
        for (long i = 0; i < n; i++) {
            if (!byIndex.containsKey(i)) {
                throw new UserError("shard " + i + "/" + n + " is missing (" + byIndex.size() + " of " + n + " shards given)");
            }
        }
        return List.copyOf(byIndex.values());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map)) {
            throw new UserError(what + ": a JSON object expected");
        }
        return (Map<String, Object>) o;
    }

    static List<Object> list(Map<String, Object> m, String key) {
        if (!(m.get(key) instanceof List<?> l)) {
            throw new UserError("shard result: '" + key + "' is not a list");
        }
        return new ArrayList<>(l);
    }

    static String string(Map<String, Object> m, String key) {
        if (!(m.get(key) instanceof String s)) {
            throw new UserError("shard result: '" + key + "' is not a string");
        }
        return s;
    }

    static long integer(Map<String, Object> m, String key) {
        if (!(m.get(key) instanceof Long l)) {
            throw new UserError("shard result: '" + key + "' is not an integer");
        }
        return l;
    }

    static double number(Map<String, Object> m, String key) {
        if (!(m.get(key) instanceof Number n)) {
            throw new UserError("shard result: '" + key + "' is not a number");
        }
        return n.doubleValue();
    }
}
