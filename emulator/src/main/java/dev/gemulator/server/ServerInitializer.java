package dev.gemulator.server;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.ServerMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's pipeline for one connection.
 *
 * <pre>
 *  +--------+----------------------------+
 *  | length |  ClientMessage (protobuf)  |   in: at most HELLO_FRAME_BYTES before
 *  | 4 B BE |  length bytes              |       Hello, maxFrameBytes after;
 *  +--------+----------------------------+       fail-fast beyond ({@link FrameDecoder})
 *  out: the same layout around a ServerMessage
 * </pre>
 *
 * Until it says Hello a connection also has a reader-idle timer
 * ({@link Limits#helloIdleMillis()}); the handler's own timer gives it
 * {@link Limits#helloTimeoutMillis()} in all.
 */
public final class ServerInitializer extends ChannelInitializer<Channel> {
    /** What the connections of one server share. */
    record Shared(Simulation simulation, dev.gemulator.lockstep.LockstepRun lockstep, int maxFrameBytes,
            HelloGuard guard, ConcurrentMap<String, Channel> processes, ChannelGroup lockstepClients,
            ChannelGroup all) {
    }

    private final Shared shared;
    private final AtomicInteger connected = new AtomicInteger();

    public ServerInitializer(Simulation simulation, int maxFrameBytes, String token) {
        this(simulation, null, maxFrameBytes, token);
    }

    public ServerInitializer(Simulation simulation, dev.gemulator.lockstep.LockstepRun lockstep, int maxFrameBytes,
            String token) {
        this.shared = new Shared(simulation, lockstep, maxFrameBytes, new HelloGuard(token), new ConcurrentHashMap<>(),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
        if (lockstep != null) {
            lockstep.onAgain((iteration, seed) -> shared.lockstepClients().writeAndFlush(
                    ServerMessage.newBuilder().setAgain(dev.gemulator.proto.v1.Again.newBuilder()
                            .setIteration(iteration).setSeed(seed)).build()));
        }
    }

    /** Connections open now, those that have not said Hello included. */
    public int connections() {
        return connected.get();
    }

    /** Refuses every connection with {@code reason} and closes it (the server stops). */
    public void closeAll(String reason) {
        shared.all().writeAndFlush(ServerMessage.newBuilder().setRefusal(dev.gemulator.proto.v1.Refusal.newBuilder()
                .setReason(reason)).build()).addListener(f -> shared.all().close());
    }

    @Override
    protected void initChannel(Channel ch) {
        int max = shared.simulation().limits().maxClients();
        if (connected.incrementAndGet() > max || shared.simulation().failure().isDone()) {
            connected.decrementAndGet();
            ch.config().setAutoRead(false);
            ch.pipeline().addLast(new LengthFieldPrepender(4), new ProtobufEncoder());
            String why = shared.simulation().failure().isDone() ? "the server has stopped: its simulation failed"
                    : "the server has its maximum of " + max + " connections";
            ch.writeAndFlush(ServerMessage.newBuilder().setRefusal(dev.gemulator.proto.v1.Refusal.newBuilder()
                    .setReason(why)).build()).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ch.closeFuture().addListener(f -> connected.decrementAndGet());
        ch.config().setAllocator(GemulatorServer.ALLOCATOR); // whichever transport: buffers that go back when it closes
        shared.all().add(ch);
        Limits limits = shared.simulation().limits();
        ch.pipeline()
                .addLast("hello-idle", new IdleStateHandler(limits.helloIdleMillis(), 0, 0, TimeUnit.MILLISECONDS))
                .addLast("frames", new FrameDecoder(Math.min(Limits.HELLO_FRAME_BYTES, shared.maxFrameBytes())))
                .addLast("length", new LengthFieldPrepender(4))
                .addLast("decode", new ProtobufDecoder(ClientMessage.getDefaultInstance()))
                .addLast("encode", new ProtobufEncoder())
                .addLast("connection", new ConnectionHandler(shared));
    }
}
