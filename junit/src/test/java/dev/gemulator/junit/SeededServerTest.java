package dev.gemulator.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.client.Gemulator;
import dev.gemulator.client.RaceTransport;
import dev.gemulator.junit.examples.ExportVsGemClose;
import dev.gemulator.kernel.Profile;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.server.seeded.SeededServer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The seeded server with the Java client in this JVM: the same seed is the same run, whatever the timing. */
class SeededServerTest {
    private SeededServer server;

    @BeforeEach
    void start() throws Exception {
        server = SeededServer.start("127.0.0.1", 0, null, 1 << 20, 64, System.err);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private SeededRun.Result run(long seed, String profile, long jitterMicros) throws Exception {
        SeededRun run = server.next(new SeededRun.Config(Profile.byName(profile), seed, "pos", 3, 10_000, List.of("A"), 0,
                true, "SeededServerTest", null, 10_000, 1024));
        try (Gemulator g = new Gemulator(new RaceTransport("127.0.0.1", server.port(), null, false))) {
            ExportVsGemClose.race(g.process("A"), 10, jitterMicros);
        }
        return run.finished().get(60, TimeUnit.SECONDS);
    }

    @Test
    void theSameSeedGivesTheSameTraceWhateverTheTiming() throws Exception {
        SeededRun.Result a = run(7, "6.x", 0);
        SeededRun.Result b = run(7, "6.x", 300);
        System.out.println(SeededRun.describe(a));
        assertTrue(a.calls() > 40, SeededRun.describe(a));
        assertEquals(a.traceHash(), b.traceHash());
        SeededRun.Result c = run(8, "6.x", 0);
        assertNotEquals(a.traceHash(), c.traceHash());
        assertEquals(List.of(), a.reports());
    }
}
