package dev.gemulator.bench;

import dev.gemulator.fuzz.WireFuzzer;
import dev.gemulator.kernel.Profile;
import dev.gemulator.server.GemulatorServer;
import java.util.Locale;

/**
 * {@code ./gemulator bench fuzz}: the full-size wire fuzz (1M frames by
 * default) against a free-running server, with a client that checks the
 * server still answers correctly afterwards. The test suite runs a smaller
 * count.
 */
public final class FuzzBench {
    private FuzzBench() {
    }

    public static void main(String[] args) throws Exception {
        long frames = 1_000_000;
        long seed = 1;
        int connections = 8;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--frames" -> frames = Long.parseLong(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (known: --frames N, --seed S, --connections C)");
            }
        }
        long heapBefore = usedHeap();
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 4096)) {
            WireFuzzer.Result r = WireFuzzer.run(new WireFuzzer.Config("127.0.0.1", server.port(), null, seed, frames,
                    connections, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, "F"));
            System.out.printf(Locale.ROOT, "gemulator bench fuzz: seed %d, %d connections at a time, JDK %s%n", seed,
                    connections, Runtime.version());
            System.out.printf(Locale.ROOT, "frames sent              %,d (%.0f/s)%n", r.frames(), r.framesPerSecond());
            System.out.printf(Locale.ROOT, "nonsensical requests     %,d, of them answered with an errno %,d%n",
                    r.requests(), r.errnoReplies());
            System.out.printf(Locale.ROOT, "malformed connections    %,d, refused with a reason %,d%n", r.malformed(),
                    r.refusals());
            System.out.printf(Locale.ROOT, "sessions                 %,d%n", r.sessions());
            System.out.printf(Locale.ROOT, "violations               %d%n", r.violations().size());
            r.violations().forEach(v -> System.out.println("  " + v));
            System.out.printf(Locale.ROOT, "kernel findings (6.x)    %s%n", server.simulation().findings());
            System.out.printf(Locale.ROOT, "live processes after     %d%n",
                    server.simulation().machine().kernel().processes().size());
            System.out.printf(Locale.ROOT, "heap used after / before %.1f MiB / %.1f MiB%n", usedHeap() / 1048576.0,
                    heapBefore / 1048576.0);
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
