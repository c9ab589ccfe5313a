package dev.gemulator.server.seeded;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.server.unix.UnixServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The seeded server: client processes connect over TCP (and a Unix socket)
 * with the same framing and messages as the free-running server, and their
 * system calls run in the current {@link SeededRun}. Runs follow each other
 * ({@link #next}): the persistent clients of one run (Hello.iterates) that
 * exited cleanly join the next one and are told so with Again; every other
 * client connects anew (a relaunched program).
 */
public final class SeededServer implements AutoCloseable {
    private final String token;
    private final int maxClients;
    private final PrintStream log;
    private final Channel channel;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Set<SeededConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connected = new AtomicInteger();
    private final Pipeline pipeline;
    private volatile SeededRun current;
    private volatile int iteration = -1;
    private volatile UnixServer unix;

    private SeededServer(String token, int maxClients, PrintStream log, Channel channel, EventLoopGroup boss,
            EventLoopGroup workers, Pipeline pipeline) {
        this.token = token;
        this.maxClients = maxClients;
        this.log = log;
        this.channel = channel;
        this.boss = boss;
        this.workers = workers;
        this.pipeline = pipeline;
        pipeline.server = this;
    }

    /** Listens on {@code host:port} (0: any free port); no run yet ({@link #next} makes one). */
    public static SeededServer start(String host, int port, String token, int maxFrameBytes, int maxClients,
            PrintStream log) throws InterruptedException {
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        Pipeline pipeline = new Pipeline(maxFrameBytes);
        try {
            Channel ch = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(pipeline)
                    .bind(new InetSocketAddress(host, port)).sync().channel();
            return new SeededServer(token, maxClients, log, ch, boss, workers, pipeline);
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The pipeline of one connection: 4-byte big-endian length, protobuf message, then the connection. */
    private static final class Pipeline extends ChannelInitializer<Channel> {
        private final int maxFrameBytes;
        private volatile SeededServer server;

        Pipeline(int maxFrameBytes) {
            this.maxFrameBytes = maxFrameBytes;
        }

        @Override
        protected void initChannel(Channel ch) {
            SeededServer s = server;
            ch.pipeline()
                    .addLast("frames", new LengthFieldBasedFrameDecoder(maxFrameBytes, 0, 4, 0, 4, true))
                    .addLast("length", new LengthFieldPrepender(4))
                    .addLast("decode", new ProtobufDecoder(ClientMessage.getDefaultInstance()))
                    .addLast("encode", new ProtobufEncoder());
            if (s == null || s.connected.incrementAndGet() > s.maxClients) {
                if (s != null) {
                    s.connected.decrementAndGet();
                }
                ch.writeAndFlush(SeededConnection.refusal("the server has its maximum of "
                        + (s == null ? 0 : s.maxClients) + " connections"))
                        .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
                return;
            }
            ch.closeFuture().addListener(f -> s.connected.decrementAndGet());
            SeededConnection c = new SeededConnection(s);
            ch.pipeline().addLast("connection", c);
        }
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Serves the same runs on a Unix domain socket at {@code path} too (the C shim's transport). */
    public UnixServer listenUnix(Path path) throws InterruptedException {
        // ready before the socket exists (programs behind the C shim connect the moment it appears)
        anchors = dev.gemulator.server.shim.Anchors.listen(path.resolveSibling(path.getFileName() + ".anchors"),
                ino -> { }); // a seeded run looks at its anchors at deterministic points (close, exit), never from here
        shmem = dev.gemulator.server.shim.TmpfsShmem.fresh();
        tree = dev.gemulator.server.shim.DeviceTree.make(path.resolveSibling(path.getFileName() + ".root"));
        UnixServer u = UnixServer.start(path, pipeline);
        unix = u;
        return u;
    }

    private volatile dev.gemulator.server.shim.Anchors anchors;
    private volatile dev.gemulator.server.shim.TmpfsShmem shmem;
    private volatile dev.gemulator.server.shim.DeviceTree tree;

    /** Where the emulated files of programs behind the C shim anchor, or null without a Unix socket. */
    dev.gemulator.server.shim.Anchors anchors() {
        return anchors;
    }

    /** The device tree programs behind the C shim see, or null without a Unix socket. */
    Path treePath() {
        return tree == null ? null : tree.root();
    }

    String token() {
        return token;
    }

    PrintStream log() {
        return log;
    }

    void add(SeededConnection c) {
        connections.add(c);
    }

    void remove(SeededConnection c) {
        connections.remove(c);
    }

    /** The run new connections join, or null before the first {@link #next}. */
    public SeededRun current() {
        return current;
    }

    /** The index of the current run (0 for the first). */
    public int iteration() {
        return iteration;
    }

    /**
     * Makes the next run current. The persistent clients of the previous
     * one join it (each gets Again with its seed); a client still waiting
     * for a reply of a run that ended without answering it is disconnected.
     */
    public synchronized SeededRun next(SeededRun.Config config) {
        SeededRun run = new SeededRun(config, log);
        if (anchors != null) {
            run.hostFiles(anchors, shmem, tree);
        }
        int it = ++iteration;
        current = run;
        run.finished().whenComplete((r, t) -> connections.forEach(c -> c.runEnded(run)));
        for (SeededConnection c : connections) {
            c.again(run, it);
        }
        return run;
    }

    /** The processes connected as persistent clients ready for the next run (they exited the last one cleanly). */
    public Set<String> persistentProcesses() {
        Set<String> out = new java.util.TreeSet<>();
        for (SeededConnection c : connections) {
            String p = c.persistentProcess();
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    /** Whether process {@code name} is connected as a persistent client (it said Hello.iterates). */
    public boolean iterating(String name) {
        for (SeededConnection c : connections) {
            if (c.iterating(name)) {
                return true;
            }
        }
        return false;
    }

    /** Stops listening, closes every connection and stops the current run. */
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        SeededRun run = current;
        if (run != null) {
            run.abort("the server stops");
        }
        channel.close().syncUninterruptibly();
        if (unix != null) {
            unix.close();
        }
        if (anchors != null) {
            anchors.close();
            shmem.close();
            tree.delete();
        }
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
