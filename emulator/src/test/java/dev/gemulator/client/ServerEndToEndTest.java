package dev.gemulator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;


import dev.gemulator.kernel.Profile;
import dev.gemulator.transport.GemulatorServer;
import dev.gemulator.proto.v1.ServerMode;
import java.io.OutputStream;
import java.net.Socket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Client processes against a real server on loopback (free-running mode). */
class ServerEndToEndTest {
    private GemulatorServer server;

    @BeforeEach
    void start() throws Exception {
        server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 64);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void twoConnectedProcessesShareABufferByNameAndByAPassedDmaBuf() {
        try (Gemulator a = Gemulator.connect("127.0.0.1", server.port(), null);
                Gemulator b = Gemulator.connect("127.0.0.1", server.port(), null)) {
            ClientProcess pa = a.process("A");
            ClientProcess pb = b.process("B");
            DrmFd fa = pa.open("card0");
            DrmFd fb = pb.open("card0");
            assertEquals(3, fa.number());
            assertEquals(3, fb.number());
            DrmFd.Dumb bo = fa.createDumb(64, 64, 32);
            Mapping ma = fa.mmap(fa.mapDumb(bo.handle()), bo.size());
            ma.write(0, (byte) 1, (byte) 2);
            DrmFd.Opened opened = fb.gemOpen(fa.flink(bo.handle()));
            Mapping mb = fb.mmap(fb.mapDumb(opened.handle()), bo.size());
            assertArrayEquals(new byte[] {1, 2}, mb.read(0, 2));
            DmaBufFd d = fa.primeHandleToFd(bo.handle(), DrmFd.RDWR);
            DmaBufFd bd = pa.sendFd(d, pb);
            try (Mapping md = bd.mmap(0, bo.size())) {
                md.write(2, (byte) 3);
            }
            assertArrayEquals(new byte[] {1, 2, 3}, ma.read(0, 3));
            assertEquals(Errno.EINVAL, assertThrows(DrmException.class, () -> fb.gemClose(99)).errno());
            // as two programs would: A sends by name, B receives what came, typed
            assertEquals(1, pa.sendFd(d, "B"), "one fd in flight on the channel B opened for A (for the send above)");
            DmaBufFd received = pb.receiveDmaBuf(java.time.Duration.ofSeconds(5));
            assertEquals(bd.number() + 1, received.number(), "B's lowest free fd");
            assertEquals(bo.size(), received.size());
            assertEquals(Errno.EAGAIN, assertThrows(DrmException.class,
                    () -> pb.receiveFd(java.time.Duration.ofMillis(50))).errno(), "nothing more was sent");
            // a drm fd passed the same way arrives as a DrmFd on the same file: its handles work there
            pa.sendFd(fa, "B");
            DrmFd card = (DrmFd) pb.receiveFd(java.time.Duration.ofSeconds(5));
            assertEquals(bo.size(), card.gemOpen(fa.flink(bo.handle())).size());
        }
    }

    @Test
    void aClientStartedBeforeItsServerWaitsForItAndSaysSoOnce() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        java.util.List<String> notices = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Gemulator early = Gemulator.connect("127.0.0.1", port, null, java.time.Duration.ofSeconds(30), notices::add)) {
            var opened = new java.util.concurrent.CompletableFuture<Integer>();
            Thread.ofPlatform().start(() -> {
                try {
                    opened.complete(early.process("Early").open("card0").number());
                } catch (RuntimeException e) {
                    opened.completeExceptionally(e);
                }
            });
            while (notices.isEmpty()) {
                Thread.sleep(10);
            }
            assertTrue(notices.getFirst().startsWith("no server at 127.0.0.1:" + port + " yet (connection refused)"),
                    notices.toString());
            try (GemulatorServer late = GemulatorServer.start("127.0.0.1", port, Profile.MODERN,
                    GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 64)) {
                assertEquals(3, opened.get(30, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertEquals(1, notices.size(), "said once: " + notices);
        }
        ConnectionLostException e = assertThrows(ConnectionLostException.class,
                () -> Gemulator.connect("127.0.0.1", port, null, java.time.Duration.ZERO, m -> { }).process("X")
                        .open("card0"));
        assertTrue(e.getMessage().contains("connection refused; is a server running there"), e.getMessage());
    }

    @Test
    void anFdPassesToAProcessOfAnotherProgramOnlyOnceItAcceptsFdsFromTheSender() {
        try (Gemulator a = Gemulator.connect("127.0.0.1", server.port(), null);
                Gemulator other = Gemulator.connect("127.0.0.1", server.port(), null)) {
            DrmFd fa = a.process("A").open("card0");
            DrmFd.Dumb bo = fa.createDumb(16, 16, 32);
            DmaBufFd d = fa.primeHandleToFd(bo.handle(), DrmFd.RDWR);
            assertEquals(Errno.ESRCH, assertThrows(DrmException.class, () -> a.process("A").sendFd(d, "Late")).errno(),
                    "a process that has not connected cannot have consented");
            var late = other.process("Late");
            late.acceptFdsFrom("A");
            assertEquals(1, a.process("A").sendFd(d, "Late"), "one fd in flight, until Late takes it");
            DmaBufFd got = late.receiveDmaBuf(java.time.Duration.ofSeconds(5));
            assertEquals(bo.size(), got.size());
            other.process("Unwilling").open("card0");
            assertEquals(Errno.ENOTCONN, assertThrows(DrmException.class, () -> a.process("A").sendFd(d, "Unwilling"))
                    .errno(), "a process that opened no channel for A gets no fd from it");
            assertEquals(Errno.ESRCH, assertThrows(DrmException.class, () -> a.process("A").sendFd(d, "no such")).errno());
        }
    }

    @Test
    void aGarbageClientIsClosedAndOthersCarryOn() throws Exception {
        try (Gemulator a = Gemulator.connect("127.0.0.1", server.port(), null)) {
            DrmFd fd = a.process("A").open("card0");
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {0, 0, 0, 5, 1, 2, 3, 4, 5});
                out.flush();
                assertTrue(s.getInputStream().read() >= 0, "a refusal comes back");
            }
            assertEquals(1, fd.createDumb(1, 1, 8).handle());
        }
    }

    @Test
    void aProcessWhoseConnectionDropsExitsAndItsObjectsGo() throws Exception {
        Gemulator a = Gemulator.connect("127.0.0.1", server.port(), null);
        DrmFd fd = a.process("A").open("card0");
        for (int i = 0; i < 5; i++) {
            fd.createDumb(4, 4, 32);
        }
        a.close();
        try (Gemulator b = Gemulator.connect("127.0.0.1", server.port(), null)) {
            DrmFd fb = b.process("B").open("card0");
            long deadline = System.nanoTime() + 5_000_000_000L;
            int handle;
            do {
                DrmFd.Dumb bo = fb.createDumb(1, 1, 8);
                handle = bo.handle();
                fb.gemClose(handle);
            } while (server.simulation().machine().device(0).liveObjects().count() > 0 && System.nanoTime() < deadline);
            assertEquals(0, server.simulation().machine().device(0).liveObjects().count());
        }
    }

    @Test
    void anObserverSeesTheLiveProcessesOfAFreeRunningServer() {
        var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try (Gemulator a = Gemulator.connect("127.0.0.1", server.port(), null);
                Gemulator b = Gemulator.connect("127.0.0.1", server.port(), null);
                var observer = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", server.port(), "watch", null)) {
            a.process("A").open("card0");
            b.process("B").open("card0");
            var status = observer.status();
            assertEquals("free", status.getMode());
        assertEquals(ServerMode.SERVER_MODE_FREE, status.getServerMode());
            assertEquals(java.util.List.of("A", "B"), status.getProcessesList().stream().sorted().toList());
            assertEquals(0, observer.fetchTrace().length, "no lockstep trace in free-running mode");
        } finally {
            group.shutdownGracefully();
        }
    }

    @Test
    void eachThreadOfAProcessIsAKernelTaskOfItsOwnUntilItExits() {
        var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try (var wire = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", server.port(), "T", null)) {
            wire.threadStart(5, "T.worker");
            var open = wire.call(dev.gemulator.proto.v1.Request.newBuilder().setThreadId(5).setCall(
                    dev.gemulator.proto.v1.Syscall.newBuilder().setOpen(dev.gemulator.proto.v1.Open.newBuilder()
                            .setNode("card0")))).getResult();
            assertEquals(0, open.getErrno());
            int fd = (int) open.getValues(0);
            var created = wire.call(dev.gemulator.proto.v1.Request.newBuilder().setThreadId(0).setCall(
                    dev.gemulator.server.WireIoctl.syscall(fd, new dev.gemulator.kernel.uapi.Ioctl.ModeCreateDumb(4, 4, 32, 0))))
                    .getResult();
            assertEquals(0, created.getErrno(), "the threads share the process's fd table");
            assertEquals(java.util.List.of("T", "T.worker"), tasks("T"));
            wire.threadExit(5, 0);
            wire.status(); // queued behind the exit
            assertEquals(java.util.List.of("T"), tasks("T"));
        } finally {
            group.shutdownGracefully();
        }
    }

    @Test
    void threadsOfTwoProcessesWithTheSameNameAreTwoTasksNamedByTheirProcess() {
        var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try (var a = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", server.port(), "PA", null);
                var b = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", server.port(), "PB", null)) {
            a.threadStart(1, "Thread-0");
            b.threadStart(1, "Thread-0");
            a.threadStart(2, "");
            a.status();
            b.status();
            assertEquals(java.util.List.of("PA", "PA.Thread-0", "PA.t2"), tasks("PA"));
            assertEquals(java.util.List.of("PB", "PB.Thread-0"), tasks("PB"));
        } finally {
            group.shutdownGracefully();
        }
    }

    private java.util.List<String> tasks(String process) {
        return server.simulation().machine().kernel().processes().stream().filter(p -> p.name().equals(process))
                .flatMap(p -> p.tasks().stream()).map(dev.gemulator.kernel.Task::name).toList();
    }

    @Test
    void aTracedFreeRunningServerRecordsEveryRequestItsStepsAndResultAndEndsTheTraceOnClose() throws Exception {
        var bytes = new java.io.ByteArrayOutputStream();
        var sim = new dev.gemulator.server.Simulation(Profile.MODERN, 64, bytes, System.err);
        String hash;
        try (GemulatorServer traced = GemulatorServer.start("127.0.0.1", 0, sim, GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
                null); Gemulator a = Gemulator.connect("127.0.0.1", traced.port(), null)) {
            DrmFd fd = a.process("A").open("card0");
            DrmFd.Dumb bo = fd.createDumb(4, 4, 32);
            assertEquals(Errno.ENOENT, assertThrows(DrmException.class, () -> fd.mapDumb(bo.handle() + 1)).errno());
            a.close();
            traced.close();
            hash = sim.traceHash();
        }
        var records = dev.gemulator.trace.TraceRecorder.read(new java.io.ByteArrayInputStream(bytes.toByteArray()));
        assertTrue(records.getFirst().hasHeader());
        assertTrue(records.getLast().hasEnd(), "closing the server ends the trace");
        assertEquals(hash, dev.gemulator.trace.TraceRecorder.hash(records));
        var lines = records.stream().filter(r -> r.hasLine()).map(r -> r.getLine().getText()).toList();
        assertEquals(java.util.List.of("1 A open ok 3 0 0", "2 A create_dumb ok 1 16 4096", "3 A map_dumb ENOENT"),
                lines.subList(0, 3));
        var first = records.stream().filter(r -> r.hasRequest()).findFirst().orElseThrow().getRequest();
        assertEquals("open", first.getOp());
        assertEquals(java.util.List.of("node=card0"), first.getArgsList());
        assertTrue(records.stream().filter(r -> r.hasStep()).count() > 10, "the kernel's steps are in it");
    }

    @Test
    void aShortChurnSoakLeavesTheDeviceEmptyOnceTheClientsAreGone() throws Exception {
        try (Gemulator g = Gemulator.connect("127.0.0.1", server.port(), null)) {
            ClientProcess pa = g.process("A");
            ClientProcess pb = g.process("B");
            DrmFd fa = pa.open("card0");
            DrmFd fb = pb.open("render0");
            DrmFd fbCard = pb.open("card0");
            for (int i = 0; i < 300; i++) {
                DrmFd.Dumb bo = fa.createDumb(64, 64, 32);
                try (Mapping m = fa.mmap(fa.mapDumb(bo.handle()), bo.size())) {
                    m.write(i, (byte) i);
                }
                DrmFd.Opened opened = fbCard.gemOpen(fa.flink(bo.handle()));
                fbCard.gemClose(opened.handle());
                DmaBufFd d = fa.primeHandleToFd(bo.handle(), DrmFd.RDWR);
                DmaBufFd passed = pa.sendFd(d, pb);
                fb.gemClose(fb.primeFdToHandle(passed));
                passed.close();
                d.close();
                fa.gemClose(bo.handle());
            }
            assertEquals(0, server.simulation().machine().device(0).liveObjects().count(), "every round freed its object");
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!server.simulation().machine().kernel().processes().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        var dev = server.simulation().machine().device(0);
        assertEquals(0, server.simulation().machine().kernel().processes().size());
        assertEquals(0, dev.residentBytes());
        assertEquals(java.util.List.of(), server.simulation().findings());
    }

    @Test
    void debugfsShowsClientsNamesDmaBufsAndObjectCountsInTheKernelsLayout() {
        var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try (Gemulator g = Gemulator.connect("127.0.0.1", server.port(), null);
                var observer = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", server.port(), "debug", null, true)) {
            ClientProcess a = g.process("A");
            DrmFd fd = a.open("card0");
            DrmFd.Dumb bo = fd.createDumb(64, 64, 32);
            int name = fd.flink(bo.handle());
            DmaBufFd d = fd.primeHandleToFd(bo.handle(), DrmFd.RDWR);
            String text = observer.debugfs();
            assertTrue(text.contains("== /sys/kernel/debug/dri/0/clients\n             command  tgid dev master a   uid      magic\n"),
                    text);
            assertTrue(text.matches("(?s).*\n +A +\\d+   0   y    y     0          0\n.*"), text);
            assertTrue(text.contains("  name     size handles refcount\n" + String.format("%6d %8d %7d %8d%n", name, 16384, 1, 2)),
                    "name, size, one handle; refs: the handles, the dma-buf (a name takes none): " + text);
            // file count: the fd, the exporter's PRIME cache, the object's dma_buf link
            assertTrue(text.contains("00016384\t00000002\t00000002\t00000003\tvgem\t"), text);
            assertTrue(text.contains("1 objects, 16384 bytes, 0 bytes resident, 1 flink names, 1 clients"), text);
            assertTrue(text.contains("Total 1 objects, 16384 bytes"), text);
            d.close();
        } finally {
            group.shutdownGracefully();
        }
    }
}
