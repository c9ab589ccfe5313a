package dev.gemulator.server.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.server.WireIoctl;
import dev.gemulator.transport.GemulatorServer;
import dev.gemulator.transport.Listener;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Unix domain socket beside TCP: the same protocol, who connected, and descriptors passed. */
class UnixTransportTest {
    @TempDir
    Path dir;

    /** A blocking client on the socket (Java's own AF_UNIX channel), speaking the length-prefixed frames. */
    private static final class Client implements AutoCloseable {
        private final SocketChannel ch;
        private final DataOutputStream out;
        private final DataInputStream in;

        Client(Path socket) throws IOException {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            out = new DataOutputStream(Channels.newOutputStream(ch));
            in = new DataInputStream(Channels.newInputStream(ch));
        }

        ServerMessage send(ClientMessage m) throws IOException {
            byte[] b = m.toByteArray();
            out.writeInt(b.length);
            out.write(b);
            out.flush();
            byte[] r = new byte[in.readInt()];
            in.readFully(r);
            return ServerMessage.parseFrom(r);
        }

        ServerMessage hello(String process) throws IOException {
            return send(ClientMessage.newBuilder().setHello(Hello.newBuilder()
                    .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)).build());
        }

        ServerMessage call(Syscall.Builder call) throws IOException {
            return send(ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(7).setCall(call)).build());
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    @Test
    void theSocketServesTheSameProtocolAndKnowsWhoConnected() throws Exception {
        assertTrue(Listener.unixAvailable(), "epoll: " + Listener.unixUnavailabilityCause());
        Path socket = dir.resolve("gemulator.sock");
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 64)) {
            Listener unix = server.listenUnix(socket);
            try (Client a = new Client(socket)) {
                assertTrue(a.hello("A").hasWelcome());
                ServerMessage open = a.call(Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
                assertEquals(3, open.getReply().getResult().getValues(0));
                ServerMessage dumb = a.call(WireIoctl.syscall(3, new Ioctl.ModeCreateDumb(64, 64, 32, 0)));
                assertEquals(java.util.List.of(1L, 256L, 16384L), dumb.getReply().getResult().getValuesList());
                // the connection's process is real: SO_PEERCRED names this JVM
                var peer = unix.connections().iterator().next().attr(Peer.CREDENTIALS).get();
                assertEquals(ProcessHandle.current().pid(), peer.pid());
                // one connection per process, whichever transport it comes on
                var group = new MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
                try (var tcp = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", server.port(), "A", null)) {
                    RuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                            () -> tcp.call(Request.newBuilder().setCall(Syscall.newBuilder().setOpen(
                                    Open.newBuilder().setNode("card0")))));
                    assertTrue(String.valueOf(refused.getMessage()).contains("already connected"), refused.toString());
                } finally {
                    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                }
            }
        }
        assertTrue(!Files.exists(socket), "the socket file goes with the server");
    }

    @Test
    void aDescriptorPassedOverTheSocketIsTheSameOpenFileAtTheOtherEnd() throws Exception {
        Path socket = dir.resolve("fds.sock");
        Path file = Files.writeString(dir.resolve("passed.txt"), "the same open file");
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 64)) {
            Listener unix = server.listenUnix(socket);
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            BlockingQueue<FileDescriptor> received = new ArrayBlockingQueue<>(1);
            try {
                Channel client = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                        .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                        .handler(new ChannelInitializer<EpollDomainSocketChannel>() {
                            @Override
                            protected void initChannel(EpollDomainSocketChannel c) {
                                c.pipeline().addLast(new SimpleChannelInboundHandler<FileDescriptor>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FileDescriptor fd) {
                                        received.add(fd);
                                    }
                                });
                            }
                        })
                        .connect(new DomainSocketAddress(socket.toFile())).sync().channel();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (unix.connections().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                Channel serverSide = unix.connections().iterator().next();
                FileDescriptor mine = FileDescriptor.from(file.toFile());
                try {
                    assertTrue(FdPassing.canPass(serverSide));
                    FdPassing.pass(serverSide, mine.intValue());
                    serverSide.flush();
                    FileDescriptor theirs = received.poll(10, TimeUnit.SECONDS);
                    assertTrue(theirs != null, "no descriptor arrived");
                    assertTrue(theirs.intValue() != mine.intValue(), "a new descriptor for the same file");
                    assertEquals(file.toRealPath(), Path.of("/proc/self/fd/" + theirs.intValue()).toRealPath());
                    theirs.close();
                } finally {
                    mine.close();
                }
                client.close().sync();
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
        }
    }
}
