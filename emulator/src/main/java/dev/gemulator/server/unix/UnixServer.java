package dev.gemulator.server.unix;

import dev.gemulator.server.ServerInitializer;
import dev.gemulator.server.Simulation;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The local transport: the same protocol as the TCP port (the same pipeline
 * and connection handler, the same simulation) on a Unix domain socket,
 * through Netty's native epoll transport. Beside TCP it knows who connected
 * (SO_PEERCRED: the real pid, uid and gid of the client process, kept on the
 * channel as {@link #PEER}) and can pass file descriptors to the client
 * (SCM_RIGHTS, {@link FdPassing}), which a program behind the C shim needs.
 */
public final class UnixServer implements AutoCloseable {
    /** The connected process's credentials (SO_PEERCRED), set when the connection opens. */
    public static final AttributeKey<PeerCredentials> PEER = AttributeKey.valueOf("gemulator.peer");

    private final Path path;
    private final Channel channel;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;

    private final io.netty.channel.group.ChannelGroup connections;

    private UnixServer(Path path, Channel channel, EventLoopGroup boss, EventLoopGroup workers,
            io.netty.channel.group.ChannelGroup connections) {
        this.connections = connections;
        this.path = path;
        this.channel = channel;
        this.boss = boss;
        this.workers = workers;
    }

    /** Whether this machine has the native transport (Linux with the epoll library loaded). */
    public static boolean available() {
        return Epoll.isAvailable();
    }

    /** Why the native transport cannot be used here, or null. */
    public static String unavailabilityCause() {
        Throwable t = Epoll.unavailabilityCause();
        return t == null ? null : t.toString();
    }

    /**
     * Listens on {@code path} for {@code simulation}'s clients (the socket
     * file is replaced if one is left over from an earlier server).
     */
    public static UnixServer start(Path path, Simulation simulation, int maxFrameBytes, String token)
            throws InterruptedException {
        return start(path, new ServerInitializer(simulation, maxFrameBytes, token));
    }

    /** Listens on {@code path} with a pipeline shared with another transport (the TCP server's, a seeded server's). */
    public static UnixServer start(Path path, ChannelInitializer<Channel> pipeline) throws InterruptedException {
        if (!available()) {
            throw new IllegalStateException("the Unix socket transport needs Linux's epoll: " + unavailabilityCause());
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replace " + path + ": " + e.getMessage(), e);
        }
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
        io.netty.channel.group.ChannelGroup connections =
                new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
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
                Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
            } catch (IOException e) {
                // a file system without permissions: as it is
            }
            return new UnixServer(path, ch, boss, workers, connections);
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
                ctx.channel().attr(PEER).set(((EpollDomainSocketChannel) ctx.channel()).peerCredentials());
            } catch (IOException e) {
                ctx.close();
                return;
            }
            ctx.pipeline().remove(this);
            super.channelActive(ctx);
        }
    }

    /** The open connections (each with its {@link #PEER} credentials). */
    public java.util.Collection<Channel> connections() {
        return java.util.List.copyOf(connections);
    }

    public Path path() {
        return path;
    }

    /** Closes the socket and its connections and removes the socket file (the simulation is the caller's). */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // the directory went away with it
        }
    }
}
