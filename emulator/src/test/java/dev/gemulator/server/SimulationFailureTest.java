package dev.gemulator.server;

import dev.gemulator.client.wire.WireClient;
import static dev.gemulator.server.WireCalls.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.transport.GemulatorServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An Error on the simulation thread (an OutOfMemoryError above all) ends the
 * server loudly instead of leaving it listening with nobody to answer: the
 * Error is logged with its stack, the trace is ended and flushed with a line
 * that says why, every connection is refused with the reason, new ones are
 * refused, and the serve command exits with status 70.
 */
@Tag("slow")
class SimulationFailureTest {
    @TempDir
    Path dir;

    @Test
    void anErrorOnTheSimulationThreadRefusesEveryConnectionWithTheReasonAndEndsTheTrace() throws Exception {
        ByteArrayOutputStream trace = new ByteArrayOutputStream();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Simulation sim = new Simulation(Profile.MODERN, 64, trace, new PrintStream(log, true, StandardCharsets.UTF_8),
                Limits.DEFAULT);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, sim, GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
                null)) {
            WireClient a = new WireClient(group, "127.0.0.1", server.port(), "A", null);
            assertEquals(3, ok(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            assertTrue(sim.runOnSimulationThread(() -> {
                throw new OutOfMemoryError("Java heap space (provoked by the test)");
            }));
            Throwable t = sim.failure().get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof OutOfMemoryError, String.valueOf(t));
            WireClient.ConnectionLost lost = assertThrows(WireClient.ConnectionLost.class,
                    () -> WireCalls.call(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            assertTrue(lost.getMessage().contains("the server stopped: its simulation thread failed"
                    + " (java.lang.OutOfMemoryError: Java heap space (provoked by the test))"), lost.getMessage());
            assertThrows(WireClient.ConnectionLost.class, () -> new WireClient(group, "127.0.0.1", server.port(), "B",
                    null).mode(), "nobody is welcomed any more (the server stopped listening)");
            a.close();
        } finally {
            group.shutdownGracefully();
        }
        String said = log.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("gemulator: FATAL: the simulation thread failed after 1 requests:"
                + " java.lang.OutOfMemoryError: Java heap space (provoked by the test)"), said);
        assertTrue(said.contains("\tat dev.gemulator.server.SimulationFailureTest"), "with its stack: " + said);
        TraceRecorder.ReadBack back = TraceRecorder.readCutOff(new java.io.ByteArrayInputStream(trace.toByteArray()));
        assertTrue(back.ended() && back.corruption() == null && !back.torn(), "the trace is whole");
        assertEquals(Simulation.FAILED_EXIT_STATUS, back.records().getLast().getEnd().getExitStatus());
        List<String> lines = back.records().stream().filter(r -> r.hasLine()).map(r -> r.getLine().getText()).toList();
        assertEquals("1 A open ok 3 0 0", lines.getFirst());
        assertTrue(lines.getLast().startsWith("server stopped: the simulation thread failed: java.lang.OutOfMemoryError"),
                lines.toString());
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }

    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    @Test
    void theServeCommandExitsWithStatus70AndTheTraceSaysWhy() throws Exception {
        Path trace = dir.resolve("failed.trace");
        int port;
        try (var probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-XX:TieredStopAtLevel=1", "-cp", classPath(),
                "dev.gemulator.cli.Main", "serve", "--port", String.valueOf(port), "--trace", trace.toString(),
                "--inject-error-after", "2"));
        Process server = new ProcessBuilder(command).redirectErrorStream(true).start();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            var said = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = said.readLine()) != null && !line.startsWith("gemulator serving")) {
                // wait until it listens
            }
            WireClient a = new WireClient(group, "127.0.0.1", port, "A", null);
            Syscall.Builder open = Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"));
            ok(a, open);
            ok(a, open);
            assertThrows(WireClient.ConnectionLost.class, () -> WireCalls.call(a, open));
            a.close();
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server stops");
            StringBuilder rest = new StringBuilder();
            while ((line = said.readLine()) != null) {
                rest.append(line).append('\n');
            }
            assertEquals(Simulation.FAILED_EXIT_STATUS, server.exitValue(), rest.toString());
            assertTrue(rest.toString().contains("gemulator: FATAL: the simulation thread failed after 2 requests"),
                    rest.toString());
            TraceRecorder.ReadBack back;
            try (var in = Files.newInputStream(trace)) {
                back = TraceRecorder.readCutOff(in);
            }
            assertTrue(back.ended(), "the trace was ended and flushed");
            assertEquals(Simulation.FAILED_EXIT_STATUS, back.records().getLast().getEnd().getExitStatus());
        } finally {
            server.destroyForcibly();
            group.shutdownGracefully();
        }
    }
}
