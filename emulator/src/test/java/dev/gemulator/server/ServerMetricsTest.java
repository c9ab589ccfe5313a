package dev.gemulator.server;

import dev.gemulator.kernel.uapi.Ioctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.transport.GemulatorServer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Prometheus text from the server's own loopback port, with what the requests did. */
@Tag("slow")
class ServerMetricsTest {

    @Test
    void theScrapeCountsIoctlsByOpAndErrnoAndShowsTheDevice() throws Exception {
        var sim = new Simulation(Profile.MODERN, 64, null, System.err);
        try (ServerMetrics metrics = new ServerMetrics()) {
            sim.metrics(metrics);
            int metricsPort = metrics.serve(0);
            var group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, sim, GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
                    null); WireClient a = new WireClient(group, "127.0.0.1", server.port(), "A", null)) {
                a.call(Request.newBuilder().setCall(Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
                for (int i = 0; i < 3; i++) {
                    a.call(Request.newBuilder().setCall(WireIoctl.syscall(3, new Ioctl.ModeCreateDumb(64, 64, 32, 0))));
                }
                a.call(Request.newBuilder().setCall(WireIoctl.syscall(3, new Ioctl.GemFlink(1))));
                a.call(Request.newBuilder().setCall(WireIoctl.syscall(3, new Ioctl.GemClose(9))));
                String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(text.contains("gemulator_ioctls_total{errno=\"OK\",op=\"create_dumb\"} 3.0"), text);
                assertTrue(text.contains("gemulator_ioctls_total{errno=\"EINVAL\",op=\"gem_close\"} 1.0"), text);
                assertTrue(text.contains("gemulator_ioctl_latency_seconds{op=\"create_dumb\",quantile=\"0.99\"}"), text);
                assertTrue(text.contains("gemulator_ioctl_latency_seconds_count{op=\"open\"} 1"), text);
                assertTrue(text.contains("gemulator_device_objects{device=\"0\"} 3.0"), text);
                assertTrue(text.contains("gemulator_device_handles{device=\"0\"} 3.0"), text);
                assertTrue(text.contains("gemulator_device_names{device=\"0\"} 1.0"), text);
                assertTrue(text.contains("gemulator_device_object_bytes{device=\"0\"} 49152.0"), text);
                assertTrue(text.contains("gemulator_scheduler_decisions_total 0.0"), text);
                // counted from the start: a clean server says 0 rather than nothing
                assertTrue(text.contains("gemulator_reports_total{kind=\"use-after-free\"} 0.0"), text);
                assertTrue(text.contains("gemulator_reports_total{kind=\"leak\"} 0.0"), text);
                assertTrue(text.contains("gemulator_runs_total{mode=\"lockstep\"} 0.0"), text);
                assertFalse(text.contains("process=") || text.contains("handle=") || text.contains("fd="),
                        "no tag names a process, handle or fd");
                assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode());
            } finally {
                group.shutdownGracefully();
            }
        }
    }
}
