package dev.gemulator.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.check.Report;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The conflict-directed strategy: deterministic, finds the 3.11 race within few schedules, nothing under 6.x. */
class ConflictStrategyTest {
    private static Script scenario(String name) throws Exception {
        Path p = Path.of(System.getProperty("gemulator.repo", ".."), "scenarios", name);
        return Parser.parse(p.toString(), Files.readString(p));
    }

    private static Explorer.Result explore(Script s, Profile p, int schedules, boolean twice) {
        return Explorer.explore(s, new Explorer.Config(p, new Runner.RunOptions(1, Strategy.Name.CONFLICT, 3, 0), 1, schedules, 2,
                twice));
    }

    @Test
    void theSameSeedGivesTheSameTraceAndThe311UseAfterFreeIsFoundUnder311Only() throws Exception {
        Script race = scenario("export_vs_gem_close.gem");
        Explorer.Result old = explore(race, Profile.V3_11, 60, true);
        assertTrue(old.found(Report.Kind.USE_AFTER_FREE, "drm_gem_prime_handle_to_fd"), old.findings().toString());
        Explorer.Result again = explore(race, Profile.V3_11, 60, false);
        assertEquals(old.findings(), again.findings(), "same seeds, same findings and first seeds");
        Explorer.Result modern = explore(race, Profile.MODERN, 200, false);
        assertEquals(java.util.List.of(), modern.findings());
        Explorer.Result flink = explore(scenario("v3.11/l_flink.gem"), Profile.MODERN, 200, false);
        assertFalse(flink.found(Report.Kind.LEAK, "drm_gem_object_handle_free"));
    }
}
