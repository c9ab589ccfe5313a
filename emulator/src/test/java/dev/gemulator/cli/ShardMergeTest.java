package dev.gemulator.cli;

import static dev.gemulator.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Cli.Ran;
import dev.gemulator.explore.Shard;
import dev.gemulator.trace.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * explore's shards, merged, print what the whole run prints, byte for byte
 * (without timing): findings, counts, first seeds, replay commands and tables;
 * for dfs also the schedule numbers and the findings' trace files.
 */
@Tag("slow")
class ShardMergeTest {
    @TempDir
    Path dir;

    private static String scenario(String name) {
        return Path.of(System.getProperty("gemulator.repo", ".."), "scenarios", name).toString();
    }

    private static String[] with(List<String> base, String... more) {
        List<String> a = new ArrayList<>(base);
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void fourShardsOfThe311RaceMergeIntoTheWholeRun() throws Exception {
        List<String> explore = List.of("explore", scenario("export_vs_gem_close.gem"), "--profile", "v3.11", "--strategy",
                "pos", "--schedules", "150", "--jobs", "2");
        Ran whole = run(with(explore, "--no-timing"));
        assertEquals(3, whole.status(), whole.err());
        assertTrue(whole.out().contains("use-after-free in drm_gem_prime_handle_to_fd"), whole.out());
        assertTrue(whole.out().contains("\n== use-after-free in drm_gem_prime_handle_to_fd at seed "), "tables too");
        StringBuilder logs = new StringBuilder("some other line of a pod's log\n");
        List<String> files = new ArrayList<>(List.of("merge"));
        for (int i = 3; i >= 0; i--) {
            Ran shard = run(with(explore, "--shard", i + "/4", "--json"));
            assertTrue(shard.status() == 0 || shard.status() == 3, shard.err());
            if (i % 2 == 0) {
                files.add(Files.writeString(dir.resolve("shard-" + i + ".json"), shard.out()).toString());
            } else {
                logs.append(shard.out()); // as kubectl logs of several pods
            }
        }
        files.add(Files.writeString(dir.resolve("logs.txt"), logs).toString());
        Ran merged = run(files.toArray(String[]::new));
        assertEquals(whole.status(), merged.status(), merged.err());
        assertEquals(whole.out(), merged.out());
        Ran text = run(with(explore, "--shard", "1/4", "--no-timing"));
        assertTrue(text.out().startsWith("explored " + scenario("export_vs_gem_close.gem")
                + ": profile v3.11, strategy pos, seeds 38..75\n"), "a shard's own text shows its seeds: " + text.out());
    }

    @Test
    void pctShardsMergeToo() throws Exception {
        List<String> explore = List.of("explore", scenario("seed/s_l.gem"), "--profile", "seed", "--strategy", "pct",
                "--schedules", "40", "--seed", "7");
        Ran whole = run(with(explore, "--no-timing"));
        List<String> files = new ArrayList<>(List.of("merge"));
        for (int i = 0; i < 3; i++) {
            files.add(Files.writeString(dir.resolve("pct-" + i + ".json"), run(with(explore, "--shard", i + "/3", "--json"))
                    .out()).toString());
        }
        Ran merged = run(files.toArray(String[]::new));
        assertEquals(whole.out(), merged.out(), merged.err());
        assertTrue(whole.out().contains("seeds 7..46"), whole.out());
    }

    @Test
    void dfsShardsSplitTheTreeAndMergeIntoTheWholeSearchWithItsTraces() throws Exception {
        Path wholeOut = dir.resolve("whole-out");
        Path out = dir.resolve("out");
        List<String> explore = List.of("explore", scenario("v3.11/l_flink.gem"), "--profile", "v3.11", "--strategy",
                "dfs", "--preemptions", "2");
        Ran whole = run(with(explore, "--no-timing", "--out", out.toString()));
        assertEquals(3, whole.status(), whole.err());
        assertTrue(whole.out().contains("every schedule within the bound was run"), whole.out());
        Files.move(out, wholeOut);
        List<String> files = new ArrayList<>(List.of("merge", "--out", out.toString()));
        int schedules = 0;
        for (int i = 0; i < 3; i++) {
            Ran shard = run(with(explore, "--shard", i + "/3", "--json"));
            files.add(Files.writeString(dir.resolve("dfs-" + i + ".json"), shard.out()).toString());
            for (Object part : (List<?>) ((Map<?, ?>) Json.parse(shard.out().strip())).get("subtrees")) {
                schedules += ((Long) ((Map<?, ?>) part).get("schedules")).intValue();
            }
        }
        Ran merged = run(files.toArray(String[]::new));
        assertEquals(whole.out(), merged.out(), merged.err());
        assertTrue(whole.out().contains("schedules run: " + schedules + ";"), "every schedule once: " + schedules);
        try (var traces = Files.list(wholeOut)) {
            List<Path> written = traces.sorted().toList();
            assertEquals(3, written.size(), written.toString());
            for (Path t : written) {
                assertArrayEquals(Files.readAllBytes(t), Files.readAllBytes(out.resolve(t.getFileName())), t.toString());
            }
        }
    }

    @Test
    void shardsSplitASeedRangeIntoBlocksThatCoverItOnce() {
        long next = 10;
        for (int i = 0; i < 7; i++) {
            Shard s = new Shard(i, 7);
            assertEquals(next, s.firstSeed(10, 100));
            assertTrue(s.size(100) == 14 || s.size(100) == 15, "blocks differ by one at most");
            next += s.size(100);
        }
        assertEquals(110, next);
        assertEquals(0, new Shard(0, 4).size(2), "more shards than seeds: some run none");
        assertEquals(new Shard(2, 8), Shard.parse("$(JOB_COMPLETION_INDEX)/8", Map.of("JOB_COMPLETION_INDEX", "2")));
        assertEquals(new Shard(5, 8), Shard.parse("$INDEX/8", Map.of("INDEX", "5")));
        assertEquals(new Shard(0, 1), Shard.parse("0/1", Map.of()));
    }

    @Test
    void theJsonReaderReadsWhatTheWritersWrite() throws Exception {
        Object v = Json.parse(" {\"a\":[1,-2,3.5e1,true,false,null],\"b\":" + Json.quote("q\"\\\n\t\u0001é") + ",\"c\":{}}");
        assertEquals(Map.of("a", java.util.Arrays.asList(1L, -2L, 35.0, true, false, null), "b", "q\"\\\n\t\u0001é",
                "c", Map.of()), v);
        for (String bad : List.of("{", "{\"a\" 1}", "[1,]", "\"open", "{} x", "nul")) {
            try {
                Json.parse(bad);
                throw new AssertionError("parsed: " + bad);
            } catch (Json.SyntaxError expected) {
                assertTrue(expected.getMessage().contains("at offset"), expected.getMessage());
            }
        }
    }
}
