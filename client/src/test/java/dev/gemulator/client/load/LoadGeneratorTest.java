package dev.gemulator.client.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.server.GemulatorServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A short load run: every op of the mix runs, the report adds up, and the device ends empty. */
class LoadGeneratorTest {

    @Test
    void aShortRunExercisesTheWholeMixAndLeavesNothingBehind() throws Exception {
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 1024)) {
            LoadGenerator.Result r = LoadGenerator.run(new LoadGenerator.Config("127.0.0.1", server.port(), null, 2, 2, 5, 0,
                    1.0), false);
            assertEquals(List.of("close", "create", "export", "fd_close", "flink", "import", "open", "send_fd"),
                    List.copyOf(r.latency().keySet()), "every op of the mix ran");
            assertEquals(r.ops(), r.latency().values().stream().mapToLong(h -> h.getTotalCount()).sum());
            assertTrue(r.deviceEmpty(), "the device holds nothing: " + r.deviceAfter());
            assertTrue(r.seconds() >= 1.0 && r.seconds() < 30, "the ops ran for the duration: " + r.seconds());
            assertEquals(List.of(), server.simulation().findings());
            String json = LoadGenerator.json(r);
            assertTrue(json.startsWith("{\"ops\":" + r.ops() + ",") && json.contains("\"device_empty\":true"), json);
        }
    }
}
