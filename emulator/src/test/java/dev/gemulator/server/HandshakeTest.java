package dev.gemulator.server;

import dev.gemulator.client.wire.WireClient;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.transport.GemulatorServer;
import dev.gemulator.proto.v1.ServerMode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Connections that do not say Hello cannot keep anyone out: they are
 * refused after the handshake timeout (or sooner when silent), may not send
 * big frames before Hello, and what partial frames held goes when they
 * close; wrong tokens are slowed per source.
 */
@Tag("slow")
class HandshakeTest {
    private GemulatorServer server;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<Socket> sockets = new ArrayList<>();

    private void serve(Limits limits, String token) throws Exception {
        server = GemulatorServer.start("127.0.0.1", 0, new Simulation(Profile.MODERN, 64, null, System.err, limits),
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, token);
    }

    @AfterEach
    void stop() throws Exception {
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
        group.shutdownGracefully();
    }

    private Socket raw() throws Exception {
        Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(30_000);
        sockets.add(s);
        return s;
    }

    private static String refusal(Socket s) throws Exception {
        ServerMessage m = BackpressureTest.receive(new DataInputStream(s.getInputStream()));
        assertTrue(m.hasRefusal(), m.toString());
        return m.getRefusal().getReason();
    }

    private static ClientMessage hello(String name, String token) {
        return ClientMessage.newBuilder().setHello(Hello.newBuilder().setVersion(ProtocolVersion.PROTOCOL_VERSION_1)
                .setProcessName(name).setToken(token)).build();
    }

    @Test
    void maxClientsConnectionsThatNeverSayHelloKeepAGoodClientOutOnlyUntilTheHandshakeTimeout() throws Exception {
        serve(new Limits(4, 1024, 1 << 20, 64, 1024, 1024).withHelloTimeouts(1500, 60_000), null);
        List<Socket> silent = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            silent.add(raw());
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (server.connections() < 4) {
            assertTrue(System.nanoTime() < deadline, "the server sees the four connections");
            Thread.sleep(10);
        }
        WireClient early = new WireClient(group, "127.0.0.1", server.port(), "Good", null);
        assertTrue(assertThrows(WireClient.ConnectionLost.class, early::mode).getMessage()
                .contains("the server has its maximum of 4 connections"));
        for (Socket s : silent) {
            assertEquals("no Hello within 1500 ms", refusal(s));
            assertEquals(-1, s.getInputStream().read(), "and closed");
        }
        while (true) { // the server counts the closed connections out a moment after it closed them
            try (WireClient good = new WireClient(group, "127.0.0.1", server.port(), "Good", null)) {
                assertEquals(ServerMode.SERVER_MODE_FREE, good.mode());
                break;
            } catch (WireClient.ConnectionLost e) {
                assertTrue(System.nanoTime() < deadline, "the good client gets in: " + e.getMessage());
                Thread.sleep(20);
            }
        }
    }

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeoutAndATricklingOneAfterTheHandshakeTimeout() throws Exception {
        serve(Limits.DEFAULT.withHelloTimeouts(1200, 300), null);
        Socket silent = raw();
        Socket trickling = raw();
        Thread trickle = Thread.ofPlatform().start(() -> {
            try {
                var out = trickling.getOutputStream();
                out.write(new byte[] {0, 0}); // half a length, then a byte now and then: never idle, never a frame
                for (int i = 0; i < 40; i++) {
                    Thread.sleep(100);
                    out.write(new byte[0]);
                    out.flush();
                    if (i == 5) {
                        out.write(0);
                    }
                }
            } catch (Exception e) {
                // closed by the server: what the test waits for
            }
        });
        assertEquals("no Hello: the connection was silent for 300 ms", refusal(silent));
        String why = refusal(trickling);
        assertTrue(why.equals("no Hello within 1200 ms") || why.startsWith("no Hello: the connection was silent"), why);
        trickle.join();
    }

    @Test
    void aBigFrameBeforeHelloIsRefusedWhenItsLengthArrives() throws Exception {
        serve(Limits.DEFAULT, null);
        Socket s = raw();
        new DataOutputStream(s.getOutputStream()).writeInt(1 << 20);
        assertEquals("frame too long: a frame of 1048576 bytes (at most 4096 before Hello)", refusal(s));
    }

    @Test
    void whatPartialFramesHoldIsReleasedWhenTheirConnectionsClose() throws Exception {
        serve(Limits.DEFAULT, null);
        long before = GemulatorServer.bufferBytes();
        int n = 40;
        List<Socket> halfSent = new ArrayList<>();
        byte[] half = new byte[512 << 10];
        for (int i = 0; i < n; i++) {
            Socket s = raw();
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            BackpressureTest.send(out, hello("P" + i, ""));
            out.flush();
            assertTrue(BackpressureTest.receive(new DataInputStream(s.getInputStream())).hasWelcome());
            out.writeInt(1 << 20); // a 1 MiB frame, half of it sent
            out.write(half);
            out.flush();
            halfSent.add(s);
        }
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (GemulatorServer.bufferBytes() - before < (long) n * (400 << 10)) {
            assertTrue(System.nanoTime() < deadline, "the server holds the half frames: "
                    + (GemulatorServer.bufferBytes() - before));
            Thread.sleep(20);
        }
        for (Socket s : halfSent) {
            s.close();
        }
        while (GemulatorServer.bufferBytes() - before > (1 << 20)) {
            assertTrue(System.nanoTime() < deadline, "the half frames are released: still "
                    + (GemulatorServer.bufferBytes() - before) + " bytes");
            Thread.sleep(20);
        }
    }

    @Test
    void wrongTokensFromOneSourceWaitLongerEachTimeUntilTheyAreRefusedAtOnce() throws Exception {
        serve(Limits.DEFAULT.withHelloTimeouts(1000, 1000), "sesame");
        try (WireClient good = new WireClient(group, "127.0.0.1", server.port(), "Good", "sesame")) {
            assertEquals(ServerMode.SERVER_MODE_FREE, good.mode(), "a source that never failed waits for nothing");
        }
        // penalties 100, 200, 400, 800 ms; the fifth failure makes the next turn 1.6 s away, past the timeout
        for (int i = 0; i < 5; i++) {
            WireClient guess = new WireClient(group, "127.0.0.1", server.port(), "Guess" + i, "guess" + i);
            assertEquals("refused: wrong token", assertThrows(WireClient.ConnectionLost.class, guess::mode).getMessage());
            guess.close();
        }
        WireClient more = new WireClient(group, "127.0.0.1", server.port(), "Guess", "x".repeat(200));
        String why = assertThrows(WireClient.ConnectionLost.class, more::mode).getMessage();
        assertTrue(why.startsWith("refused: too many wrong tokens from 127.0.0.1: try again in "), why);
        more.close();
    }
}
