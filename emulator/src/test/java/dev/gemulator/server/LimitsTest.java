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
import dev.gemulator.proto.v1.Mmap;
import dev.gemulator.proto.v1.Munmap;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.Write;
import dev.gemulator.transport.GemulatorServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server's limits answer like the kernel (EMFILE, ENOMEM) or refuse with a reason. */
class LimitsTest {
    /** 16 pages, and one more page's worth for what indexes them. */
    private static final Limits SMALL = new Limits(3, 5, 17 * 4096, 2, 4, 3);
    private GemulatorServer server;
    private EventLoopGroup group;

    @BeforeEach
    void start() throws Exception {
        server = GemulatorServer.start("127.0.0.1", 0, new Simulation(Profile.MODERN, 64, null, System.err, SMALL),
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null);
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void stop() {
        server.close();
        group.shutdownGracefully();
    }

    @Test
    void connectionsBeyondTheMaximumAreRefusedWithAReason() {
        List<WireClient> three = new ArrayList<>();
        try {
            for (String p : List.of("A", "B", "C")) {
                three.add(new WireClient(group, "127.0.0.1", server.port(), p, null));
                three.getLast().mode();
            }
            WireClient fourth = new WireClient(group, "127.0.0.1", server.port(), "D", null);
            assertTrue(assertThrows(WireClient.ConnectionLost.class, fourth::mode).getMessage()
                    .contains("the server has its maximum of 3 connections"));
            three.removeFirst().close();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (true) { // the server sees the close a moment later
                try (WireClient again = new WireClient(group, "127.0.0.1", server.port(), "D", null)) {
                    again.mode();
                    break;
                } catch (WireClient.ConnectionLost e) {
                    assertTrue(System.nanoTime() < deadline, "a place came free: " + e.getMessage());
                }
            }
        } finally {
            three.forEach(WireClient::close);
        }
    }

    @Test
    void aProcessGetsEmfileAtItsFdLimit() {
        try (WireClient a = new WireClient(group, "127.0.0.1", server.port(), "A", null)) {
            assertEquals(3, ok(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            assertEquals(4, ok(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            SyscallResult r = call(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            assertEquals(Errno.EMFILE.number(), r.getErrno(), r.getMessage());
        }
    }

    @Test
    void writesThatNeedMoreThanTheDevicesMemoryGetEnomemAndFreedObjectsGiveItBack() {
        try (WireClient a = new WireClient(group, "127.0.0.1", server.port(), "A", null)) {
            int fd = (int) ok(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            int handle = (int) ok(a, WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(256, 128, 32, 0)));
            long offset = ok(a, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb(handle)));
            long map = ok(a, Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(fd).setOffset(offset).setLength(32 * 4096)));
            for (int page = 0; page < 16; page++) {
                ok(a, Syscall.newBuilder().setWrite(Write.newBuilder().setMap(map).setOffset(page * 4096L)
                        .setData(com.google.protobuf.ByteString.copyFrom(new byte[] {1}))));
            }
            SyscallResult full = call(a, Syscall.newBuilder().setWrite(Write.newBuilder().setMap(map).setOffset(16 * 4096L)
                    .setData(com.google.protobuf.ByteString.copyFrom(new byte[] {1}))));
            assertEquals(Errno.ENOMEM.number(), full.getErrno());
            assertTrue(full.getMessage().contains("memory limit of 69632 bytes is reached (65808 in use, 272 of them"
                    + " indexing pages)"), full.getMessage());
            ok(a, Syscall.newBuilder().setWrite(Write.newBuilder().setMap(map).setOffset(5)
                    .setData(com.google.protobuf.ByteString.copyFrom(new byte[] {2})))); // an existing page: no new memory
            ok(a, Syscall.newBuilder().setMunmap(Munmap.newBuilder().setMap(map)));
            ok(a, WireIoctl.syscall(fd, new Ioctl.GemClose(handle)));
            assertEquals(0, server.simulation().machine().device(0).residentBytes(), "the freed object gave its pages back");
            int second = (int) ok(a, WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(256, 128, 32, 0)));
            long off2 = ok(a, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb(second)));
            long map2 = ok(a, Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(fd).setOffset(off2).setLength(4096)));
            ok(a, Syscall.newBuilder().setWrite(Write.newBuilder().setMap(map2)
                    .setData(com.google.protobuf.ByteString.copyFrom(new byte[4096]))));
        }
    }

    @Test
    void aFileGetsEnospcAtItsHandleLimitAndTheDeviceEnomemAtItsObjectLimit() {
        try (WireClient a = new WireClient(group, "127.0.0.1", server.port(), "A", null);
                WireClient b = new WireClient(group, "127.0.0.1", server.port(), "B", null)) {
            Syscall.Builder create = WireIoctl.syscall(3, new Ioctl.ModeCreateDumb(1, 1, 8, 0));
            ok(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            ok(b, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            assertEquals(List.of(1L, 2L, 3L), List.of(ok(a, create), ok(a, create), ok(a, create)));
            SyscallResult full = call(a, create);
            assertEquals(Errno.ENOSPC.number(), full.getErrno(), "a fourth handle in A's file: " + full.getMessage());
            assertEquals(3, server.simulation().machine().device(0).liveObjects().count(), "the object made for it is gone");
            assertEquals(1, ok(b, create), "B's file has its own handles");
            SyscallResult none = call(b, create);
            assertEquals(Errno.ENOMEM.number(), none.getErrno());
            assertTrue(none.getMessage().contains("limit of 4 objects"), none.getMessage());
            ok(a, WireIoctl.syscall(3, new Ioctl.GemClose(2)));
            assertEquals(2, ok(b, create), "a freed object makes room");
        }
    }

    @Test
    void aConnectionHasAtMostMaxInFlightRequestsInTheSimulation() throws Exception {
        assertEquals(SMALL.maxInFlight(), inFlightWhileTheSimulationIsBusy(server, 200));
        try (GemulatorServer roomy = GemulatorServer.start("127.0.0.1", 0, new Simulation(Profile.MODERN, 1024, null,
                System.err, Limits.DEFAULT), GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null)) {
            assertEquals(Limits.DEFAULT.maxInFlight(), inFlightWhileTheSimulationIsBusy(roomy, 200),
                    "the default lets 64 through: the limit, not the test, held the small server to 2");
        }
    }

    /**
     * Holds the simulation thread, has one client pipeline {@code n} system
     * calls, counts how many of them reach the simulation's inbox, lets it
     * go, and checks that every reply comes, in order.
     */
    private static int inFlightWhileTheSimulationIsBusy(GemulatorServer srv, int n) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", srv.port())) {
            var out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream()));
            var in = new java.io.DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            BackpressureTest.send(out, dev.gemulator.proto.v1.ClientMessage.newBuilder().setHello(
                    dev.gemulator.proto.v1.Hello.newBuilder().setVersion(dev.gemulator.proto.v1.ProtocolVersion.PROTOCOL_VERSION_1)
                            .setProcessName("Pipeliner")).build());
            out.flush();
            assertTrue(BackpressureTest.receive(in).hasWelcome());
            var busy = new java.util.concurrent.CountDownLatch(1);
            var release = new java.util.concurrent.CountDownLatch(1);
            assertTrue(srv.simulation().debugfs(text -> {
                busy.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertTrue(busy.await(10, java.util.concurrent.TimeUnit.SECONDS), "the simulation thread is held");
            int seen;
            try {
                for (int i = 0; i < n; i++) {
                    BackpressureTest.send(out, dev.gemulator.proto.v1.ClientMessage.newBuilder().setRequest(Request
                            .newBuilder().setRequestId(1000 + i).setCall(Syscall.newBuilder().setClose(
                                    dev.gemulator.proto.v1.Close.newBuilder().setFd(99)))).build());
                }
                out.flush();
                // the count only grows while the simulation is held: wait until it stays put for 300 ms
                seen = -1;
                int now = srv.simulation().waiting("Pipeliner");
                long deadline = System.nanoTime() + 10_000_000_000L;
                while ((now != seen || now == 0) && System.nanoTime() < deadline) {
                    seen = now;
                    Thread.sleep(300);
                    now = srv.simulation().waiting("Pipeliner");
                }
                seen = now;
            } finally {
                release.countDown();
            }
            for (int i = 0; i < n; i++) {
                var reply = BackpressureTest.receive(in).getReply();
                assertEquals(1000 + i, reply.getRequestId());
                assertEquals(Errno.EBADF.number(), reply.getResult().getErrno());
            }
            return seen;
        }
    }
}
