package dev.gemulator.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.gemulator.junit.samples.ExportRaceModernSample;
import dev.gemulator.junit.samples.ExportRaceSample;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.server.seeded.SeededReplay;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** @GemulatorRace runs a method per seed, fails a seed with what it found and how to replay it, passes clean ones. */
@Tag("slow")
class GemulatorRaceExtensionTest {

    /** What one seed's invocation did: its display name and its failure message (null: passed). */
    private record Outcome(String name, String failure) {
    }

    private static List<Outcome> run(Class<?> sample) {
        List<Outcome> out = new ArrayList<>();
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(sample))
                .build();
        LauncherFactory.create().execute(request, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                    out.add(new Outcome(id.getDisplayName(), result.getStatus() == TestExecutionResult.Status.SUCCESSFUL
                            ? null : result.getThrowable().map(Throwable::getMessage).orElse("failed")));
                }
            }
        });
        return out;
    }

    private static long seedOf(Outcome o) {
        return Long.parseLong(o.name().substring("seed ".length()));
    }

    @Test
    void theV311RaceFailsWithItsSeedAndAReplayThatRunsTheSameKernelSide() throws Exception {
        List<Outcome> seeds = run(ExportRaceSample.class);
        assertEquals(100, seeds.size(), "one invocation per seed");
        Outcome first = seeds.stream().filter(o -> o.failure() != null).findFirst().orElseThrow(
                () -> new AssertionError("no seed of 100 found the 3.11 race"));
        String seed = first.name().replace("seed ", "");
        assertTrue(first.failure().startsWith("seed " + seed + " of @GemulatorRace(profile = \"v3.11\""), first.failure());
        assertTrue(seeds.stream().anyMatch(o -> o.failure() != null && o.failure().contains("use-after-free in")),
                "some seed shows the use-after-free");
        Matcher m = Pattern.compile("replay: \\./gemulator replay (\\S+)").matcher(first.failure());
        assertTrue(m.find(), first.failure());
        Path trace = Path.of(m.group(1));
        List<TraceRecord> recorded;
        try (InputStream in = Files.newInputStream(trace)) {
            recorded = TraceRecorder.read(in);
        }
        SeededReplay.Outcome again = SeededReplay.rerun(recorded);
        assertEquals(null, again.problem());
        assertEquals(-1, Traces.firstDivergence(recorded, again.records()), "the replay is the recorded run");
        assertTrue(first.failure().contains("this seed alone: @GemulatorRace(firstSeed = " + seed + ", seeds = 1"));
    }

    @Test
    void under6xEverySeedPassesAndATestsOwnFailureNamesItsSeed() {
        List<Outcome> seeds = run(ExportRaceModernSample.class);
        List<Outcome> race = seeds.stream().filter(o -> seedOf(o) < 1000).toList();
        assertEquals(30, race.size());
        assertTrue(race.stream().allMatch(o -> o.failure() == null), "6.x reports nothing: " + race);
        List<Outcome> own = seeds.stream().filter(o -> seedOf(o) >= 1000).toList();
        assertEquals(List.of("seed 1000", "seed 1001", "seed 1002"), own.stream().map(Outcome::name).toList());
        for (Outcome o : own) {
            assertTrue(o.failure().contains("the test failed: org.opentest4j.AssertionFailedError: on purpose"), o.failure());
            assertTrue(o.failure().startsWith(o.name() + " of @GemulatorRace"), o.failure());
            assertFalse(o.failure().contains("the sleep took its virtual time"), "ten virtual seconds slept: " + o);
        }
    }
}
