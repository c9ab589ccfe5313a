package dev.gemulator.server;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMessage;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client process's connection to a server: Hello on connect, then
 * requests that any of the process's threads may send, each waiting for its
 * own reply (matched by request id).
 */
public final class WireClient extends SimpleChannelInboundHandler<ServerMessage> implements AutoCloseable {
    /** The server refused or closed the connection. */
    public static final class ConnectionLost extends RuntimeException {
        public ConnectionLost(String message) {
            super(message);
        }
    }

    private final Channel channel;
    private final CompletableFuture<String> welcomed = new CompletableFuture<>();
    private volatile int iterations = 1;
    private volatile int joinIteration;
    private volatile int welcomedDuring;
    private final java.util.concurrent.BlockingQueue<Integer> again = new java.util.concurrent.LinkedBlockingQueue<>();
    private final java.util.concurrent.BlockingQueue<ServerMessage> control = new java.util.concurrent.LinkedBlockingQueue<>();
    private final Map<Long, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextRequest = new AtomicLong(1);
    private volatile String lost;

    /** Connects and says Hello as {@code process}; returns once welcomed (the mode the server runs in). */
    public WireClient(EventLoopGroup group, String host, int port, String process, String token) {
        this(group, host, port, process, token, false);
    }

    /** As above; an {@code observer} only asks for the run's status and trace (it is no process of the device). */
    public WireClient(EventLoopGroup group, String host, int port, String process, String token, boolean observer) {
        WireClient self = this;
        try {
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
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionLost("interrupted while connecting");
        } catch (Exception e) { // Netty rethrows a refused connection as it is, checked or not
            throw new ConnectionLost("cannot connect to " + host + ":" + port + ": " + e.getMessage());
        }
        channel.writeAndFlush(ClientMessage.newBuilder().setHello(Hello.newBuilder()
                .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                .setToken(token == null ? "" : token).setObserver(observer)).build());
    }

    /** The server's mode ("free", "lockstep"), once it welcomed us. */
    public String mode() {
        return await(welcomed);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ServerMessage msg) {
        switch (msg.getMessageCase()) {
            case WELCOME -> {
                iterations = Math.max(1, msg.getWelcome().getIterations());
                joinIteration = msg.getWelcome().getJoinIteration();
                welcomedDuring = msg.getWelcome().getIteration();
                welcomed.complete(msg.getWelcome().getMode());
            }
            case AGAIN -> again.add(msg.getAgain().getIteration());
            case STATUS -> control.add(msg);
            case TRACE -> control.add(msg);
            case DEBUGFS -> control.add(msg);
            case REPLY -> {
                CompletableFuture<Reply> f = pending.remove(msg.getReply().getRequestId());
                if (f != null) {
                    f.complete(msg.getReply());
                }
            }
            case REFUSAL -> fail("refused: " + msg.getRefusal().getReason());
            case MESSAGE_NOT_SET -> fail("an empty message from the server");
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
        again.add(-1);
        ConnectionLost e = new ConnectionLost(lost);
        welcomed.completeExceptionally(e);
        pending.values().forEach(f -> f.completeExceptionally(e));
        pending.clear();
    }

    /** How many iterations the server's lockstep run has (1 for a single run). */
    public int iterations() {
        mode();
        return iterations;
    }

    /**
     * Lockstep: the first iteration this process takes part in (0 for a run
     * that waits for it from the start; later for a client that came back).
     */
    public int joinIteration() {
        mode();
        return joinIteration;
    }

    /** Lockstep: the iteration under way when the server welcomed us. */
    public int welcomedDuring() {
        mode();
        return welcomedDuring;
    }

    /** Waits for the next iteration's Again; -1 when the connection is gone. */
    public int awaitAgain() {
        try {
            return again.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Tells the server a new thread of the process starts, with this id (and, lockstep, its scenario name). */
    public void threadStart(int threadId, String name) {
        mode();
        channel.writeAndFlush(ClientMessage.newBuilder().setThreadStart(dev.gemulator.proto.v1.ThreadStart.newBuilder()
                .setThreadId(threadId).setName(name)).build());
    }

    /** Tells the server a thread of the process ended (lockstep: in iteration {@code iteration}). */
    public void threadExit(int threadId, int iteration) {
        mode();
        channel.writeAndFlush(ClientMessage.newBuilder().setThreadExit(dev.gemulator.proto.v1.ThreadExit.newBuilder()
                .setThreadId(threadId).setIteration(iteration)).build());
    }

    /** Asks the server how the run is going (one control question at a time). */
    public synchronized dev.gemulator.proto.v1.RunStatus status() {
        return control(ClientMessage.newBuilder().setStatus(dev.gemulator.proto.v1.StatusRequest.getDefaultInstance())
                .build()).getStatus();
    }

    /** The device's debugfs views (clients, gem_names, bufinfo, object counts). */
    public synchronized String debugfs() {
        return control(ClientMessage.newBuilder().setDebugfs(dev.gemulator.proto.v1.DebugfsRequest.getDefaultInstance())
                .build()).getDebugfs().getText();
    }

    /** Fetches the trace of the last finished lockstep iteration (length-delimited records). */
    public synchronized byte[] fetchTrace() {
        return control(ClientMessage.newBuilder().setFetchTrace(dev.gemulator.proto.v1.TraceRequestMessage
                .getDefaultInstance()).build()).getTrace().getRecords().toByteArray();
    }

    private ServerMessage control(ClientMessage question) {
        mode();
        channel.writeAndFlush(question);
        try {
            ServerMessage m = control.poll(30, java.util.concurrent.TimeUnit.SECONDS);
            if (m == null) {
                throw new ConnectionLost(lost != null ? lost : "no answer from the server");
            }
            return m;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionLost("interrupted");
        }
    }

    /** Sends a request (its id is filled in) and waits for the reply. */
    public Reply call(Request.Builder request) {
        mode();
        long id = nextRequest.getAndIncrement();
        CompletableFuture<Reply> f = new CompletableFuture<>();
        pending.put(id, f);
        if (lost != null) {
            pending.remove(id);
            throw new ConnectionLost(lost);
        }
        channel.writeAndFlush(ClientMessage.newBuilder().setRequest(request.setRequestId(id)).build());
        return await(f);
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionLost("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof ConnectionLost c ? c : new ConnectionLost(String.valueOf(e.getCause()));
        }
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
