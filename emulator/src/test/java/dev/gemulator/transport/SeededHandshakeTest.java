package dev.gemulator.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.sched.Strategy;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.StatusRequest;
import dev.gemulator.server.Limits;
import dev.gemulator.server.seeded.SeededRun;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The seeded server shakes hands as the free-running and the lockstep ones
 * do (one pipeline, {@link Handshake}): a wrong token is refused and makes
 * its source wait, a connection that stays silent or never says Hello is
 * dropped, frames before Hello are small, and the right token gets in.
 */
class SeededHandshakeTest {
    private SeededServer server;
    private final List<Socket> sockets = new ArrayList<>();

    private void serve(Limits limits) throws Exception {
        server = SeededServer.start("127.0.0.1", 0, "sesame", 1 << 20, 64, System.err, limits);
        server.next(new SeededRun.Config(Profile.MODERN, 1, Strategy.Name.POS, 3, 10_000, List.of("A"), 0, false,
                "SeededHandshakeTest", null, 10_000, 1024));
    }

    @AfterEach
    void stop() throws Exception {
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private Socket raw() throws Exception {
        Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(30_000);
        sockets.add(s);
        return s;
    }

    private static void send(Socket s, ClientMessage m) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        byte[] body = m.toByteArray();
        out.writeInt(body.length);
        out.write(body);
        out.flush();
    }

    private static ServerMessage receive(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        return ServerMessage.parseFrom(body);
    }

    private static String refusal(Socket s) throws IOException {
        ServerMessage m = receive(s);
        assertTrue(m.hasRefusal(), m.toString());
        return m.getRefusal().getReason();
    }

    private static ClientMessage hello(String name, String token) {
        return ClientMessage.newBuilder().setHello(Hello.newBuilder().setVersion(ProtocolVersion.PROTOCOL_VERSION_1)
                .setProcessName(name).setToken(token)).build();
    }

    @Test
    void aWrongTokenIsRefusedAndSlowsItsSourceWhileTheRightOneGetsIn() throws Exception {
        serve(Limits.DEFAULT);
        Socket wrong = raw();
        send(wrong, hello("A", "guess"));
        assertEquals("wrong token", refusal(wrong));
        assertEquals(-1, wrong.getInputStream().read(), "and closed");
        // the next Hello from the same address waits for its turn (HelloGuard), then gets its answer
        Socket again = raw();
        long before = System.nanoTime();
        send(again, hello("A", "guess again"));
        assertEquals("wrong token", refusal(again));
        assertTrue(System.nanoTime() - before >= HelloGuard.FIRST_PENALTY_MILLIS * 1_000_000 / 2,
                "the second wrong guess waited for its turn");
        Socket right = raw();
        send(right, hello("A", "sesame"));
        ServerMessage welcome = receive(right);
        assertTrue(welcome.hasWelcome(), welcome.toString());
        assertEquals("seeded", welcome.getWelcome().getMode());
    }

    @Test
    void aSilentConnectionIsDroppedAndOneThatNeverSaysHelloToo() throws Exception {
        serve(Limits.DEFAULT.withHelloTimeouts(1500, 300));
        Socket silent = raw();
        assertEquals("no Hello: the connection was silent for 300 ms", refusal(silent));
        assertEquals(-1, silent.getInputStream().read(), "and closed");
        Socket early = raw();
        send(early, ClientMessage.newBuilder().setStatus(StatusRequest.getDefaultInstance())
                .build());
        assertEquals("a question before Hello", refusal(early));
    }

    @Test
    void aBigFrameBeforeHelloIsRefusedBeforeItArrives() throws Exception {
        serve(Limits.DEFAULT);
        Socket s = raw();
        new DataOutputStream(s.getOutputStream()).writeInt(1 << 20);
        assertEquals("frame too long: a frame of 1048576 bytes (at most 4096 before Hello)", refusal(s));
    }
}
