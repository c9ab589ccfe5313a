package dev.gemulator.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.transport.GemulatorServer;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A short load run: every op of the mix runs, the report adds up, the device
 * ends empty, and what the load generator counted is exactly what the
 * server's metrics counted, call by call and errno by errno.
 */
@Tag("slow")
class LoadGeneratorTest {

    @Test
    void aShortRunExercisesTheWholeMixAndLeavesNothingBehind() throws Exception {
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 1024)) {
            LoadGenerator.Result r = LoadGenerator.run(new LoadGenerator.Config("127.0.0.1", server.port(), null, 2, 2, 5, 0,
                    1.0), false);
            assertEquals(List.of("channel_open", "close", "create_dumb", "gem_close", "gem_flink", "gem_open", "open",
                    "prime_fd_to_handle", "prime_handle_to_fd", "recv_fd", "send_fd"), List.copyOf(r.latency().keySet()),
                    "every op of the mix ran, by the server's names (a passed fd: send, the peer's receive, its channel)");
            assertEquals(r.ops(), r.latency().values().stream().mapToLong(h -> h.getTotalCount()).sum());
            assertTrue(r.deviceEmpty(), "the device holds nothing: " + r.deviceAfter());
            assertTrue(r.seconds() >= 1.0 && r.seconds() < 30, "the ops ran for the duration: " + r.seconds());
            assertEquals(List.of(), server.simulation().findings());
            String json = LoadGenerator.json(r);
            assertTrue(json.startsWith("{\"ops\":" + r.ops() + ",") && json.contains("\"device_empty\":true"), json);
        }
    }

    /** The Prometheus series gemulator_ioctls_total as "op errno" to count. */
    static java.util.Map<String, Long> ioctls(String scrape) {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "(?m)^gemulator_ioctls_total\\{errno=\"([A-Za-z0-9-]+)\",op=\"([a-z_]+)\"\\} ([0-9.E]+)$").matcher(scrape);
        while (m.find()) {
            out.put(m.group(2) + " " + m.group(1), (long) Double.parseDouble(m.group(3)));
        }
        return out;
    }

    @Test
    void itsTotalsAreTheServersMetricsForTheSameRun() throws Exception {
        var sim = new dev.gemulator.server.Simulation(Profile.MODERN, 1024, null, System.err);
        try (var metrics = new dev.gemulator.server.ServerMetrics()) {
            sim.metrics(metrics);
            try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, sim,
                    GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null)) {
                LoadGenerator.Result r = LoadGenerator.run(new LoadGenerator.Config("127.0.0.1", server.port(), null, 2, 2,
                        7, 0, 1.0), false);
                assertTrue(r.deviceEmpty(), r.deviceAfter());
                java.util.Map<String, Long> counted = new java.util.TreeMap<>();
                r.latency().keySet().forEach(op -> {
                    counted.put(op + " OK", r.count(op, "OK"));
                    r.errors().forEach((k, v) -> {
                        if (k.startsWith(op + " ")) {
                            counted.put(k, v);
                        }
                    });
                });
                counted.values().removeIf(v -> v == 0);
                java.util.Map<String, Long> served = ioctls(metrics.scrape());
                assertEquals(served, counted, "the load generator's counts are the server's, op by op and errno by errno");
                assertEquals(r.ops(), served.values().stream().mapToLong(Long::longValue).sum());
                assertEquals(r.errorCount(), served.entrySet().stream().filter(e -> !e.getKey().endsWith(" OK"))
                        .mapToLong(java.util.Map.Entry::getValue).sum());
                System.out.println("load vs metrics: " + r.ops() + " calls, " + r.errorCount() + " failed; by op and errno: "
                        + served);
            }
        }
    }
}
