package dev.gemulator.client;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A transport to a gemulator server over TCP: one connection per process,
 * opened with a Hello on first use; the threads of a process share its
 * connection, each with its own thread id, and wait for their own replies.
 */
public final class NettyTransport implements Transport {
    /** The server closed or refused the connection. */
    public static final class ConnectionLost extends RuntimeException {
        public ConnectionLost(String message) {
            super(message);
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final String host;
    private final int port;
    private final String token;
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();

    public NettyTransport(String host, int port, String token) {
        this.host = host;
        this.port = port;
        this.token = token == null ? "" : token;
    }

    private final class Connection extends SimpleChannelInboundHandler<ServerMessage> {
        private final Channel channel;
        private final CompletableFuture<Void> welcomed = new CompletableFuture<>();
        private final Map<Long, CompletableFuture<SyscallResult>> pending = new ConcurrentHashMap<>();
        private final Map<Thread, Integer> threadIds = new ConcurrentHashMap<>();
        private final AtomicLong nextRequest = new AtomicLong(1);
        private volatile String lost;

        Connection(String process) throws InterruptedException {
            Connection self = this;
            this.channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline()
                                    .addLast(new LengthFieldBasedFrameDecoder(64 << 20, 0, 4, 0, 4, true))
                                    .addLast(new LengthFieldPrepender(4))
                                    .addLast(new ProtobufDecoder(ServerMessage.getDefaultInstance()))
                                    .addLast(new ProtobufEncoder())
                                    .addLast(self);
                        }
                    }).connect(host, port).sync().channel();
            channel.writeAndFlush(ClientMessage.newBuilder().setHello(Hello.newBuilder()
                    .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process).setToken(token)).build());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ServerMessage msg) {
            switch (msg.getMessageCase()) {
                case WELCOME -> welcomed.complete(null);
                case REPLY -> {
                    CompletableFuture<SyscallResult> f = pending.remove(msg.getReply().getRequestId());
                    if (f != null) {
                        f.complete(msg.getReply().getResult());
                    }
                }
                case REFUSAL -> fail("refused: " + msg.getRefusal().getReason());
                case MESSAGE_NOT_SET -> fail("an empty message from the server");
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(lost != null ? lost : "the connection closed");
        }

        private void fail(String why) {
            if (lost == null) {
                lost = why;
            }
            ConnectionLost e = new ConnectionLost(lost);
            welcomed.completeExceptionally(e);
            pending.values().forEach(f -> f.completeExceptionally(e));
            pending.clear();
        }

        SyscallResult call(Syscall call) {
            await(welcomed);
            long id = nextRequest.getAndIncrement();
            CompletableFuture<SyscallResult> f = new CompletableFuture<>();
            pending.put(id, f);
            if (lost != null) {
                pending.remove(id);
                throw new ConnectionLost(lost);
            }
            int thread = threadIds.computeIfAbsent(Thread.currentThread(), t -> threadIds.size());
            channel.writeAndFlush(ClientMessage.newBuilder().setRequest(Request.newBuilder()
                    .setThreadId(thread).setRequestId(id).setCall(call)).build());
            return await(f);
        }

        private <T> T await(CompletableFuture<T> f) {
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectionLost("interrupted");
            } catch (ExecutionException e) {
                throw e.getCause() instanceof ConnectionLost c ? c : new ConnectionLost(String.valueOf(e.getCause()));
            }
        }
    }

    @Override
    public SyscallResult call(String process, Syscall call) {
        Connection c = connections.computeIfAbsent(process, p -> {
            try {
                return new Connection(p);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectionLost("interrupted while connecting");
            } catch (RuntimeException e) {
                throw new ConnectionLost("cannot connect to " + host + ":" + port + ": " + e.getMessage());
            }
        });
        SyscallResult r = c.call(call);
        if (call.hasExit()) {
            connections.remove(process);
            c.channel.close();
        }
        return r;
    }

    @Override
    public void close() {
        for (Connection c : connections.values()) {
            c.channel.close().syncUninterruptibly();
        }
        connections.clear();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
