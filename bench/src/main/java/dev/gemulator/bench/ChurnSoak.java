package dev.gemulator.bench;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DmaBufFd;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Gemulator;
import dev.gemulator.kernel.Profile;
import dev.gemulator.transport.GemulatorServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ./gemulator bench churn}: handle churn against a free-running
 * server for a while (4 client processes in pairs: create, map and write,
 * flink and open, export, pass the dma-buf, import, close everything), with
 * the server's heap sampled after GC as it goes. Memory must stay flat, and
 * once the clients are gone the device must hold nothing.
 */
public final class ChurnSoak {
    private ChurnSoak() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = 60;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--seconds")) {
                seconds = Integer.parseInt(args[++i]);
            } else {
                throw new IllegalArgumentException("unknown option " + args[i] + " (known: --seconds N)");
            }
        }
        AtomicLong rounds = new AtomicLong();
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 4096)) {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            List<Thread> pairs = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                String a = "A" + p;
                String b = "B" + p;
                pairs.add(Thread.ofPlatform().start(() -> churn(server.port(), a, b, end, rounds)));
            }
            System.out.printf(Locale.ROOT, "gemulator bench churn: %d s, 2 pairs of processes, JDK %s%n", seconds,
                    Runtime.version());
            System.out.println("seconds   rounds   heap after GC (MiB)   live objects");
            long t0 = System.nanoTime();
            int sample = Math.max(1, seconds / 10);
            while (pairs.stream().anyMatch(Thread::isAlive)) {
                Thread.sleep(sample * 1000L);
                System.out.printf(Locale.ROOT, "%7d %8d %21.1f %14d%n", (System.nanoTime() - t0) / 1_000_000_000L,
                        rounds.get(), usedHeap() / 1048576.0,
                        server.simulation().machine().device(0).liveObjects().count());
            }
            for (Thread t : pairs) {
                t.join();
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (server.simulation().machine().kernel().processes().size() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            var dev = server.simulation().machine().device(0);
            System.out.printf(Locale.ROOT, "after the clients left: %d processes, %d live objects, %d resident bytes,"
                    + " findings %s%n", server.simulation().machine().kernel().processes().size(),
                    dev.liveObjects().count(), dev.residentBytes(), server.simulation().findings());
        }
    }

    /** One pair: A makes and shares, B imports and drops, round after round. */
    private static void churn(int port, String a, String b, long end, AtomicLong rounds) {
        try (Gemulator g = Gemulator.connect("127.0.0.1", port, null)) {
            ClientProcess pa = g.process(a);
            ClientProcess pb = g.process(b);
            DrmFd fa = pa.open("card0");
            DrmFd fb = pb.open("render0");
            DrmFd fbCard = pb.open("card0");
            while (System.nanoTime() < end) {
                DrmFd.Dumb bo = fa.createDumb(64, 64, 32);
                try (var m = fa.mmap(fa.mapDumb(bo.handle()), bo.size())) {
                    m.write(100, (byte) 7);
                }
                DrmFd.Opened opened = fbCard.gemOpen(fa.flink(bo.handle()));
                fbCard.gemClose(opened.handle());
                DmaBufFd d = fa.primeHandleToFd(bo.handle(), DrmFd.RDWR);
                DmaBufFd passed = pa.sendFd(d, pb);
                int imported = fb.primeFdToHandle(passed);
                passed.close();
                d.close();
                fb.gemClose(imported);
                fa.gemClose(bo.handle());
                rounds.incrementAndGet();
            }
        }
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
