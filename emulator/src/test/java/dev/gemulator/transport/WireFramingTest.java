package dev.gemulator.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.server.Simulation;
import dev.gemulator.transport.GemulatorServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The server's framing: any split of a frame decodes, oversized and malformed frames close with a reason. */
class WireFramingTest {
    private final Simulation simulation = new Simulation(Profile.MODERN, 16);

    @AfterEach
    void stop() {
        simulation.close();
    }

    private EmbeddedChannel channel() {
        return new EmbeddedChannel(GemulatorServer.pipeline(simulation, null, 1024, null));
    }

    private static byte[] frame(ClientMessage m) {
        byte[] body = m.toByteArray();
        byte[] out = new byte[4 + body.length];
        out[0] = (byte) (body.length >>> 24);
        out[1] = (byte) (body.length >>> 16);
        out[2] = (byte) (body.length >>> 8);
        out[3] = (byte) body.length;
        System.arraycopy(body, 0, out, 4, body.length);
        return out;
    }

    /** The first frame written out (LengthFieldPrepender writes the length and the body as two buffers). */
    private static ServerMessage read(EmbeddedChannel ch) throws Exception {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            all.write(bytes);
        }
        byte[] bytes = all.toByteArray();
        int length = ((bytes[0] & 0xff) << 24) | ((bytes[1] & 0xff) << 16) | ((bytes[2] & 0xff) << 8) | (bytes[3] & 0xff);
        assertEquals(bytes.length - 4, length, "one whole frame");
        return ServerMessage.parseFrom(java.util.Arrays.copyOfRange(bytes, 4, 4 + length));
    }

    private static ClientMessage hello(String name) {
        return ClientMessage.newBuilder().setHello(Hello.newBuilder().setVersion(ProtocolVersion.PROTOCOL_VERSION_1)
                .setProcessName(name)).build();
    }

    @Test
    void aHelloSplitAtEveryBytePositionIsWelcomed() throws Exception {
        byte[] f = frame(hello("A"));
        for (int cut = 0; cut <= f.length; cut++) {
            EmbeddedChannel ch = channel();
            ch.writeInbound(Unpooled.wrappedBuffer(f, 0, cut));
            ch.writeInbound(Unpooled.wrappedBuffer(f, cut, f.length - cut));
            ServerMessage m = read(ch);
            assertTrue(m.hasWelcome(), "cut at " + cut);
            assertEquals("A", m.getWelcome().getProcessName());
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void anOversizedFrameIsRefusedAndTheConnectionClosed() throws Exception {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0, 0, 8, 0}));
        ServerMessage m = read(ch);
        assertTrue(m.getRefusal().getReason().startsWith("frame too long"), m.toString());
        assertFalse(ch.isOpen());
    }

    @Test
    void garbageAndRequestsBeforeHelloAreRefused() throws Exception {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 3, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
        assertTrue(read(ch).getRefusal().getReason().startsWith("malformed message"));
        assertFalse(ch.isOpen());

        EmbeddedChannel ch2 = channel();
        ch2.writeInbound(Unpooled.wrappedBuffer(frame(ClientMessage.newBuilder()
                .setRequest(dev.gemulator.proto.v1.Request.newBuilder().setRequestId(1)).build())));
        assertEquals("a Request before Hello", read(ch2).getRefusal().getReason());

        EmbeddedChannel ch3 = channel();
        ch3.writeInbound(Unpooled.wrappedBuffer(frame(hello("1bad"))));
        assertTrue(read(ch3).getRefusal().getReason().startsWith("bad process name"));
    }
}
