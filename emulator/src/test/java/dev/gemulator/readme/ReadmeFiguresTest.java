package dev.gemulator.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.check.FindingKey;
import dev.gemulator.explore.Dfs;
import dev.gemulator.explore.Explorer;
import dev.gemulator.explore.Shrinker;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceStep;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.Traces;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The figures of the README's walk-through that are not timings, produced
 * as the commands it gives produce them and compared with what it says:
 * how many of 2,000 POS schedules hit the 3.11 use-after-free and the first
 * seed, that dfs with one preemption runs 1,002 schedules and finds
 * nothing under 6.x, and the steps of the shrunk run the picture draws.
 */
@Tag("slow")
class ReadmeFiguresTest {
    private static final FindingKey UAF = new FindingKey(FindingKey.Kind.USE_AFTER_FREE, "drm_gem_prime_handle_to_fd");

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
                new Runner.RunOptions(1, Strategy.Name.POS, 3, 0), 1, 2000, 2, false));
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
        var header = Traces.header(SCENARIO, text, Profile.MODERN, new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 0));
        Dfs.Result r = Dfs.explore(script(), Profile.MODERN, header, 1, 100_000);
        assertTrue(r.exhausted());
        assertEquals(List.of(), r.findings());
        assertTrue(readme().contains(String.format(java.util.Locale.ROOT, "runs every one of the %,d schedules with at most one"
                + " preemption and finds nothing", r.schedules())), "dfs ran " + r.schedules());
    }

    @Test
    void theShrunkRunHasTheStepsTheWalkThroughNames() throws Exception {
        // ./gemulator explore ... --schedules 200 --shrink: the finding's first seed, shrunk
        Explorer.Result found = Explorer.explore(script(), new Explorer.Config(Profile.V3_11,
                new Runner.RunOptions(1, Strategy.Name.POS, 3, 0), 1, 200, 2, false));
        long seed = found.findings().stream().filter(f -> f.key().equals(UAF))
                .findFirst().orElseThrow().firstSeed();
        String text = Files.readString(LocalRepository.repo(SCENARIO));
        Runner.RunOptions o = new Runner.RunOptions(seed, Strategy.Name.POS, 3, 0);
        Shrinker.Outcome shrunk = Shrinker.shrink(script(), Profile.V3_11, o, Traces.header(SCENARIO, text, Profile.V3_11, o),
                UAF);
        String readme = readme();
        assertTrue(readme.contains("drm_gem_prime_handle_to_fd.min.trace (" + shrunk.preemptions() + " preemptions)"),
                shrunk.preemptions() + " preemptions");
        List<TraceStep> steps = shrunk.trace().stream().filter(TraceRecord::hasStep).map(TraceRecord::getStep).toList();
        long report = shrunk.trace().stream().filter(TraceRecord::hasReport).findFirst().orElseThrow().getReport().getStep();
        TraceStep reported = steps.get((int) report - 1);
        assertEquals("GET", reported.getKind(), "a reference taken ...");
        assertTrue(reported.hasRefcount() && reported.getRefcount() == 0, "... on a count of 0: " + reported);
        String thread = reported.getTask();
        // the other thread's put that took the dma-buf's count from 1 to 0, the last before the report
        TraceStep freed = null;
        for (TraceStep s : steps.subList(0, (int) report - 1)) {
            if (s.getKind().equals("PUT") && s.getSubject().equals(reported.getSubject()) && s.getRefcount() == 1) {
                freed = s;
            }
        }
        assertTrue(freed != null && !freed.getTask().equals(thread), "the other thread freed it");
        // the reporting thread's export: entered, looked the object up, preempted
        TraceStep enter = null;
        for (TraceStep s : steps.subList(0, (int) report - 1)) {
            if (s.getTask().equals(thread) && s.getKind().equals("SYSCALL_ENTER")) {
                enter = s;
            }
        }
        assertEquals("DRM_IOCTL_PRIME_HANDLE_TO_FD", enter.getFunction());
        long lookedUp = 0;
        for (TraceStep s : steps) {
            if (s.getIndex() > enter.getIndex() && s.getTask().equals(thread)
                    && s.getFunction().equals("drm_gem_object_lookup") && s.getKind().equals("GET")) {
                lookedUp = s.getIndex();
                break;
            }
        }
        final long after = lookedUp;
        long preempted = steps.stream().filter(s -> s.getIndex() > after && !s.getTask().equals(thread))
                .mapToLong(TraceStep::getIndex).findFirst().orElseThrow();
        final long freedAt = freed.getIndex();
        long back = steps.stream().filter(s -> s.getIndex() > freedAt && s.getTask().equals(thread))
                .mapToLong(TraceStep::getIndex).findFirst().orElseThrow();
        TraceStep comeBack = steps.get((int) back - 1);
        assertEquals("LOCK", comeBack.getKind(), "it comes back taking the prime lock");
        assertTrue(comeBack.getSubject().startsWith("file->prime.lock"));
        for (String step : List.of("preempted (step " + preempted + ")", "(step " + freed.getIndex() + ", its lifeline",
                "comes back (step " + back + ")", "(step " + report + ", the red line)")) {
            assertTrue(readme.contains(step), "the README says " + step);
        }
    }
}
