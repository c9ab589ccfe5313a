package dev.gemulator.junit.samples;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.junit.GemulatorRace;
import dev.gemulator.junit.examples.ExportVsGemClose;

/**
 * Run by GemulatorRaceExtensionTest through JUnit's launcher (its name keeps
 * surefire from running it directly): the export-vs-gem_close race as a
 * race test under the 3.11 profile, which must fail with a seed.
 */
public class ExportRaceSample {
    @GemulatorRace(seeds = 100, profile = "v3.11")
    void exportVersusClose(ClientProcess a) {
        ExportVsGemClose.race(a, 10, 0);
    }
}
