package dev.gemulator.server;

import dev.gemulator.client.wire.WireClient;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.DebugfsRequest;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.transport.GemulatorServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Observer and debugfs questions are counted and limited like calls, and
 * the simulation serves connections fairly: while observers flood the
 * server with debugfs questions on a device with many names, another
 * client's calls take a bounded multiple of what they take on an idle
 * server (a ratio measured in the same run, never an absolute time).
 */
@Tag("slow")
class FairnessTest {
    private static final int FLOODERS = 3;
    private static final int CALLS = 300;
    private static final int NAMES = 20_000;
    private static final double BOUND = 25;

    private static ClientMessage hello(String name, boolean observer) {
        return ClientMessage.newBuilder().setHello(Hello.newBuilder().setVersion(ProtocolVersion.PROTOCOL_VERSION_1)
                .setProcessName(name).setObserver(observer)).build();
    }

    /** Gives the device {@code n} objects with flink names, made on the simulation thread itself. */
    private static void names(Simulation sim, int n) throws Exception {
        var done = new java.util.concurrent.CompletableFuture<Void>();
        assertTrue(sim.runOnSimulationThread(() -> {
            var sys = sim.machine().sys();
            var task = sys.spawn("Namer").mainTask();
            long fd = sys.open(task, "card0").v0();
            for (int i = 0; i < n; i++) {
                int h = (int) sys.ioctl(task, fd, new Ioctl.ModeCreateDumb(4, 4, 32, 0)).v0();
                sys.ioctl(task, fd, new Ioctl.GemFlink(h));
            }
            done.complete(null);
        }));
        done.get(60, TimeUnit.SECONDS);
    }

    /** The median of {@code CALLS} version calls of a good client, in nanoseconds. */
    private static long medianCall(WireClient good) {
        long[] t = new long[CALLS];
        Syscall.Builder version = WireIoctl.syscall(3, new Ioctl.Version());
        for (int i = 0; i < CALLS; i++) {
            long t0 = System.nanoTime();
            assertEquals(0, WireCalls.call(good, version).getErrno());
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return t[CALLS / 2];
    }

    @Test
    void aDebugfsFloodDelaysAnotherClientsCallsByABoundedRatioOnly() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 4096)) {
            names(server.simulation(), NAMES);
            WireClient good = new WireClient(group, "127.0.0.1", server.port(), "Good", null);
            WireCalls.ok(good, Syscall.newBuilder().setOpen(dev.gemulator.proto.v1.Open.newBuilder().setNode("card0")));
            medianCall(good); // warm up
            // other builds share this machine: a round whose figures a load spike spoiled is measured again
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 3 && best >= BOUND; round++) {
                best = Math.min(best, round(server, good));
            }
            // in arrival order, with each debugfs written in one go, every round was far beyond (200 to 1,160 here
            // with 20,000 names, growing with the device); fair turns of one slice each keep it near 2 to 3
            assertTrue(best < BOUND, "a call during the flood took " + best + " times as long as on an idle server");
            good.close();
        } finally {
            group.shutdownGracefully();
        }
    }

    /** One round: the good client's median call idle, then during a flood; their ratio. */
    private static double round(GemulatorServer server, WireClient good) throws Exception {
        long idle = medianCall(good);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong answered = new AtomicLong();
        List<Thread> floods = new ArrayList<>();
        List<Socket> sockets = new ArrayList<>();
        for (int f = 0; f < FLOODERS; f++) {
            Socket s = new Socket("127.0.0.1", server.port());
            sockets.add(s);
            floods.add(Thread.ofPlatform().start(() -> flood(s, stop, answered)));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (answered.get() < 20 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(answered.get() >= 20, "the flood is under way");
        long during = medianCall(good);
        long answeredDuring = answered.get();
        stop.set(true);
        for (Socket s : sockets) {
            s.close();
        }
        for (Thread t : floods) {
            t.join();
        }
        double ratio = during / (double) idle;
        System.out.printf(java.util.Locale.ROOT, "fairness: median call %.0f us idle, %.0f us during a flood of"
                + " debugfs from %d observers (%d answers, %d names): ratio %.1f%n", idle / 1e3, during / 1e3,
                FLOODERS, answeredDuring, NAMES, ratio);
        return ratio;
    }

    /** Keeps 64 debugfs questions in flight on an observer connection until told to stop. */
    private static void flood(Socket s, AtomicBoolean stop, AtomicLong answered) {
        try {
            var out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            var in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            BackpressureTest.send(out, hello("flood", true));
            out.flush();
            BackpressureTest.receive(in);
            ClientMessage ask = ClientMessage.newBuilder().setDebugfs(DebugfsRequest.getDefaultInstance()).build();
            for (int i = 0; i < 64; i++) {
                BackpressureTest.send(out, ask);
            }
            out.flush();
            while (!stop.get()) {
                BackpressureTest.receive(in);
                answered.incrementAndGet();
                BackpressureTest.send(out, ask);
                out.flush();
            }
        } catch (java.io.IOException e) {
            // closed at the end
        }
    }

    @Test
    void anObserversDebugfsQuestionsAreLimitedInFlightLikeCalls() throws Exception {
        Limits limits = new Limits(16, 1024, 1 << 20, 2, 1024, 1024);
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, new Simulation(Profile.MODERN, 1024, null,
                System.err, limits), GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null);
                Socket s = new Socket("127.0.0.1", server.port())) {
            var out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            var in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            BackpressureTest.send(out, hello("watcher", true));
            out.flush();
            assertTrue(BackpressureTest.receive(in).hasWelcome());
            var held = new java.util.concurrent.CountDownLatch(1);
            var release = new java.util.concurrent.CountDownLatch(1);
            assertTrue(server.simulation().debugfs(text -> {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertTrue(held.await(10, TimeUnit.SECONDS));
            int seen;
            try {
                for (int i = 0; i < 200; i++) {
                    BackpressureTest.send(out, ClientMessage.newBuilder().setDebugfs(DebugfsRequest.getDefaultInstance())
                            .build());
                }
                out.flush();
                seen = -1;
                int now = server.simulation().waiting("observer:watcher");
                long deadline = System.nanoTime() + 10_000_000_000L;
                while ((now != seen || now == 0) && System.nanoTime() < deadline) {
                    seen = now;
                    Thread.sleep(300);
                    now = server.simulation().waiting("observer:watcher");
                }
                seen = now;
            } finally {
                release.countDown();
            }
            assertEquals(2, seen, "an observer has at most maxInFlight questions in the simulation");
            for (int i = 0; i < 200; i++) {
                assertTrue(BackpressureTest.receive(in).hasDebugfs(), "every question is answered in the end");
            }
        }
    }
}
