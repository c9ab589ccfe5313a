package dev.gemulator.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.explore.Dfs;
import dev.gemulator.explore.Explorer;
import dev.gemulator.explore.Shrinker;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceStep;
import dev.gemulator.trace.Traces;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The figures of the README's walk-through that are not timings, produced
 * as the commands it gives produce them and compared with what it says:
 * how many of 2,000 POS schedules hit the 3.11 use-after-free and the first
 * seed, that dfs with one preemption runs 1,002 schedules and finds
 * nothing under 6.x, and the steps of the shrunk run the picture draws.
 */
class ReadmeFiguresTest {
    private static final String SCENARIO = "scenarios/export_vs_gem_close.gem";

    private static Script script() throws Exception {
        return Parser.parse(SCENARIO, Files.readString(LocalRepository.repo(SCENARIO)));
    }

    private static String readme() throws Exception {
        return Files.readString(LocalRepository.repo("README.md")).replaceAll("\\s+", " ");
    }

    @Test
    void twoThousandPosSchedulesUnder311FindTheUseAfterFreeAsTheReadmeSays() throws Exception {
        // ./gemulator explore scenarios/export_vs_gem_close.gem --profile v3.11 --strategy pos --schedules 2000
        Explorer.Result r = Explorer.explore(script(), new Explorer.Config(Profile.V3_11,
                new Runner.RunOptions(1, "pos", 3, 0), 1, 2000, 2, false));
        Explorer.Finding uaf = r.findings().stream().filter(f -> f.kind().label().equals("use-after-free")
                && f.function().equals("drm_gem_prime_handle_to_fd")).findFirst().orElseThrow();
        String said = "use-after-free in drm_gem_prime_handle_to_fd (" + uaf.schedules() + " of 2000 schedules, first at seed "
                + uaf.firstSeed() + "): " + uaf.detail();
        assertTrue(readme().contains(said.replace("(dma-buf)", "(dma-buf)`")), "the README says: " + said);
    }

    @Test
    void dfsWithOnePreemptionRunsEverySchedule() throws Exception {
        // ./gemulator explore ... --profile 6.x --strategy dfs --preemptions 1 --schedules 100000
        String text = Files.readString(LocalRepository.repo(SCENARIO));
        var header = Traces.header(SCENARIO, text, Profile.MODERN, new Runner.RunOptions(0, "random", 3, 0));
        Dfs.Result r = Dfs.explore(script(), Profile.MODERN, header, 1, 100_000);
        assertTrue(r.exhausted());
        assertEquals(List.of(), r.findings());
        assertTrue(readme().contains(String.format(java.util.Locale.ROOT, "runs every one of the %,d schedules with at most one"
                + " preemption and finds nothing", r.schedules())), "dfs ran " + r.schedules());
    }

    @Test
    void theShrunkRunHasTheStepsTheWalkThroughNames() throws Exception {
        // ./gemulator explore ... --schedules 200 --shrink: the finding's first seed is 31, shrunk
        String text = Files.readString(LocalRepository.repo(SCENARIO));
        Runner.RunOptions o = new Runner.RunOptions(31, "pos", 3, 0);
        Shrinker.Outcome shrunk = Shrinker.shrink(script(), Profile.V3_11, o, Traces.header(SCENARIO, text, Profile.V3_11, o),
                "use-after-free drm_gem_prime_handle_to_fd");
        assertTrue(readme().contains("drm_gem_prime_handle_to_fd.min.trace (" + shrunk.preemptions() + " preemptions)"),
                shrunk.preemptions() + " preemptions");
        List<TraceStep> steps = shrunk.trace().stream().filter(TraceRecord::hasStep).map(TraceRecord::getStep).toList();
        TraceStep at49 = steps.get(48);
        TraceStep at48 = steps.get(47);
        assertEquals("A.t2", at48.getTask(), "A.t2 looked the object up");
        assertEquals("drm_gem_object_lookup", at48.getFunction());
        assertEquals("A.t1", at49.getTask(), "and is preempted at step 49");
        TraceStep at64 = steps.get(63);
        assertEquals("A.t1", at64.getTask());
        assertEquals("PUT", at64.getKind());
        assertTrue(at64.getSubject().endsWith("(dma-buf)") && at64.getRefcount() == 1, "drops the last reference: " + at64);
        TraceStep at65 = steps.get(64);
        assertEquals("A.t2", at65.getTask(), "comes back at step 65");
        assertEquals("LOCK", at65.getKind());
        assertTrue(at65.getSubject().startsWith("file->prime.lock"));
        TraceStep at67 = steps.get(66);
        assertEquals("GET", at67.getKind());
        assertEquals(at64.getSubject(), at67.getSubject(), "a reference on the freed dma-buf");
        assertEquals(0, at67.getRefcount());
        long reportAt = shrunk.trace().stream().filter(TraceRecord::hasReport).findFirst().orElseThrow().getReport().getStep();
        assertEquals(67, reportAt, "the red line");
        String readme = readme();
        for (String step : List.of("(step 49)", "(step 64,", "(step 65)", "(step 67, the red line)")) {
            assertTrue(readme.contains(step), step);
        }
    }
}
