package dev.gemulator.bench;

import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.lockstep.LockstepClient;
import dev.gemulator.lockstep.LockstepRun;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.transport.GemulatorServer;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A lockstep server in this JVM running a scenario for some iterations, with
 * a client thread per process of it talking to the server over loopback TCP
 * (no delays). Output goes nowhere; the benchmarks read the run.
 */
final class InProcessLockstep implements AutoCloseable {
    final LockstepRun run;
    final GemulatorServer server;
    private final List<Thread> clients = new ArrayList<>();
    private final long startNanos;

    private InProcessLockstep(Script script, TraceHeader header, Profile profile, Runner.RunOptions o, int iterations,
            List<String> processes) throws InterruptedException {
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8);
        run = new LockstepRun(60_000, System.err);
        run.start(script, header, profile, o, iterations, sink);
        server = GemulatorServer.startLockstep("127.0.0.1", 0, run, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null);
        startNanos = System.nanoTime();
        for (String p : processes) {
            clients.add(Thread.ofPlatform().start(() ->
                    LockstepClient.run("127.0.0.1", server.port(), null, script, p, sink, 0, 1)));
        }
    }

    static InProcessLockstep start(Script script, TraceHeader header, Profile profile, Runner.RunOptions o,
            int iterations, List<String> processes) throws InterruptedException {
        return new InProcessLockstep(script, header, profile, o, iterations, processes);
    }

    /** Waits for the run to end and its clients to leave; returns the seconds from the start to the run's end. */
    double await() throws Exception {
        run.finished().get(300, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        for (Thread t : clients) {
            t.join(60_000);
        }
        return seconds;
    }

    @Override
    public void close() {
        server.close();
    }
}
