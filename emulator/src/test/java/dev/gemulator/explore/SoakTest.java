package dev.gemulator.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The determinism soak: every scenario under every profile and strategy, each run twice. */
@Tag("slow")
class SoakTest {
    private static Path repo(String rel) {
        return Path.of(System.getProperty("gemulator.repo", "..")).resolve(rel);
    }

    @Test
    void tenThousandSelfCheckedRunsAcrossProfilesAndStrategiesGiveTheSameTraceTwice() {
        var files = Soak.scenarios(List.of(repo("scenarios"), repo("conformance")));
        var cases = Soak.cases(files, 10_000, 1);
        Soak.Result r = Soak.run(cases, Runtime.getRuntime().availableProcessors(), Soak::traceHash);
        System.out.printf("soak: %d runs, %d mismatches, %.0f runs/s%n", r.runs(), r.mismatches().size(), r.runsPerSecond());
        assertEquals(List.of(), r.mismatches());
        assertEquals(10_000, r.runs());
        assertEquals(Profile.ALL.size(), r.byProfile().size(), "every profile");
        assertEquals(Soak.STRATEGIES.size(), r.byStrategy().size(), "every strategy");
        assertTrue(cases.stream().map(Soak.Case::path).distinct().count() >= 30, "every scenario");
        assertTrue(cases.stream().anyMatch(c -> c.seed() > 20), "many seeds of each");
    }

    @Test
    void aRunWhoseSecondTraceDiffersIsReported() {
        var cases = Soak.cases(Soak.scenarios(List.of(repo("scenarios"))), 60, 1);
        Soak.Case odd = cases.get(17);
        AtomicInteger calls = new AtomicInteger();
        Soak.Result r = Soak.run(cases, 2, c -> c == odd ? "hash " + calls.incrementAndGet() : Soak.traceHash(c));
        assertEquals(List.of(odd), r.mismatches());
        assertEquals(2, calls.get());
    }
}
