package dev.gemulator.junit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.check.FindingKey;
import dev.gemulator.junit.examples.DiesMidway;
import dev.gemulator.junit.examples.ExportVsGemCloseTwoProcesses;
import dev.gemulator.junit.examples.LoopsForFiveSeconds;
import dev.gemulator.kernel.Profile;
import dev.gemulator.race.RaceRunner;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.seeded.SeededReplay;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Races of real OS processes: client JVMs launched by the race runner
 * against its seeded server. The same seed gives the same trace whatever
 * the programs' real timing; other seeds interleave otherwise; the 3.11
 * race is found and 6.x reports nothing; a client that dies is its
 * process's exit at the same point every time; virtual time is the same in
 * every run. No assertion is about real time.
 */
@Tag("slow")
class RaceProcessesTest {
    private static String java() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }

    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    private static List<String> program(Class<?> main, String... args) {
        List<String> c = new ArrayList<>(List.of(java(), "-cp", classPath(), main.getName()));
        c.addAll(List.of(args));
        return c;
    }

    private static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();

    private static RaceRunner runner(List<List<String>> commands, String profile, long first, long last, int jobs) {
        return new RaceRunner(new RaceRunner.Options(commands, List.of(), Profile.byName(profile), Strategy.Name.POS, 3, 10_000, first,
                last, jobs, 300_000, 10_000, new PrintStream(LOG, true, StandardCharsets.UTF_8)));
    }

    private static List<List<String>> twoJvms(String... args) {
        return List.of(program(ExportVsGemCloseTwoProcesses.class, args),
                program(ExportVsGemCloseTwoProcesses.class, args));
    }

    @Test
    void twoClientJvmsWithRandomSleepsGiveTheSameTraceForASeedAndOtherInterleavingsForOtherSeeds() {
        RaceRunner r = runner(twoJvms("--max-sleep-us", "400"), "6.x", 1, 1, 1);
        long seed = 5;
        Set<String> hashes = new HashSet<>();
        int[] decisions = null;
        for (int i = 0; i < 5; i++) {
            RaceRunner.Outcome o = r.runOne(seed, null);
            assertNull(o.problem(), o.problem());
            assertEquals(List.of(), o.findingKeys(), "6.x: " + o.findingKeys());
            assertTrue(o.trace().size() > 500, "a real run: " + o.trace().size() + " records");
            hashes.add(o.traceHash());
            int[] d = TraceRecorder.decisions(o.trace());
            if (decisions != null) {
                assertArrayEquals(decisions, d, "the same decisions");
            }
            decisions = d;
        }
        assertEquals(1, hashes.size(), "five runs of seed 5, five processes' timings, one trace: " + hashes);
        for (long other : new long[] {6, 7}) {
            RaceRunner.Outcome o = r.runOne(other, null);
            assertNull(o.problem(), o.problem());
            assertFalse(java.util.Arrays.equals(decisions, TraceRecorder.decisions(o.trace())),
                    "seed " + other + " interleaves otherwise than seed 5");
            assertNotEquals(hashes.iterator().next(), o.traceHash());
        }
    }

    @Test
    void theV311RaceIsFoundWithin200SeedsWithPosAndNothingUnder6x() {
        RaceRunner.Result old = runner(twoJvms("--iterate"), "v3.11", 1, 200, 2).run();
        assertTrue(old.findings().stream().anyMatch(f -> f.key().toString().equals("use-after-free drm_gem_prime_handle_to_fd")),
                "3.11: " + old.findings());
        assertTrue(old.persistent(), "the programs ran their part once per seed: " + old.launches() + " launches");
        RaceRunner.Result modern = runner(twoJvms("--iterate"), "6.x", 1, 200, 2).run();
        assertEquals(List.of(), modern.findings(), "6.x reports nothing");
        assertEquals(200, modern.seeds());
    }

    @Test
    void aRecordedRunReplaysIdenticallyWithoutItsPrograms() {
        RaceRunner.Outcome o = runner(twoJvms("--max-sleep-us", "200"), "v3.11", 1, 1, 1).runOne(9, null);
        assertNull(o.problem(), o.problem());
        SeededReplay.Outcome again = SeededReplay.rerun(o.trace());
        assertNull(again.problem(), again.problem());
        assertEquals(-1, Traces.firstDivergence(o.trace(), again.records()));
        assertEquals(o.traceHash(), TraceRecorder.hash(again.records()));
    }

    @Test
    void aClientThatDiesIsItsProcessExitAtTheSamePointEveryTime() {
        RaceRunner r = runner(List.of(program(DiesMidway.class), program(DiesMidway.class)), "6.x", 1, 1, 1);
        Set<String> hashes = new HashSet<>();
        Set<String> outputs = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            RaceRunner.Outcome o = r.runOne(3, null);
            assertNull(o.problem(), o.problem());
            assertEquals(9, o.statuses().get("A"), "A halted with status 9");
            assertEquals(0, o.statuses().get("B"));
            assertEquals(List.of(new FindingKey(FindingKey.Kind.EXIT_STATUS, "A")), o.findingKeys(), "its death is no kernel finding: " + o.reports());
            assertTrue(o.trace().stream().anyMatch(x -> x.hasRequest() && x.getRequest().getOp().equals("gone")
                    && x.getRequest().getThread().equals("A")), "the lost connection is A's exit");
            hashes.add(o.traceHash());
            outputs.add(o.output().get("B").strip());
        }
        assertEquals(1, hashes.size(), "three runs, one trace");
        assertEquals(1, outputs.size(), "B saw the same every time: " + outputs);
        assertTrue(outputs.iterator().next().matches("B: opened the name \\d+ times"), outputs.toString());
    }

    @Test
    void aLoopForFiveSecondsOfVirtualTimeMakesTheSameCallsEveryRun() {
        RaceRunner r = runner(List.of(program(LoopsForFiveSeconds.class)), "6.x", 1, 1, 1);
        Set<String> outputs = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        for (long seed : new long[] {1, 1, 2}) {
            RaceRunner.Outcome o = r.runOne(seed, null);
            assertNull(o.problem(), o.problem());
            assertEquals(0, o.statuses().get("A"), o.output().toString());
            outputs.add(o.output().get("A").strip());
            if (seed == 1) {
                hashes.add(o.traceHash());
            }
        }
        assertEquals(1, hashes.size());
        assertEquals(1, outputs.size(), "one process: the seed changes nothing, real pauses change nothing: " + outputs);
        String out = outputs.iterator().next();
        assertTrue(out.matches("made \\d+ buffers in 5 s of virtual time"), out);
        int made = Integer.parseInt(out.split(" ")[1]);
        assertTrue(made > 400 && made <= 500, "ten milliseconds a buffer and a few steps: " + made);
        assertEquals(0, SeededRun.KILLED - 137);
    }
}
