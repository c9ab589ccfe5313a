package dev.gemulator.server;

import dev.gemulator.kernel.uapi.Ioctl;

import static dev.gemulator.server.WireCalls.call;
import static dev.gemulator.server.WireCalls.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.Close;
import dev.gemulator.proto.v1.Exit;
import dev.gemulator.proto.v1.Mmap;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Read;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.transport.GemulatorServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection acts only as its own process: a second connection of the
 * same name is refused, a token is checked, and another process's fd,
 * handle and mapping numbers mean nothing in the caller's own tables.
 */
class AccessTest {
    private GemulatorServer server;
    private EventLoopGroup group;

    @BeforeEach
    void start() throws Exception {
        server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, "s3cret", 64);
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void stop() {
        server.close();
        group.shutdownGracefully();
    }

    private WireClient connect(String process) {
        return new WireClient(group, "127.0.0.1", server.port(), process, "s3cret");
    }

    private static void fails(Errno errno, WireClient w, Syscall.Builder call) {
        SyscallResult r = call(w, call);
        assertEquals(errno.number(), r.getErrno(), "wanted " + errno + ", got " + r.getErrno() + " " + r.getMessage());
        assertTrue(!r.getMessage().isEmpty(), "an error comes with a message");
    }

    @Test
    void aWrongTokenAndASecondConnectionOfTheSameProcessAreRefused() {
        var wrong = new WireClient(group, "127.0.0.1", server.port(), "A", "guess");
        assertTrue(assertThrows(WireClient.ConnectionLost.class, wrong::mode).getMessage().contains("wrong token"));
        try (WireClient a = connect("A")) {
            ok(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            WireClient again = connect("A");
            assertTrue(assertThrows(WireClient.ConnectionLost.class, again::mode).getMessage()
                    .contains("process A is already connected"));
            assertEquals(3, ok(a, Syscall.newBuilder().setDup(dev.gemulator.proto.v1.Dup.newBuilder().setFd(3))) - 1,
                    "the first connection carries on");
        }
    }

    @Test
    void anotherProcesssNumbersMeanNothingInTheCallersOwnTables() {
        try (WireClient a = connect("A"); WireClient b = connect("B")) {
            int fd = (int) ok(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            int handle = (int) ok(a, WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(16, 16, 32, 0)));
            int dmabuf = (int) ok(a, WireIoctl.syscall(fd, new Ioctl.PrimeHandleToFd(handle, 0)));
            long offset = ok(a, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb(handle)));
            long map = ok(a, Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(fd).setOffset(offset).setLength(4096)));

            // B has no fds yet: A's numbers are not B's
            fails(Errno.EBADF, b, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb(handle)));
            fails(Errno.EBADF, b, Syscall.newBuilder().setClose(Close.newBuilder().setFd(dmabuf)));
            fails(Errno.EBADF, b, Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(dmabuf).setLength(4096)));
            // B's own drm file has no handles: A's handle is not in it
            assertEquals(fd, ok(b, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            fails(Errno.EINVAL, b, WireIoctl.syscall(fd, new Ioctl.GemClose(handle)));
            fails(Errno.ENOENT, b, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb(handle)));
            fails(Errno.ENOENT, b, WireIoctl.syscall(fd, new Ioctl.GemFlink(handle)));
            fails(Errno.EBADF, b, WireIoctl.syscall(fd, new Ioctl.PrimeFdToHandle(dmabuf)));
            // nor is A's mapping B's memory
            SyscallResult read = call(b, Syscall.newBuilder().setRead(Read.newBuilder().setMap(map).setLength(4)));
            assertTrue(read.getErrno() != 0, "B cannot read A's mapping");
            // A still has all of it
            ok(a, Syscall.newBuilder().setRead(Read.newBuilder().setMap(map).setLength(4)));
            ok(a, WireIoctl.syscall(fd, new Ioctl.GemClose(handle)));
        }
    }

    @Test
    void afterItsExitCallAConnectionIsNoProcessAndTheNameMayConnectAgainAsANewOne() {
        try (WireClient a = connect("A")) {
            assertEquals(3, ok(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            ok(a, Syscall.newBuilder().setExit(Exit.getDefaultInstance()));
            fails(Errno.ESRCH, a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            try (WireClient again = connect("A")) {
                assertEquals(3, ok(again, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))),
                        "a new process: its first fd is 3 again");
            }
        }
    }
}
