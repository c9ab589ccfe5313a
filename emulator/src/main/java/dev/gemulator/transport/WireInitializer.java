package dev.gemulator.transport;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Refusal;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.server.Limits;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pipeline of one connection, the same for every kind of server and
 * both transports:
 *
 * <pre>
 *  +--------+----------------------------+
 *  | length |  ClientMessage (protobuf)  |   in: at most HELLO_FRAME_BYTES before
 *  | 4 B BE |  length bytes              |       Hello, the server's maximum after;
 *  +--------+----------------------------+       fail-fast beyond ({@link FrameDecoder})
 *  out: the same layout around a ServerMessage
 *
 *  hello-idle -> frames -> length -> decode/encode -> hello ({@link Handshake}) -> connection (the mode's handler)
 * </pre>
 *
 * Until it says Hello a connection also has a reader-idle timer
 * ({@link Limits#helloIdleMillis()}); the handshake's own timer gives it
 * {@link Limits#helloTimeoutMillis()} in all. A connection beyond the
 * server's maximum, or to a server that has stopped, is refused with a
 * reason and closed before anything is read.
 */
final class WireInitializer extends ChannelInitializer<Channel> {
    /** What one kind of server (free-running, lockstep, seeded) puts behind the shared handshake. */
    interface Mode {
        /** Why no connection is taken any more (the server has stopped), or null. */
        String stopped();

        /** The handler of one new connection, which gets the Hello the handshake accepted. */
        ChannelHandler newConnection(Channel channel);
    }

    private final Limits limits;
    private final int maxClients;
    private final int maxFrameBytes;
    private final HelloGuard guard;
    private final Mode mode;
    private final AtomicInteger connected = new AtomicInteger();
    private final ChannelGroup all = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    WireInitializer(Limits limits, int maxClients, int maxFrameBytes, String token, Mode mode) {
        this.limits = limits;
        this.maxClients = maxClients;
        this.maxFrameBytes = maxFrameBytes;
        this.guard = new HelloGuard(token);
        this.mode = mode;
    }

    static ServerMessage refusal(String reason) {
        return ServerMessage.newBuilder().setRefusal(Refusal.newBuilder().setReason(reason)).build();
    }

    /** Connections open now, those that have not said Hello included. */
    int connections() {
        return connected.get();
    }

    /** Refuses every connection with {@code reason} and closes it (the server stops). */
    void closeAll(String reason) {
        all.writeAndFlush(refusal(reason)).addListener(f -> all.close());
    }

    @Override
    protected void initChannel(Channel ch) {
        String stopped = mode.stopped();
        if (connected.incrementAndGet() > maxClients || stopped != null) {
            connected.decrementAndGet();
            ch.config().setAutoRead(false);
            ch.pipeline().addLast(new LengthFieldPrepender(4), new ProtobufEncoder());
            String why = stopped != null ? stopped : "the server has its maximum of " + maxClients + " connections";
            ch.writeAndFlush(refusal(why)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ch.closeFuture().addListener(f -> connected.decrementAndGet());
        ch.config().setAllocator(Listener.ALLOCATOR); // whichever transport: buffers that go back when it closes
        all.add(ch);
        ch.pipeline()
                .addLast("hello-idle", new IdleStateHandler(limits.helloIdleMillis(), 0, 0, TimeUnit.MILLISECONDS))
                .addLast("frames", new FrameDecoder(Math.min(Limits.HELLO_FRAME_BYTES, maxFrameBytes)))
                .addLast("length", new LengthFieldPrepender(4))
                .addLast("decode", new ProtobufDecoder(ClientMessage.getDefaultInstance()))
                .addLast("encode", new ProtobufEncoder())
                .addLast("hello", new Handshake(guard, limits))
                .addLast("connection", mode.newConnection(ch));
    }
}
