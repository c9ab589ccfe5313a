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
import org.junit.jupiter.api.Test;

/** Shrinking keeps the finding and gets L-stale down to its one preemption. */
class ShrinkerTest {

    @Test
    void lStaleShrinksToOnePreemptionAndTheMinimalScheduleStillLeaks() throws Exception {
        Path file = Path.of(System.getProperty("gemulator.repo", ".."), "scenarios/v3.11/l_stale.gem");
        String text = Files.readString(file);
        Script s = Parser.parse(file.toString(), text);
        Explorer.Result r = Explorer.explore(s, new Explorer.Config(Profile.V3_11,
                new Runner.RunOptions(1, Strategy.Name.POS, 3, 1000), 1, 100, 2));
        Explorer.Finding f = r.findings().stream().filter(x -> x.function().equals("drm_gem_object_free")).findFirst()
                .orElseThrow();
        Runner.RunOptions o = new Runner.RunOptions(f.firstSeed(), Strategy.Name.POS, 3, 1000);
        Shrinker.Outcome out = Shrinker.shrink(s, Profile.V3_11, o, Traces.header(file.toString(), text, Profile.V3_11, o),
                f.key());
        assertEquals(1, out.preemptions(), "lookup, then the whole GEM_CLOSE, then the rest of the export");
        assertTrue(out.trace().stream().anyMatch(x -> x.hasReport() && x.getReport().getFunction().equals("drm_gem_object_free")));
        String table = FindingTable.render(out.trace(), f.detail());
        assertTrue(table.contains("A.export") && table.contains("A.close"), table);
        assertTrue(table.contains("> DRM_IOCTL_GEM_CLOSE"), table);
        assertTrue(table.lines().count() < 40, "fits one screen:\n" + table);
    }
}
