package dev.gemulator.server;

import dev.gemulator.proto.v1.ClientMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;

/**
 * The server's pipeline for one connection.
 *
 * <pre>
 *  +--------+----------------------------+
 *  | length |  ClientMessage (protobuf)  |   in: at most maxFrameBytes,
 *  | 4 B BE |  length bytes              |       fail-fast beyond
 *  +--------+----------------------------+
 *  out: the same layout around a ServerMessage
 * </pre>
 */
public final class ServerInitializer extends ChannelInitializer<Channel> {
    private final Simulation simulation;
    private final dev.gemulator.lockstep.LockstepRun lockstep;
    private final int maxFrameBytes;
    private final String token;
    /** The process each live connection acts as: one connection per process. */
    private final java.util.concurrent.ConcurrentMap<String, Channel> processes = new java.util.concurrent.ConcurrentHashMap<>();
    private final io.netty.channel.group.ChannelGroup lockstepClients =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);

    public ServerInitializer(Simulation simulation, int maxFrameBytes, String token) {
        this(simulation, null, maxFrameBytes, token);
    }

    public ServerInitializer(Simulation simulation, dev.gemulator.lockstep.LockstepRun lockstep, int maxFrameBytes,
            String token) {
        this.simulation = simulation;
        this.lockstep = lockstep;
        this.maxFrameBytes = maxFrameBytes;
        this.token = token;
        if (lockstep != null) {
            lockstep.onAgain((iteration, seed) -> lockstepClients.writeAndFlush(
                    dev.gemulator.proto.v1.ServerMessage.newBuilder().setAgain(dev.gemulator.proto.v1.Again.newBuilder()
                            .setIteration(iteration).setSeed(seed)).build()));
        }
    }

    private final java.util.concurrent.atomic.AtomicInteger connected = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    protected void initChannel(Channel ch) {
        int max = simulation.limits().maxClients();
        if (connected.incrementAndGet() > max) {
            connected.decrementAndGet();
            ch.pipeline().addLast(new LengthFieldPrepender(4), new ProtobufEncoder());
            ch.writeAndFlush(dev.gemulator.proto.v1.ServerMessage.newBuilder().setRefusal(dev.gemulator.proto.v1.Refusal
                    .newBuilder().setReason("the server has its maximum of " + max + " connections")).build())
                    .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            return;
        }
        ch.closeFuture().addListener(f -> connected.decrementAndGet());
        ch.pipeline()
                .addLast("frames", new LengthFieldBasedFrameDecoder(maxFrameBytes, 0, 4, 0, 4, true))
                .addLast("length", new LengthFieldPrepender(4))
                .addLast("decode", new ProtobufDecoder(ClientMessage.getDefaultInstance()))
                .addLast("encode", new ProtobufEncoder())
                .addLast("connection", new ConnectionHandler(simulation, lockstep, token,
                        lockstep != null ? lockstepClients : null, processes));
    }
}
