package dev.gemulator.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.Traces;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Bounded systematic search: it runs out on small scenarios, finds the 2013 bugs, proves 6.x clean within the bound. */
@Tag("slow")
class DfsTest {

    private static Dfs.Result dfs(String name, Profile p, int preemptions) throws Exception {
        Path file = Path.of(System.getProperty("gemulator.repo", ".."), "scenarios", name);
        String text = Files.readString(file);
        Script s = Parser.parse(file.toString(), text);
        return Dfs.explore(s, p, Traces.header(name, text, p, new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000)),
                preemptions, 50_000);
    }

    @Test
    void everyScheduleWithinTwoPreemptionsIsRunAndTheBugsAreFoundOnlyWhereTheyLive() throws Exception {
        for (String name : List.of("v3.11/l_stale.gem", "v3.11/l_flink.gem", "v3.11/l_create_window.gem")) {
            Dfs.Result old = dfs(name, Profile.V3_11, 2);
            assertTrue(old.exhausted(), name);
            assertTrue(old.findings().stream().anyMatch(f -> f.kind().label().equals("leak")), name + ": " + old.findings());
            Dfs.Result modern = dfs(name, Profile.MODERN, 2);
            assertTrue(modern.exhausted(), name);
            assertEquals(List.of(), modern.findings(), name);
        }
    }

    @Test
    void theNameChangeIsAFailedExpectationWithinTwoPreemptionsOn311AndNoneOn6xWithinThree() throws Exception {
        Dfs.Result old = dfs("v3.11/name_change.gem", Profile.V3_11, 2);
        assertTrue(old.findings().stream().anyMatch(f -> f.kind().label().equals("expectation")), old.findings().toString());
        Dfs.Result modern = dfs("v3.11/name_change.gem", Profile.MODERN, 3);
        assertTrue(modern.exhausted());
        assertEquals(List.of(), modern.findings());
    }

    @Test
    void withNoPreemptionAllowedOnlyForcedSwitchesHappenAndNothingIsFound() throws Exception {
        Dfs.Result r = dfs("v3.11/l_stale.gem", Profile.V3_11, 0);
        assertTrue(r.exhausted());
        assertEquals(List.of(), r.findings(), "L-stale needs one preemption");
        assertTrue(r.schedules() >= 2, "the choice of the first thread to run costs nothing: " + r.schedules());
    }
}
