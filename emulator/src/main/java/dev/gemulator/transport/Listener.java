package dev.gemulator.transport;

import dev.gemulator.server.unix.Peer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The bootstrap: one listening socket, TCP or a Unix domain socket, whose
 * connections get the pipeline of a {@link WireInitializer}. TCP goes through
 * Java's NIO (whose socket errors, such as an address in use, are the JDK's
 * that the command line reports); the Unix socket through Linux's epoll where
 * Netty's native library loads, and beside TCP it knows who connected (SO_PEERCRED, kept
 * on the channel as {@link Peer#CREDENTIALS}) and can pass file descriptors
 * (SCM_RIGHTS, server/unix/FdPassing), which a program behind the C shim
 * needs. Each listener has its own event loops, stopped when it closes.
 */
public final class Listener implements AutoCloseable {
    /**
     * The connections' buffers, whichever transport: unpooled direct memory,
     * so that what a connection held (a partial frame of a megabyte) goes
     * back to the system when it closes instead of staying in a pool.
     */
    static final UnpooledByteBufAllocator ALLOCATOR = new UnpooledByteBufAllocator(true);

    private final Channel channel;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ChannelGroup connections;
    private final Path path;

    private Listener(Channel channel, EventLoopGroup boss, EventLoopGroup workers, ChannelGroup connections, Path path) {
        this.channel = channel;
        this.boss = boss;
        this.workers = workers;
        this.connections = connections;
        this.path = path;
    }

    /** Whether this machine has the native transport (Linux with the epoll library loaded). */
    public static boolean unixAvailable() {
        return Epoll.isAvailable();
    }

    /** Why the native transport cannot be used here, or null. */
    public static String unixUnavailabilityCause() {
        Throwable t = Epoll.unavailabilityCause();
        return t == null ? null : t.toString();
    }

    /** Listens on {@code host:port} (port 0: any free port). */
    public static Listener tcp(String host, int port, ChannelInitializer<Channel> pipeline) throws InterruptedException {
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        try {
            Channel ch = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                    .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            connections.add(c);
                            c.pipeline().addLast("protocol", pipeline);
                        }
                    })
                    .bind(new InetSocketAddress(host, port)).sync().channel();
            return new Listener(ch, boss, workers, connections, null);
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * Listens on the Unix domain socket {@code path} (a socket file left
     * over from an earlier server is replaced).
     */
    public static Listener unix(Path path, ChannelInitializer<Channel> pipeline) throws InterruptedException {
        if (!unixAvailable()) {
            throw new IllegalStateException("the Unix socket transport needs Linux's epoll: " + unixUnavailabilityCause());
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replace " + path + ": " + e.getMessage(), e);
        }
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        try {
            Channel ch = new ServerBootstrap().group(boss, workers).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                        @Override
                        protected void initChannel(EpollDomainSocketChannel c) {
                            connections.add(c);
                            c.pipeline().addLast("peer", new PeerCredentialsHandler()).addLast("protocol", pipeline);
                        }
                    })
                    .bind(new DomainSocketAddress(path.toFile())).sync().channel();
            try {
                // programs behind the C shim that dropped root (setuid) connect their new threads too;
                // a server that wants to choose its clients has --token
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
            } catch (IOException e) {
                // a file system without permissions: as it is
            }
            return new Listener(ch, boss, workers, connections, path);
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Reads SO_PEERCRED once, when the connection opens. */
    private static final class PeerCredentialsHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            try {
                ctx.channel().attr(Peer.CREDENTIALS).set(((EpollDomainSocketChannel) ctx.channel()).peerCredentials());
            } catch (IOException e) {
                ctx.close();
                return;
            }
            ctx.pipeline().remove(this);
            super.channelActive(ctx);
        }
    }

    /** The TCP port listened on. */
    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The Unix socket's path, or null for TCP. */
    public Path path() {
        return path;
    }

    /** The open connections (on a Unix socket, each with its {@link Peer#CREDENTIALS}). */
    public Collection<Channel> connections() {
        return List.copyOf(connections);
    }

    /** Direct memory the connections of every listener hold now (partial frames, replies not yet sent). */
    public static long bufferBytes() {
        return ALLOCATOR.metric().usedDirectMemory();
    }

    /** Stops taking connections; those open stay (until {@link #close}). */
    public void stopListening() {
        channel.close();
    }

    /** Stops listening, closes the connections, and removes the socket file of a Unix socket. */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                // the directory went away with it
            }
        }
    }
}
