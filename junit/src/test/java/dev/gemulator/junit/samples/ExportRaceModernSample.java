package dev.gemulator.junit.samples;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.VirtualClock;
import dev.gemulator.junit.GemulatorRace;
import dev.gemulator.junit.examples.ExportVsGemClose;
import org.junit.jupiter.api.Assertions;

/** The same race under 6.x, which must pass every seed; and a test whose own assertion fails. */
public class ExportRaceModernSample {
    @GemulatorRace(seeds = 30, profile = "6.x")
    void exportVersusClose(ClientProcess a) {
        ExportVsGemClose.race(a, 10, 0);
    }

    @GemulatorRace(seeds = 3, firstSeed = 1000)
    void aFailedAssertionNamesItsSeed(ClientProcess a, VirtualClock clock) {
        DrmFd fd = a.open("card0");
        long before = clock.nanoTime();
        clock.sleep(10_000); // ten seconds of virtual time, no real time
        long slept = clock.nanoTime() - before; // ten seconds and the few steps of the calls
        Assertions.assertTrue(slept >= 10_000_000_000L && slept < 10_000_001_000L, "the sleep took its virtual time");
        fd.close();
        Assertions.fail("on purpose");
    }
}
