package dev.gemulator.server;

import dev.gemulator.client.wire.WireClient;
import static dev.gemulator.server.WireCalls.call;
import static dev.gemulator.server.WireCalls.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.proto.v1.ChannelOpen;
import dev.gemulator.proto.v1.Close;
import dev.gemulator.proto.v1.Exit;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.RecvFd;
import dev.gemulator.proto.v1.SendFd;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.transport.GemulatorServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * fd passing with consent: a process receives fds only on a channel it
 * opened for the sender, when it asks to, under its own RLIMIT_NOFILE at
 * that time; what is in flight when the channel goes is dropped with it.
 */
@Tag("slow")
class FdPassingTest {
    private GemulatorServer server;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    private void serve(Limits limits) throws Exception {
        server = GemulatorServer.start("127.0.0.1", 0, new Simulation(Profile.MODERN, 64, null, System.err, limits),
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null);
    }

    private WireClient connect(String process) {
        WireClient w = new WireClient(group, "127.0.0.1", server.port(), process, null);
        w.mode();
        return w;
    }

    @AfterEach
    void stop() {
        server.close();
        group.shutdownGracefully();
    }

    private static Syscall.Builder open() {
        return Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"));
    }

    private static Syscall.Builder send(long fd, String to) {
        return Syscall.newBuilder().setSendFd(SendFd.newBuilder().setFd((int) fd).setToProcess(to));
    }

    private static Syscall.Builder channel(String peer) {
        return Syscall.newBuilder().setChannelOpen(ChannelOpen.newBuilder().setPeer(peer));
    }

    private static Syscall.Builder recv(long channel) {
        return Syscall.newBuilder().setRecvFd(RecvFd.newBuilder().setFd((int) channel));
    }

    private static Syscall.Builder close(long fd) {
        return Syscall.newBuilder().setClose(Close.newBuilder().setFd((int) fd));
    }

    /** A's new object exported as a dma-buf fd, its handle closed: the dma-buf alone keeps the object. */
    private static long dmaBuf(WireClient a, long fd) {
        long h = ok(a, WireIoctl.syscall((int) fd, new Ioctl.ModeCreateDumb(16, 16, 32, 0)));
        long d = ok(a, WireIoctl.syscall((int) fd, new Ioctl.PrimeHandleToFd((int) h, 0)));
        ok(a, WireIoctl.syscall((int) fd, new Ioctl.GemClose((int) h)));
        return d;
    }

    private int liveObjects() {
        return server.simulation().machine().device(0).liveObjects().count();
    }

    @Test
    void nobodyCanPutAnFdInAProcessThatOpenedNoChannelForThem() throws Exception {
        serve(Limits.DEFAULT);
        WireClient a = connect("A");
        WireClient victim = connect("V");
        long fd = ok(a, open());
        assertEquals(3, ok(victim, open()));
        for (int i = 0; i < 1020; i++) {
            SyscallResult r = call(a, send(fd, "V"));
            assertEquals(Errno.ENOTCONN.number(), r.getErrno());
            assertTrue(r.getMessage().contains("process V has no channel open for A"), r.getMessage());
        }
        assertEquals(4, ok(victim, open()), "the victim's fds are its own: nothing was pushed into its table");
        ok(victim, channel("B"));
        assertEquals(Errno.ENOTCONN.number(), call(a, send(fd, "V")).getErrno(), "a channel for B is none for A");
    }

    @Test
    void fdsWaitInTheChannelUntilTheReceiverTakesThemOldestFirst() throws Exception {
        serve(Limits.DEFAULT);
        WireClient a = connect("A");
        WireClient b = connect("B");
        long ch = ok(b, channel("A"));
        assertEquals(3, ch);
        long fd = ok(a, open());
        long d = dmaBuf(a, fd);
        assertEquals(1, ok(a, send(fd, "B")), "one fd in flight");
        assertEquals(2, ok(a, send(d, "B")), "two");
        assertEquals(4, ok(b, recv(ch)), "the drm fd first, at B's lowest free fd");
        long bd = ok(b, recv(ch));
        assertEquals(5, bd);
        assertEquals(Errno.EAGAIN.number(), call(b, recv(ch)).getErrno(), "nothing more in flight");
        assertEquals(Errno.ENOTSOCK.number(), call(b, recv(4)).getErrno(), "a drm fd is no channel");
        ok(a, close(d));
        assertEquals(1, liveObjects(), "B's received dma-buf keeps the object");
        ok(b, close(bd));
        assertEquals(0, liveObjects());
    }

    @Test
    void theReceiversFdLimitCountsWhenItReceivesAndAnFdThatDoesNotFitIsDropped() throws Exception {
        serve(new Limits(16, 5, 1 << 20, 64, 1024, 1024));
        WireClient a = connect("A");
        WireClient b = connect("B");
        long ch = ok(b, channel("A"));
        long fd = ok(a, open());
        long d = dmaBuf(a, fd);
        ok(a, send(d, "B"));
        assertEquals(4, ok(b, open()), "B fills its table (fds 0 to 4) after the send");
        ok(a, close(d));
        assertEquals(1, liveObjects(), "the fd in flight holds the dma-buf");
        SyscallResult full = call(b, recv(ch));
        assertEquals(Errno.EMFILE.number(), full.getErrno());
        assertTrue(full.getMessage().contains("the fd in flight is dropped"), full.getMessage());
        assertEquals(0, liveObjects(), "dropped: the dma-buf and its object are freed");
    }

    @Test
    void whatIsInFlightIsDroppedWithTheChannelWhetherClosedOrItsProcessExits() throws Exception {
        serve(Limits.DEFAULT);
        WireClient a = connect("A");
        WireClient b = connect("B");
        long fd = ok(a, open());
        long ch = ok(b, channel("A"));
        long d = dmaBuf(a, fd);
        ok(a, send(d, "B"));
        ok(a, send(d, "B"));
        ok(a, close(d));
        assertEquals(1, liveObjects());
        ok(b, close(ch));
        assertEquals(0, liveObjects(), "closing the channel dropped both fds in flight");

        WireClient c = connect("C");
        ok(c, channel("A"));
        long d2 = dmaBuf(a, fd);
        ok(a, send(d2, "C"));
        ok(a, close(d2));
        assertEquals(1, liveObjects());
        ok(c, Syscall.newBuilder().setExit(Exit.getDefaultInstance()));
        assertEquals(0, liveObjects(), "the receiver's exit closed its channel and dropped the fd in flight");
    }

    @Test
    void aChannelHoldsAtMost253FdsInFlight() throws Exception {
        serve(Limits.DEFAULT);
        WireClient a = connect("A");
        WireClient b = connect("B");
        long ch = ok(b, channel("A"));
        long fd = ok(a, open());
        for (int i = 1; i <= dev.gemulator.kernel.proc.FdChannel.MAX_IN_FLIGHT; i++) {
            assertEquals(i, ok(a, send(fd, "B")));
        }
        SyscallResult full = call(a, send(fd, "B"));
        assertEquals(Errno.EAGAIN.number(), full.getErrno(), full.getMessage());
        ok(b, recv(ch));
        assertEquals(dev.gemulator.kernel.proc.FdChannel.MAX_IN_FLIGHT, ok(a, send(fd, "B")), "a receive makes room");
    }
}
