package dev.gemulator.explore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.check.Report;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided explore: the coverage pairs tell interleavings apart, a
 * mutated schedule follows its prefix and then its strategy, guidance
 * reaches more schedule fingerprints than the same number of plain seeds on
 * 3.11's L-flink, and a guided run is the same however many jobs ran it.
 */
class GuidedExploreTest {
    private static Script scenario(String name) throws Exception {
        Path p = Path.of(System.getProperty("gemulator.repo", ".."), "scenarios", name);
        return Parser.parse(p.toString(), Files.readString(p));
    }

    private static Guided.Result explore(Script s, Profile p, String strategy, long seed, int schedules, int jobs,
            boolean guided) {
        return Guided.explore(s, new Guided.Config(p, new Runner.RunOptions(seed, Strategy.Name.parse(strategy), 3, 800), seed, schedules, jobs,
                guided));
    }

    @Test
    void pairsTellTheOrderOfRacingStepsApartAndASeedGivesTheSameOnesTwice() throws Exception {
        Script flink = scenario("v3.11/l_flink.gem");
        Guided.Outcome a = Guided.runOne(flink, Profile.V3_11, new Runner.RunOptions(5, Strategy.Name.RANDOM, 3, 800));
        Guided.Outcome again = Guided.runOne(flink, Profile.V3_11, new Runner.RunOptions(5, Strategy.Name.RANDOM, 3, 800));
        assertArrayEquals(a.pairs(), again.pairs());
        assertArrayEquals(a.decisions(), again.decisions());
        assertTrue(a.pairs().length > 0, "two threads on one file and object order some steps");
        // the same scenario with its threads in the other order at every decision orders other pairs
        int[] flipped = Arrays.copyOf(Arrays.stream(a.decisions()).map(d -> 1 - d).toArray(), a.decisions().length + 1);
        flipped[a.decisions().length] = Strategy.Replay.STRATEGY;
        Guided.Outcome b = Guided.runOne(flink, Profile.V3_11, new Runner.RunOptions(5, Strategy.Name.RANDOM, 3, 800, flipped));
        assertNotEquals(Coverage.fingerprint(a.pairs()), Coverage.fingerprint(b.pairs()));
    }

    @Test
    void aMutatedScheduleFollowsItsPrefixThenItsStrategyAndAWrongThreadHandsOverInsteadOfFailing() throws Exception {
        Script race = scenario("export_vs_gem_close.gem");
        Guided.Outcome whole = Guided.runOne(race, Profile.V3_11, new Runner.RunOptions(9, Strategy.Name.POS, 3, 800));
        int[] d = whole.decisions();
        assertTrue(d.length > 20);
        int[] prefix = Arrays.copyOf(d, 11);
        prefix[10] = Strategy.Replay.STRATEGY;
        Guided.Outcome mutant = Guided.runOne(race, Profile.V3_11, new Runner.RunOptions(77, Strategy.Name.POS, 3, 800, prefix));
        assertArrayEquals(Arrays.copyOf(d, 10), Arrays.copyOf(mutant.decisions(), 10), "the prefix is followed");
        assertTrue(mutant.decisions().length > 10, "then the strategy goes on deciding");
        int[] wrong = {0, 7, Strategy.Replay.STRATEGY};
        Guided.Outcome handedOver = Guided.runOne(race, Profile.V3_11, new Runner.RunOptions(77, Strategy.Name.POS, 3, 800, wrong));
        assertEquals(0, handedOver.decisions()[0]);
        assertTrue(handedOver.decisions().length > 10, "thread 7 does not exist: the strategy took over there");
    }

    @Test
    void guidanceReachesMoreFingerprintsOfLflinkThanPlainSeedsAndFindsTheLeak() throws Exception {
        Script flink = scenario("v3.11/l_flink.gem");
        for (String strategy : new String[] {"random", "pos"}) {
            Guided.Result plain = explore(flink, Profile.V3_11, strategy, 1, 800, 2, false);
            Guided.Result guided = explore(flink, Profile.V3_11, strategy, 1, 800, 2, true);
            System.out.printf("l_flink %s, 800 schedules: plain %d pairs / %d fingerprints, guided %d / %d%n", strategy,
                    plain.pairs(), plain.fingerprints(), guided.pairs(), guided.fingerprints());
            assertTrue(guided.fingerprints() > plain.fingerprints(), strategy + ": guided " + guided.fingerprints()
                    + " fingerprints, plain " + plain.fingerprints());
            assertTrue(guided.pairs() >= plain.pairs(), strategy);
            assertTrue(guided.firstSchedule(Report.Kind.LEAK, "drm_gem_object_handle_free") > 0, strategy);
            assertTrue(guided.mutated() > 0 && guided.corpus() > 0);
        }
    }

    @Test
    void aGuidedRunIsTheSameWithOneJobOrTwoAndFindsThe311UseAfterFree() throws Exception {
        Script race = scenario("export_vs_gem_close.gem");
        Guided.Result one = explore(race, Profile.V3_11, "conflict", 3, 200, 1, true);
        Guided.Result two = explore(race, Profile.V3_11, "conflict", 3, 200, 2, true);
        assertArrayEquals(one.pairsCurve(), two.pairsCurve());
        assertArrayEquals(one.fingerprintCurve(), two.fingerprintCurve());
        assertEquals(one.findings().stream().map(f -> f.finding() + " " + f.first().index()).toList(),
                two.findings().stream().map(f -> f.finding() + " " + f.first().index()).toList());
        assertTrue(one.firstSchedule(Report.Kind.USE_AFTER_FREE, "drm_gem_prime_handle_to_fd") > 0);
        Guided.Result modern = explore(race, Profile.MODERN, "conflict", 3, 200, 2, true);
        assertEquals(0, modern.findings().size(), "6.x reports nothing: " + modern.findings());
    }
}
