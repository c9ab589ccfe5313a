package dev.gemulator.bench;

import dev.gemulator.fuzz.Complaints;
import dev.gemulator.fuzz.WireFuzzer;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.lockstep.LockstepRun;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.Traces;
import dev.gemulator.transport.GemulatorServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./gemulator bench fuzz}: the full-size wire fuzz, twice. First 1M
 * frames (by default) against a free-running server, where the nonsensical
 * system calls reach the kernel model. Then 1M frames against a lockstep
 * server while two client processes (in this JVM, over TCP) run the 3.11
 * race seed after seed: the fuzz is refused there, and every iteration that
 * finished during it must give the trace hash of the same seed run
 * in-process with nobody else around. The test suite runs smaller counts.
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
        try (Complaints complaints = new Complaints()) {
            fuzz(frames, seed, connections, heapBefore);
            System.out.printf(Locale.ROOT, "%nlogged warnings and uncaught exceptions in this JVM (server included): %d%n",
                    complaints.seen().size());
            complaints.seen().stream().limit(20).forEach(c -> System.out.println("  " + c));
        }
    }

    private static void fuzz(long frames, long seed, int connections, long heapBefore) throws Exception {
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
        System.out.println();
        duringLockstep(frames, seed, connections);
    }

    /** The fuzz against a lockstep server while its clients run; the iterations must not notice. */
    private static void duringLockstep(long frames, long seed, int connections) throws Exception {
        String rel = "scenarios/export_vs_gem_close_2proc.gem";
        String text = Files.readString(Path.of(System.getProperty("gemulator.repo", "."))
                .resolve(rel));
        Script script = Parser.parse(rel, text);
        Runner.RunOptions o = new Runner.RunOptions(26, Strategy.Name.POS, 3, 1000);
        var header = Traces.header(rel, text, Profile.V3_11, o);
        try (InProcessLockstep l = InProcessLockstep.start(script, header, Profile.V3_11, o, 1_000_000, List.of("A", "B"))) {
            LockstepRun run = l.run;
            GemulatorServer server = l.server;
            WireFuzzer.Result r = WireFuzzer.run(new WireFuzzer.Config("127.0.0.1", server.port(), null, seed + 1, frames,
                    connections, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, "F"));
            boolean stillRunning = !run.finished().isDone();
            run.abort();
            l.await();
            List<LockstepRun.Iteration> done = run.results();
            int compared = 0;
            int mismatches = 0;
            for (int i = 0; i + 1 < done.size(); i++) { // the last one was cut off by the abort
                LockstepRun.Iteration it = done.get(i);
                Runner.RunOptions io = new Runner.RunOptions(it.seed(), Strategy.Name.POS, 3, 1000);
                String expected = Traces.run(script, header.toBuilder().setSeed(it.seed()).build(), Profile.V3_11, io)
                        .hash();
                compared++;
                mismatches += expected.equals(it.traceHash()) ? 0 : 1;
            }
            System.out.printf(Locale.ROOT, "during a lockstep run of %s (v3.11, pos) with 2 client processes:%n", rel);
            System.out.printf(Locale.ROOT, "frames sent              %,d (%.0f/s), refused with a reason %,d, violations %d%n",
                    r.frames(), r.framesPerSecond(), r.refusals(), r.violations().size());
            r.violations().forEach(v -> System.out.println("  " + v));
            System.out.printf(Locale.ROOT, "lockstep iterations      %,d finished during the fuzz (it %s), %,d compared with "
                    + "in-process runs of their seeds: %d mismatches%n", done.size() - 1,
                    stillRunning ? "ran all along" : "ENDED BEFORE THE FUZZ DID", compared, mismatches);
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
