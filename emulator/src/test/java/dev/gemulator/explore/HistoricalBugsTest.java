package dev.gemulator.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.check.Report;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The historical bugs of spec/kernel-model.md reproduce under their kernel
 * profile within a bounded number of schedules, replay from their seed, and
 * are gone under Linux 6.x.
 */
@Tag("slow")
class HistoricalBugsTest {
    private static final int SCHEDULES = 600;

    private static Script scenario(String name) throws Exception {
        Path p = Path.of(System.getProperty("gemulator.repo", ".."), "scenarios", name);
        return Parser.parse(p.toString(), Files.readString(p));
    }

    private static Explorer.Result explore(Script s, Profile p, String strategy) {
        return Explorer.explore(s, new Explorer.Config(p, new Runner.RunOptions(1, Strategy.Name.parse(strategy), 3, 1000), 1, SCHEDULES, 2));
    }

    private static void reproducesOnlyUnder(Profile profile, String file, Report.Kind kind, String function) throws Exception {
        reproduces(List.of(profile), List.of(Profile.MODERN), file, kind, function);
    }

    /** Found under each of {@code buggy} and replayed from its seed; nothing at all under each of {@code fixed}. */
    private static void reproduces(List<Profile> buggy, List<Profile> fixed, String file, Report.Kind kind,
            String function) throws Exception {
        Script s = scenario(file);
        for (Profile profile : buggy) {
            Explorer.Result old = explore(s, profile, "pos");
            assertTrue(old.found(kind, function), file + " under " + profile.name() + ": " + old.findings());
            Explorer.Finding f = old.findings().stream().filter(x -> x.kind() == kind && x.function().equals(function))
                    .findFirst().orElseThrow();
            System.out.println(file + " under " + profile.name() + ": " + f.key() + " first at seed " + f.firstSeed()
                    + ", in " + f.schedules() + " of " + SCHEDULES + " schedules");
            Runner.RunOptions o = new Runner.RunOptions(f.firstSeed(), Strategy.Name.POS, 3, 1000);
            List<Report> replay = Explorer.runOne(s, profile, o);
            assertTrue(replay.stream().anyMatch(r -> r.kind() == kind && r.function().equals(function)),
                    "seed " + f.firstSeed() + " replays the finding");
            var header = dev.gemulator.trace.Traces.header(file, "", profile, o);
            var first = dev.gemulator.trace.Traces.run(s, header, profile, o);
            var fromTrace = dev.gemulator.trace.Traces.run(s, header, profile,
                    dev.gemulator.trace.Traces.replayOptions(first.records()));
            assertEquals(first.hash(), fromTrace.hash(), "the replay of its trace is byte-identical");
        }
        for (Profile profile : fixed) {
            Explorer.Result result = explore(s, profile, "pos");
            assertEquals(List.of(), result.findings(), file + " under " + profile.name());
        }
    }

    @Test
    void exportVsGemCloseUseAfterFreeOfTheDmaBufOn311() throws Exception {
        reproducesOnlyUnder(Profile.V3_11, "export_vs_gem_close.gem", Report.Kind.USE_AFTER_FREE,
                "drm_gem_prime_handle_to_fd");
    }

    @Test
    void aFailedCacheInsertInExportDropsTheDmaBufsObjectReferenceOn311() throws Exception {
        reproduces(List.of(Profile.V3_11), List.of(Profile.V3_12, Profile.MODERN),
                "v3.11/h2f_add_enomem.gem", Report.Kind.USE_AFTER_FREE, "drm_gem_prime_import");
    }

    @Test
    void aFailedCacheInsertInImportLeavesAStaleHandleOn311() throws Exception {
        reproducesOnlyUnder(Profile.V3_11, "v3.11/f2h_add_enomem.gem", Report.Kind.USE_AFTER_FREE,
                "drm_gem_object_lookup");
    }

    @Test
    void aFailedHandleAllocationInImportPutsTheDmaBufTwiceOn311() throws Exception {
        reproduces(List.of(Profile.V3_11), List.of(Profile.SEED, Profile.V3_12, Profile.MODERN),
                "v3.11/f2h_handle_enomem.gem", Report.Kind.USE_AFTER_FREE, "fdget_pos");
    }

    @Test
    void aFailedNameAllocationBecomesTheNameOn311() throws Exception {
        reproduces(List.of(Profile.V3_11), List.of(Profile.SEED, Profile.V3_12, Profile.MODERN),
                "v3.11/flink_enomem.gem", Report.Kind.WARN, "drm_gem_object_ref_bug");
    }

    @Test
    void flinkTakesTheNamesReferenceAfterTheLockOn311() throws Exception {
        reproduces(List.of(Profile.V3_11), List.of(Profile.SEED, Profile.SEED_TYPOFIX, Profile.V3_12, Profile.MODERN),
                "v3.11/flink_window.gem", Report.Kind.USE_AFTER_FREE, "drm_gem_flink_ioctl");
    }

    @Test
    void aSelfImportRacingTheLastCloseCachesAReleasedDmaBufOn311() throws Exception {
        reproduces(List.of(Profile.V3_11), List.of(Profile.SEED, Profile.V3_12, Profile.MODERN),
                "v3.11/self_import_close.gem", Report.Kind.USE_AFTER_FREE, "drm_prime_add_buf_handle");
    }

    @Test
    void anExportWithoutAFreeFdSucceedsWithTheErrnoAsItsFdOn311() throws Exception {
        reproduces(List.of(Profile.V3_11), List.of(Profile.V3_12, Profile.MODERN),
                "v3.11/h2f_emfile.gem", Report.Kind.LEAK, "dma_buf_release");
    }

    @Test
    void staleCacheMemberLeaksOn311() throws Exception {
        reproducesOnlyUnder(Profile.V3_11, "v3.11/l_stale.gem", Report.Kind.LEAK, "drm_gem_object_free");
    }

    @Test
    void doubleExportLeaksOn311() throws Exception {
        reproducesOnlyUnder(Profile.V3_11, "v3.11/l_double_export.gem", Report.Kind.LEAK, "drm_gem_object_free");
    }

    @Test
    void flinkRacingTheLastCloseLeaksTheNameOn311() throws Exception {
        reproducesOnlyUnder(Profile.V3_11, "v3.11/l_flink.gem", Report.Kind.LEAK, "drm_gem_object_handle_free");
    }

    @Test
    void closingAHandleInItsCreationWindowLeaksOn311() throws Exception {
        reproducesOnlyUnder(Profile.V3_11, "v3.11/l_create_window.gem", Report.Kind.LEAK, "drm_gem_object_free");
    }

    @Test
    void staleMembersOfTheSeedCommitLeakAndWarnAtCloseUntil312() throws Exception {
        reproduces(List.of(Profile.SEED, Profile.SEED_TYPOFIX), List.of(Profile.V3_12, Profile.MODERN),
                "seed/s_l.gem", Report.Kind.WARN, "drm_prime_destroy_file_private");
    }

    @Test
    void theSeedCommitGivesASecondHandleToAReimportedExportOfAnOpenedName() throws Exception {
        reproduces(List.of(Profile.SEED, Profile.SEED_TYPOFIX), List.of(Profile.V3_12, Profile.MODERN),
                "seed/s_dup.gem", Report.Kind.EXPECTATION, "line 14");
    }

    @Test
    void theTypoDeadlocksAFailedImportOnlyAsMerged() throws Exception {
        reproduces(List.of(Profile.SEED), List.of(Profile.SEED_TYPOFIX, Profile.V3_12, Profile.MODERN),
                "seed/typo_deadlock.gem", Report.Kind.DEADLOCK, "schedule");
    }

    @Test
    void theImportFailPathDeadlocksOnThePrimeLockUntilItWasRestructured() throws Exception {
        reproduces(List.of(Profile.SEED, Profile.SEED_TYPOFIX, Profile.V3_12), List.of(Profile.MODERN),
                "seed/fail_path_deadlock.gem", Report.Kind.DEADLOCK, "schedule");
    }

    @Test
    void theTypoFixedImportFailPathReleasesALockItDoesNotHoldWhenACloseWinsTheHandle() throws Exception {
        reproduces(List.of(Profile.SEED_TYPOFIX, Profile.V3_12), List.of(Profile.MODERN),
                "seed/fail_path_unlock.gem", Report.Kind.LOCK_MISUSE, "drm_gem_prime_fd_to_handle");
    }

    @Test
    void theSeedCommitLeaksThePrimeLockWhenCachingFails() throws Exception {
        reproduces(List.of(Profile.SEED, Profile.SEED_TYPOFIX), List.of(Profile.V3_12, Profile.MODERN),
                "seed/prime_lock_leak.gem", Report.Kind.LOCK_MISUSE, "syscall_exit_to_user_mode");
    }

    @Test
    void anExportWithoutAFreeFdUnderflowsTheObjectsRefcountUntil312() throws Exception {
        reproduces(List.of(Profile.SEED, Profile.SEED_TYPOFIX), List.of(Profile.V3_12, Profile.MODERN),
                "seed/emfile_underflow.gem", Report.Kind.REFCOUNT_UNDERFLOW, "drm_gem_dmabuf_release");
    }

    @Test
    void gemOpenReadsTheSizeOfAFreedObjectUntil2020() throws Exception {
        reproduces(List.of(Profile.SEED, Profile.V3_12), List.of(Profile.MODERN),
                "seed/gem_open_uaf.gem", Report.Kind.USE_AFTER_FREE, "drm_gem_open_ioctl");
    }

    @Test
    void after312AReusedHandleIdIsExportedAsTheClosedObjectsDmaBufUntil2016() throws Exception {
        reproduces(List.of(Profile.V3_12), List.of(Profile.SEED, Profile.MODERN),
                "3.12/s_reuse.gem", Report.Kind.EXPECTATION, "line 19");
    }

    @Test
    void removalByLinkDropsAnotherHandlesMemberUntil60() throws Exception {
        reproduces(List.of(Profile.SEED, Profile.V3_12), List.of(Profile.MODERN),
                "3.12/dup_by_link.gem", Report.Kind.EXPECTATION, "line 15");
    }

    @Test
    void gemOpenRacingTheLastCloseRenamesTheObjectOn311() throws Exception {
        reproduces(List.of(Profile.V3_11), List.of(Profile.SEED, Profile.MODERN),
                "v3.11/name_change.gem", Report.Kind.EXPECTATION, "line 18");
    }
}
