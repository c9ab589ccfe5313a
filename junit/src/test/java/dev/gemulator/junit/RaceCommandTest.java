package dev.gemulator.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Main;
import dev.gemulator.junit.examples.ExportVsGemCloseTwoProcesses;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gemulator race} and {@code replay} as a user types them, with real programs. */
@Tag("slow")
class RaceCommandTest {
    /** What a command printed and returned. */
    private record Ran(int exit, String out, String err) {
    }

    private static synchronized Ran gemulator(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int exit = Main.execute(args);
            return new Ran(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static List<String> program(Class<?> main) {
        String cp = System.getProperty("surefire.test.class.path");
        return List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path"), main.getName());
    }

    private static String[] race(List<String> options, List<List<String>> commands) {
        List<String> a = new ArrayList<>(List.of("race"));
        a.addAll(options);
        a.add("--");
        for (int i = 0; i < commands.size(); i++) {
            if (i > 0) {
                a.add("---");
            }
            a.addAll(commands.get(i));
        }
        return a.toArray(String[]::new);
    }

    @Test
    void badInputIsOneLineAndExitTwo() {
        Ran none = gemulator("race", "--seeds", "1..2");
        assertEquals(2, none.exit());
        assertTrue(none.err().startsWith("gemulator: race needs programs"), none.err());
        assertEquals(2, gemulator(race(List.of("--seeds", "9..1"), List.of(List.of("true")))).exit());
        assertEquals(2, gemulator(race(List.of("--strategy", "dfs"), List.of(List.of("true")))).exit());
        Ran trace = gemulator(race(List.of("--trace", "x.trace"), List.of(List.of("true"))));
        assertEquals(2, trace.exit());
        assertTrue(trace.err().contains("--trace records one run: give it a --seed"), trace.err());
        assertEquals(2, gemulator(race(List.of("--procs", "A,1B"), List.of(List.of("true")))).exit());
    }

    @Test
    void programsThatCannotTakePartAreNamedWithTheirOutput() {
        Ran missing = gemulator(race(List.of("--seeds", "1..1"), List.of(List.of("/nonexistent/program"))));
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("gemulator: cannot run /nonexistent/program"), missing.err());
        Ran quits = gemulator(race(List.of("--seeds", "1..1"), List.of(List.of("sh", "-c", "echo no device here; exit 4"))));
        assertEquals(1, quits.exit());
        assertTrue(quits.err().contains("the run waited for processes A but none connected"), quits.err());
        assertTrue(quits.err().contains("A: exited 4; its output:") && quits.err().contains("no device here"), quits.err());
    }

    @Test
    void oneSeedIsRecordedAndReplayedWithoutThePrograms(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("race-9.trace");
        List<List<String>> two = List.of(program(ExportVsGemCloseTwoProcesses.class),
                program(ExportVsGemCloseTwoProcesses.class));
        Ran one = gemulator(race(List.of("--seed", "9", "--profile", "v3.11", "--trace", trace.toString()), two));
        assertTrue(one.exit() == 0 || one.exit() == 3, one.out() + one.err());
        assertTrue(one.out().contains("profile v3.11, strategy pos, seed 9:"), one.out());
        assertTrue(one.out().contains("exit status A 0, B 0"), one.out());
        assertTrue(Files.size(trace) > 0);
        Ran replay = gemulator("replay", trace.toString());
        assertEquals(0, replay.exit(), replay.out() + replay.err());
        assertTrue(replay.out().startsWith("replay identical: "), replay.out());
        Ran json = gemulator(race(List.of("--seeds", "1..3", "--json", "--jobs", "1"), two));
        assertEquals(0, json.exit(), json.out() + json.err());
        String line = json.out().strip();
        assertTrue(line.startsWith("{\"commands\":[[") && line.contains("\"profile\":\"6.x\"")
                && line.contains("\"seeds\":3,") && line.endsWith("\"findings\":[]}"), line);
    }

    @Test
    void threeShardsOfARaceMergeIntoWhatTheWholeRacePrints(@TempDir Path dir) throws Exception {
        List<List<String>> two = List.of(program(ExportVsGemCloseTwoProcesses.class),
                program(ExportVsGemCloseTwoProcesses.class));
        List<String> options = List.of("--seeds", "1..12", "--profile", "v3.11", "--jobs", "2");
        List<String> whole = new ArrayList<>(options);
        whole.add("--no-timing");
        Ran all = gemulator(race(whole, two));
        assertTrue(all.exit() == 0 || all.exit() == 3, all.out() + all.err());
        List<String> merge = new ArrayList<>(List.of("merge"));
        for (int i = 0; i < 3; i++) {
            List<String> shard = new ArrayList<>(options);
            shard.addAll(List.of("--shard", i + "/3", "--json"));
            Ran r = gemulator(race(shard, two));
            assertTrue(r.exit() == 0 || r.exit() == 3, r.out() + r.err());
            merge.add(Files.writeString(dir.resolve("race-" + i + ".json"), r.out()).toString());
        }
        Ran merged = gemulator(merge.toArray(String[]::new));
        assertEquals(all.exit(), merged.exit(), merged.err());
        assertEquals(all.out(), merged.out());
        assertTrue(all.out().contains("seeds 1..12\nseeds run: 12\n"), all.out());
    }
}
