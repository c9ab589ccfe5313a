package dev.gemulator.client;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.ServerMode;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.ThreadExit;
import dev.gemulator.proto.v1.ThreadStart;
import dev.gemulator.proto.v1.Welcome;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.handler.codec.MessageToMessageDecoder;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One process's connection for races: Hello (saying whether the program
 * runs its part once per seed), then calls of any of its threads, each
 * waiting for its reply, the announcements of its threads, and the Again
 * of the next seed.
 */
final class RaceConnection extends SimpleChannelInboundHandler<ServerMessage> {
    /** The server refused or closed the connection. */
    static final class Lost extends ConnectionLostException {
        Lost(String message) {
            super(message);
        }
    }

    private static final long NO_MORE = Long.MIN_VALUE;

    private final Channel channel;
    private final String process;
    private final CompletableFuture<Welcome> welcomed = new CompletableFuture<>();
    private final Map<Long, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    private final BlockingQueue<Long> again = new LinkedBlockingQueue<>();
    private final AtomicLong nextRequest = new AtomicLong(1);
    private volatile String lost;

    RaceConnection(EventLoopGroup group, String host, int port, String process, String token, boolean iterates) {
        this.process = process;
        RaceConnection self = this;
        // Built before connecting: the server drops a connection that stays silent
        // (5 s by default), and a JVM's first protobuf message can take seconds to
        // initialise when the machine is loaded.
        ClientMessage hello = ClientMessage.newBuilder().setHello(Hello.newBuilder()
                .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                .setToken(token == null ? "" : token).setIterates(iterates)).build();
        try {
            this.channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline()
                                    .addLast(new LengthFieldBasedFrameDecoder(64 << 20, 0, 4, 0, 4, true))
                                    .addLast(new LengthFieldPrepender(4))
                                    .addLast(new Decoder())
                                    .addLast(new Encoder())
                                    .addLast(self);
                        }
                    }).connect(host, port).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Lost("interrupted while connecting");
        } catch (RuntimeException e) {
            throw new Lost("cannot connect to " + host + ":" + port + ": " + e.getMessage());
        }
        channel.writeAndFlush(hello);
    }

    /** Frames in: one ServerMessage each. */
    private static final class Decoder extends MessageToMessageDecoder<ByteBuf> {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out)
                throws IOException {
            out.add(ServerMessage.parseFrom(new ByteBufInputStream(frame)));
        }
    }

    /** Frames out: one ClientMessage each. */
    private static final class Encoder extends MessageToByteEncoder<ClientMessage> {
        @Override
        protected void encode(ChannelHandlerContext ctx, ClientMessage msg, ByteBuf out)
                throws IOException {
            msg.writeTo(new ByteBufOutputStream(out));
        }
    }

    /** The server's mode: seeded or free-running (or lockstep), once welcomed. */
    ServerMode mode() {
        return await(welcomed).getServerMode();
    }

    /** The seed of the first run this process joined (seeded servers). */
    long seed() {
        return await(welcomed).getSeed();
    }

    boolean seeded() {
        return mode() == ServerMode.SERVER_MODE_SEEDED;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ServerMessage msg) {
        switch (msg.getMessageCase()) {
            case WELCOME -> welcomed.complete(msg.getWelcome());
            case AGAIN -> again.add(msg.getAgain().getSeed());
            case REPLY -> {
                CompletableFuture<Reply> f = pending.remove(msg.getReply().getRequestId());
                if (f != null) {
                    f.complete(msg.getReply());
                }
            }
            case REFUSAL -> fail("refused: " + msg.getRefusal().getReason());
            default -> { }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail("the connection closed");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail("connection error: " + cause);
        ctx.close();
    }

    private void fail(String why) {
        if (lost == null) {
            lost = why;
        }
        again.add(NO_MORE);
        Lost e = new Lost("process " + process + ": " + lost);
        welcomed.completeExceptionally(e);
        pending.values().forEach(f -> f.completeExceptionally(e));
        pending.clear();
    }

    /** Runs {@code call} as thread {@code thread} and waits for its reply. */
    Reply call(int thread, Syscall call) {
        mode();
        long id = nextRequest.getAndIncrement();
        CompletableFuture<Reply> f = new CompletableFuture<>();
        pending.put(id, f);
        if (lost != null) {
            pending.remove(id);
            throw new Lost("process " + process + ": " + lost);
        }
        channel.writeAndFlush(ClientMessage.newBuilder().setRequest(Request.newBuilder().setThreadId(thread)
                .setRequestId(id).setCall(call)).build());
        return await(f);
    }

    /** Announces thread {@code id}: by its parent (seeded servers), or by itself on its first call (free-running). */
    void threadStart(int id, int parent, boolean byParent, String name) {
        mode();
        channel.writeAndFlush(ClientMessage.newBuilder().setThreadStart(ThreadStart.newBuilder().setThreadId(id)
                .setParentThreadId(parent).setByParent(byParent).setName(name)).build());
    }

    void threadExit(int id) {
        channel.writeAndFlush(ClientMessage.newBuilder().setThreadExit(ThreadExit.newBuilder().setThreadId(id))
                .build());
    }

    /** The seed of the next run this persistent process takes part in, or null when there is none (closed). */
    Long awaitAgain() {
        try {
            long s = again.take();
            return s == NO_MORE ? null : s;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Lost("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Lost l ? l : new Lost(String.valueOf(e.getCause()));
        }
    }

    void close() {
        channel.close().syncUninterruptibly();
    }
}
