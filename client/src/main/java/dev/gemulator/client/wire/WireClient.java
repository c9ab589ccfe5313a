package dev.gemulator.client.wire;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.ServerMode;
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
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.handler.codec.MessageToMessageDecoder;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client process's connection to a server, the wire protocol's client
 * side (proto/gemulator/v1/wire.proto): Hello on connect, then requests
 * that any of the process's threads may send, each waiting for its own
 * reply (matched by request id), and the control questions of observers.
 * The library's {@link dev.gemulator.client.Gemulator} is built on it; the
 * emulator's command line and tests use it directly.
 */
public final class WireClient extends SimpleChannelInboundHandler<ServerMessage> implements AutoCloseable {
    /** The server refused or closed the connection, or cannot be reached. */
    public static final class ConnectionLost extends dev.gemulator.client.ConnectionLostException {
        /**
         * A lost connection.
         *
         * @param message what happened
         */
        public ConnectionLost(String message) {
            super(message);
        }
    }

    private final Channel channel;
    private final CompletableFuture<ServerMode> welcomed = new CompletableFuture<>();
    private volatile int iterations = 1;
    private volatile int joinIteration;
    private volatile int welcomedDuring;
    private final java.util.concurrent.BlockingQueue<Integer> again = new java.util.concurrent.LinkedBlockingQueue<>();
    private final java.util.concurrent.BlockingQueue<ServerMessage> control = new java.util.concurrent.LinkedBlockingQueue<>();
    private final Map<Long, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextRequest = new AtomicLong(1);
    private volatile String lost;

    /**
     * Connects and says Hello as {@code process}, without waiting for a
     * server that is not listening yet.
     *
     * @param group the event loop the connection runs on
     * @param host the server's address
     * @param port the server's port
     * @param process the process's name on the device
     * @param token the server's token, or null
     */
    public WireClient(EventLoopGroup group, String host, int port, String process, String token) {
        this(group, host, port, process, token, false);
    }

    /**
     * As above; an {@code observer} only asks for the run's status and trace
     * (it is no process of the device).
     *
     * @param group the event loop the connection runs on
     * @param host the server's address
     * @param port the server's port
     * @param process the name it says Hello with
     * @param token the server's token, or null
     * @param observer whether it is an observer
     */
    public WireClient(EventLoopGroup group, String host, int port, String process, String token, boolean observer) {
        this(group, host, port, process, token, observer, Duration.ZERO, m -> { });
    }

    /**
     * Connects, trying again while nothing listens on {@code host:port} yet
     * (a client started together with its server) for up to
     * {@code retryFor}, and says Hello. The first failed attempt is told to
     * {@code notice} in one line; when the time is up the constructor throws
     * a {@link ConnectionLost} that says how long it tried.
     *
     * @param group the event loop the connection runs on
     * @param host the server's address
     * @param port the server's port
     * @param process the name it says Hello with
     * @param token the server's token, or null
     * @param observer whether it is an observer
     * @param retryFor how long to keep trying to connect (zero: once)
     * @param notice told once, in one line, that the client is waiting for the server
     */
    public WireClient(EventLoopGroup group, String host, int port, String process, String token, boolean observer,
            Duration retryFor, Consumer<String> notice) {
        this.channel = connect(group, host, port, retryFor, notice);
        channel.writeAndFlush(ClientMessage.newBuilder().setHello(Hello.newBuilder()
                .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                .setToken(token == null ? "" : token).setObserver(observer)).build());
    }

    private Channel connect(EventLoopGroup group, String host, int port, Duration retryFor, Consumer<String> notice) {
        if (port < 1 || port > 65535) {
            throw new ConnectionLost("cannot connect to " + host + ":" + port + ": a port is 1 to 65535");
        }
        WireClient self = this;
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(new LengthFieldBasedFrameDecoder(64 << 20, 0, 4, 0, 4, true))
                                .addLast(new LengthFieldPrepender(4))
                                .addLast(new Decoder())
                                .addLast(new Encoder())
                                .addLast(self.new Inbound());
                    }
                });
        long deadline = System.nanoTime() + retryFor.toNanos();
        long pause = 50;
        boolean told = false;
        while (true) {
            Throwable why;
            try {
                return b.connect(host, port).sync().channel();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectionLost("interrupted while connecting to " + host + ":" + port);
            } catch (Exception e) { // Netty rethrows the socket's checked exceptions without declaring them
                why = e;
            }
            String reason = reason(why);
            boolean refused = why instanceof java.net.ConnectException;
            if (!refused || System.nanoTime() >= deadline) {
                throw new ConnectionLost("cannot connect to " + host + ":" + port + ": " + reason
                        + (refused && !retryFor.isZero() ? " (tried for " + retryFor.toSeconds() + " s)" : "")
                        + (refused ? "; is a server running there (./gemulator serve)?" : ""));
            }
            if (!told) {
                notice.accept("no server at " + host + ":" + port + " yet (" + reason + "); trying again for up to "
                        + retryFor.toSeconds() + " s");
                told = true;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectionLost("interrupted while waiting for " + host + ":" + port);
            }
            pause = Math.min(500, pause * 2);
        }
    }

    /** A socket error in a few words: "connection refused", "unknown host nosuchhost". */
    private static String reason(Throwable e) {
        if (e instanceof java.net.UnknownHostException) {
            return "unknown host " + e.getMessage();
        }
        if (e instanceof java.net.ConnectException) {
            String m = String.valueOf(e.getMessage());
            int colon = m.indexOf(':');
            return (colon > 0 ? m.substring(0, colon) : m).toLowerCase(java.util.Locale.ROOT);
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** Hands a connection's messages and events to this client (one per attempt to connect: not shared). */
    private final class Inbound extends SimpleChannelInboundHandler<ServerMessage> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ServerMessage msg) {
            WireClient.this.channelRead0(ctx, msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            WireClient.this.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            WireClient.this.exceptionCaught(ctx, cause);
        }
    }

    /** Frames in: one ServerMessage each. */
    private static final class Decoder extends MessageToMessageDecoder<io.netty.buffer.ByteBuf> {
        @Override
        protected void decode(ChannelHandlerContext ctx, io.netty.buffer.ByteBuf frame, List<Object> out) throws IOException {
            out.add(ServerMessage.parseFrom(new ByteBufInputStream(frame)));
        }
    }

    /** Frames out: one ClientMessage each. */
    private static final class Encoder extends MessageToByteEncoder<ClientMessage> {
        @Override
        protected void encode(ChannelHandlerContext ctx, ClientMessage msg, io.netty.buffer.ByteBuf out) throws IOException {
            msg.writeTo(new ByteBufOutputStream(out));
        }
    }

    /**
     * Waits for the server's Welcome.
     *
     * @return the server's mode: free-running or lockstep
     * @throws ConnectionLost when it refused the Hello or went away
     */
    public ServerMode mode() {
        return await(welcomed);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ServerMessage msg) {
        switch (msg.getMessageCase()) {
            case WELCOME -> {
                iterations = Math.max(1, msg.getWelcome().getIterations());
                joinIteration = msg.getWelcome().getJoinIteration();
                welcomedDuring = msg.getWelcome().getIteration();
                welcomed.complete(msg.getWelcome().getServerMode());
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
        fail("the server closed the connection");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail("connection error: " + cause.getMessage());
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

    /**
     * How many iterations the server's lockstep run has.
     *
     * @return the count, 1 for a single run
     */
    public int iterations() {
        mode();
        return iterations;
    }

    /**
     * Lockstep: the first iteration this process takes part in (0 for a run
     * that waits for it from the start; a later one for a client that comes
     * back after its process was gone, which waits for that iteration's Again).
     *
     * @return the iteration, from the Welcome
     */
    public int joinIteration() {
        mode();
        return joinIteration;
    }

    /**
     * Lockstep: the iteration under way when the server welcomed this client.
     *
     * @return the iteration, from the Welcome
     */
    public int welcomedDuring() {
        mode();
        return welcomedDuring;
    }

    /**
     * Waits for the next iteration's Again.
     *
     * @return the iteration, -1 when the connection is gone
     */
    public int awaitAgain() {
        try {
            return again.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * Tells the server a new thread of the process starts.
     *
     * @param threadId the id its requests will carry
     * @param name lockstep: its scenario name ("A.t1"); free-running: any name for traces
     */
    public void threadStart(int threadId, String name) {
        mode();
        channel.writeAndFlush(ClientMessage.newBuilder().setThreadStart(dev.gemulator.proto.v1.ThreadStart.newBuilder()
                .setThreadId(threadId).setName(name)).build());
    }

    /**
     * Tells the server a thread of the process ended.
     *
     * @param threadId its id
     * @param iteration lockstep: the iteration it ran in
     */
    public void threadExit(int threadId, int iteration) {
        mode();
        channel.writeAndFlush(ClientMessage.newBuilder().setThreadExit(dev.gemulator.proto.v1.ThreadExit.newBuilder()
                .setThreadId(threadId).setIteration(iteration)).build());
    }

    /**
     * Asks the server how the run is going (one control question at a time).
     *
     * @return the run's status
     */
    public synchronized dev.gemulator.proto.v1.RunStatus status() {
        return control(ClientMessage.newBuilder().setStatus(dev.gemulator.proto.v1.StatusRequest.getDefaultInstance())
                .build()).getStatus();
    }

    /**
     * Asks for the device's debugfs views.
     *
     * @return clients, gem_names, bufinfo and the object counts, as text
     */
    public synchronized String debugfs() {
        return control(ClientMessage.newBuilder().setDebugfs(dev.gemulator.proto.v1.DebugfsRequest.getDefaultInstance())
                .build()).getDebugfs().getText();
    }

    /**
     * Fetches the trace of the last finished lockstep iteration.
     *
     * @return length-delimited trace records, empty when none has finished
     */
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

    /**
     * Sends a request and waits for its reply.
     *
     * @param request the request (its id is filled in)
     * @return the reply
     * @throws ConnectionLost when the connection is gone
     */
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

    /** Closes the connection (the server takes it as the process's exit). */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
