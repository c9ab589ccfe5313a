package dev.gemulator.server;

import dev.gemulator.kernel.uapi.Ioctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.Mmap;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Read;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.transport.GemulatorServer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/**
 * A client that sends requests but does not read its replies: the server
 * stops taking its requests once a bounded amount of replies waits for it,
 * serves everyone else meanwhile, and loses nothing when the client reads
 * again.
 */
class BackpressureTest {
    private static final int BUFFER = 256 * 256 * 4;
    private static final int REQUESTS = 400;

    static void send(DataOutputStream out, ClientMessage m) throws IOException {
        byte[] b = m.toByteArray();
        out.writeInt(b.length);
        out.write(b);
    }

    static ServerMessage receive(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return ServerMessage.parseFrom(b);
    }

    private static SyscallResult call(DataOutputStream out, DataInputStream in, long id, Syscall.Builder call)
            throws IOException {
        send(out, ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(id).setCall(call)).build());
        out.flush();
        ServerMessage m = receive(in);
        assertEquals(id, m.getReply().getRequestId());
        assertEquals(0, m.getReply().getResult().getErrno(), m.getReply().getResult().getMessage());
        return m.getReply().getResult();
    }

    @Test
    void aClientThatDoesNotReadItsRepliesIsNoLongerServedUntilItDoesAndLosesNothing() throws Exception {
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 64);
                Socket s = new Socket("127.0.0.1", server.port())) {
            DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream()));
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            send(out, ClientMessage.newBuilder().setHello(Hello.newBuilder().setVersion(ProtocolVersion.PROTOCOL_VERSION_1)
                    .setProcessName("Slow")).build());
            out.flush();
            assertTrue(receive(in).hasWelcome());
            int fd = (int) call(out, in, 1, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))).getValues(0);
            long handle = call(out, in, 2, WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(256, 256, 32, 0))).getValues(0);
            long offset = call(out, in, 3, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb((int) handle))).getValues(0);
            long map = call(out, in, 4, Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(fd).setOffset(offset)
                    .setLength(BUFFER))).getValues(0);
            long before = server.simulation().executed();

            // 400 reads of the whole 256 KiB buffer (100 MiB of replies), none of them read yet
            for (int i = 0; i < REQUESTS; i++) {
                send(out, ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(100 + i)
                        .setCall(Syscall.newBuilder().setRead(Read.newBuilder().setMap(map).setLength(BUFFER)))).build());
            }
            out.flush();
            long settled = waitUntilSettled(server);
            // what ran: the requests in flight plus the replies the two sockets' kernel buffers took (a few MiB)
            assertTrue(settled - before < REQUESTS / 2,
                    "the server stopped running the requests of a client that does not read: ran " + (settled - before));

            // everyone else is served meanwhile
            try (var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
                    var other = new WireClient(group, "127.0.0.1", server.port(), "Other", null)) {
                var r = other.call(Request.newBuilder().setCall(Syscall.newBuilder().setOpen(Open.newBuilder()
                        .setNode("render0")))).getResult();
                assertEquals(0, r.getErrno());
            }

            // the client reads again: every reply comes, in order, whole
            for (int i = 0; i < REQUESTS; i++) {
                ServerMessage m = receive(in);
                assertEquals(100 + i, m.getReply().getRequestId());
                assertEquals(BUFFER, m.getReply().getResult().getData().size());
            }
            assertEquals(before + REQUESTS + 1, server.simulation().executed());
        }
    }

    /** Waits until the simulation has run nothing new for half a second; returns how many it ran. */
    private static long waitUntilSettled(GemulatorServer server) throws InterruptedException {
        long last = -1;
        long now = server.simulation().executed();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (now != last && System.nanoTime() < deadline) {
            last = now;
            Thread.sleep(500);
            now = server.simulation().executed();
        }
        return now;
    }
}
