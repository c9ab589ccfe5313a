package dev.gemulator.server;

import dev.gemulator.kernel.Profile;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The server: Netty accepts client processes on a TCP port (loopback unless
 * told otherwise) and one simulation thread owns the emulated machine.
 */
public final class GemulatorServer implements AutoCloseable {
    /** The largest frame accepted (a 1 MiB write plus the envelope). */
    public static final int DEFAULT_MAX_FRAME_BYTES = (1 << 20) + 4096;

    private final Simulation simulation;
    private final Channel channel;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;

    /** Starts a free-running server on {@code host:port} (port 0: any free port). */
    public static GemulatorServer start(String host, int port, Profile profile, int maxFrameBytes, String token,
            int inboxCapacity) throws InterruptedException {
        return start(host, port, new Simulation(profile, inboxCapacity), null, maxFrameBytes, token);
    }

    /** Starts a free-running server on a simulation of its own making (a traced one). */
    public static GemulatorServer start(String host, int port, Simulation simulation, int maxFrameBytes, String token)
            throws InterruptedException {
        return start(host, port, simulation, null, maxFrameBytes, token);
    }

    /** Starts a server for one lockstep run (already started). */
    public static GemulatorServer startLockstep(String host, int port, dev.gemulator.lockstep.LockstepRun run,
            int maxFrameBytes, String token) throws InterruptedException {
        return startLockstep(host, port, run, maxFrameBytes, token, Limits.DEFAULT);
    }

    /** As above, with a limit on connections ({@code limits.maxClients()}). */
    public static GemulatorServer startLockstep(String host, int port, dev.gemulator.lockstep.LockstepRun run,
            int maxFrameBytes, String token, Limits limits) throws InterruptedException {
        return start(host, port, new Simulation(Profile.MODERN, 1, null, System.err, limits), run, maxFrameBytes, token);
    }

    private static GemulatorServer start(String host, int port, Simulation sim, dev.gemulator.lockstep.LockstepRun run,
            int maxFrameBytes, String token) throws InterruptedException {
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        ServerInitializer initializer = new ServerInitializer(sim, run, maxFrameBytes, token);
        try {
            Channel ch = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                    .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
                    .childHandler(initializer)
                    .bind(new InetSocketAddress(host, port)).sync().channel();
            GemulatorServer server = new GemulatorServer(sim, ch, boss, workers, initializer, maxFrameBytes, token);
            sim.failure().thenAccept(t -> {
                // nothing can be answered any more: say why to everyone and stop listening
                ch.close();
                if (server.unix != null) {
                    server.unix.close();
                }
                initializer.closeAll("the server stopped: its simulation thread failed (" + t + ")");
            });
            return server;
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            sim.close();
            throw e;
        }
    }

    /**
     * The connections' buffers, whichever transport: unpooled direct memory,
     * so that what a connection held (a partial frame of a megabyte) goes
     * back to the system when it closes instead of staying in a pool.
     */
    static final io.netty.buffer.UnpooledByteBufAllocator ALLOCATOR = new io.netty.buffer.UnpooledByteBufAllocator(true);

    private final ServerInitializer initializer;
    private final int maxFrameBytes;
    private final String token;
    private volatile dev.gemulator.server.unix.UnixServer unix;

    private GemulatorServer(Simulation simulation, Channel channel, EventLoopGroup boss, EventLoopGroup workers,
            ServerInitializer initializer, int maxFrameBytes, String token) {
        this.initializer = initializer;
        this.maxFrameBytes = maxFrameBytes;
        this.token = token;
        this.simulation = simulation;
        this.channel = channel;
        this.bossGroup = boss;
        this.workerGroup = workers;
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /**
     * Serves the same clients on a Unix domain socket at {@code path} too
     * (server/unix): the same connections table (one connection per process,
     * whichever transport), the same simulation; it closes with the server.
     */
    public dev.gemulator.server.unix.UnixServer listenUnix(java.nio.file.Path path) throws InterruptedException {
        dev.gemulator.server.unix.UnixServer u = dev.gemulator.server.unix.UnixServer.start(path, initializer);
        unix = u;
        return u;
    }

    public Simulation simulation() {
        return simulation;
    }

    /** Connections open now, those that have not said Hello included. */
    public int connections() {
        return initializer.connections();
    }

    /** Direct memory the server's connections hold now (partial frames, replies not yet sent). */
    public static long bufferBytes() {
        return ALLOCATOR.metric().usedDirectMemory();
    }

    /** Closes the listening socket, then the connections, then finishes the queued work. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        channel.close().syncUninterruptibly();
        if (unix != null) {
            unix.close();
        }
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        simulation.close();
    }
}
