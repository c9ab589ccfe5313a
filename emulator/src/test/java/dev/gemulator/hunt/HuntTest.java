package dev.gemulator.hunt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The hunt for false reports, a share of it: under 6.x random concurrent
 * scenarios give no report at all; under the historical profiles every
 * schedule with reports is one of the spec's bugs; and each bug's own
 * scenario is classified as that bug.
 */
@Tag("slow")
class HuntTest {
    private static final int SCENARIOS = 60;
    private static final int SCHEDULES = 40;

    @Test
    void everyGeneratedScenarioParsesAndTheSameSeedGivesTheSameText() {
        for (long seed = 1; seed <= 2000; seed++) {
            Hunt.scenario(seed);
            assertEquals(ConcurrentScenarios.generate(seed), ConcurrentScenarios.generate(seed));
        }
        assertNotEquals(ConcurrentScenarios.generate(1), ConcurrentScenarios.generate(2));
        String text = ConcurrentScenarios.generate(7);
        assertTrue(text.contains("par {") && text.contains("thread "), text);
    }

    @Test
    void underLinux6RandomConcurrentScenariosGiveNoReport() {
        System.out.println("seed 1: " + SCENARIOS + " scenarios x " + SCHEDULES + " schedules under 6.x");
        Hunt.Result r = Hunt.run(new Hunt.Config(1, SCENARIOS, SCHEDULES, List.of(Profile.MODERN), 2));
        Hunt.ProfileResult modern = r.profiles().get(0);
        assertEquals((long) SCENARIOS * SCHEDULES, modern.schedules());
        assertEquals(List.of(), modern.hits().stream().map(h -> h.primary().line() + " in " + h.replay("hunt-"
                + h.scenario() + ".gem")).toList());
    }

    @Test
    void underTheHistoricalProfilesEveryScheduleWithReportsIsABugOfTheSpec() {
        List<Profile> old = List.of(Profile.V3_11, Profile.SEED, Profile.SEED_TYPOFIX, Profile.V3_12);
        Hunt.Result r = Hunt.run(new Hunt.Config(1, SCENARIOS, SCHEDULES, old, 2));
        for (Hunt.ProfileResult p : r.profiles()) {
            assertEquals(List.of(), p.unexplained().stream().map(h -> h.primary().line() + " in "
                    + h.replay("hunt-" + h.scenario() + ".gem")).toList(), p.profile());
        }
        assertTrue(r.profiles().get(0).hits().size() > 0, "v3.11 has its bugs");
        assertEquals(Set.of("pos", "random", "conflict", "dfs"),
                r.profiles().get(0).hits().stream().map(Hunt.Hit::strategy).collect(Collectors.toSet()),
                "every share of the schedules runs, and finds v3.11's bugs");
        assertTrue(r.profiles().get(1).hits().size() > 0, "the seed has its bugs");
    }

    @Test
    void eachBugsOwnScenarioIsClassifiedAsThatBug() throws Exception {
        List<String> missed = new ArrayList<>();
        for (Classifier.Bug bug : Classifier.Bug.values()) {
            Path file = Path.of(System.getProperty("gemulator.repo", ".."), "scenarios", bug.scenario());
            Script s = Parser.parse(file.toString(), Files.readString(file));
            boolean found = false;
            for (long seed = 1; seed <= 600 && !found; seed++) {
                Hunt.Schedule run = Hunt.schedule(s, bug.profile(), new Runner.RunOptions(seed, Strategy.Name.POS, 3, 1000));
                found = !run.reports().isEmpty()
                        && Classifier.classify(bug.profile(), run.reports(), run.output()) == bug;
            }
            if (!found) {
                missed.add(bug + " (" + bug.scenario() + " under " + bug.profile().name() + ")");
            }
        }
        assertEquals(List.of(), missed);
    }

    @Test
    void nothingUnderLinux6IsAKnownBug() {
        assertEquals(null, Classifier.classify(Profile.MODERN, List.of(
                new dev.gemulator.check.Report(dev.gemulator.check.Report.Kind.USE_AFTER_FREE,
                        "drm_gem_prime_handle_to_fd", "get of freed file#6(dma-buf)", 1)), ""));
    }
}
