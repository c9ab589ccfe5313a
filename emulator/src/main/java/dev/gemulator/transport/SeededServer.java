package dev.gemulator.transport;

import dev.gemulator.server.Limits;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.server.seeded.SeededRuns;
import io.netty.channel.Channel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The seeded server: client processes connect over TCP (and a Unix socket)
 * with the same pipeline, handshake and messages as the free-running
 * server ({@link WireInitializer}, {@link SeededHandler}), and their system
 * calls run in the current run of its {@link SeededRuns}. Runs follow each
 * other ({@link #next}).
 */
public final class SeededServer implements AutoCloseable {
    private final SeededRuns runs;
    private final WireInitializer pipeline;
    private final Listener tcp;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Listener unix;

    private SeededServer(SeededRuns runs, WireInitializer pipeline, Listener tcp) {
        this.runs = runs;
        this.pipeline = pipeline;
        this.tcp = tcp;
    }

    /** Listens on {@code host:port} (0: any free port); no run yet ({@link #next} makes one). */
    public static SeededServer start(String host, int port, String token, int maxFrameBytes, int maxClients,
            PrintStream log) throws InterruptedException {
        return start(host, port, token, maxFrameBytes, maxClients, log, Limits.DEFAULT);
    }

    /** As above, with the handshake's timeouts of {@code limits} ({@link Limits#withHelloTimeouts}). */
    public static SeededServer start(String host, int port, String token, int maxFrameBytes, int maxClients,
            PrintStream log, Limits limits) throws InterruptedException {
        SeededRuns runs = new SeededRuns(log);
        WireInitializer pipeline = new WireInitializer(limits, maxClients, maxFrameBytes, token,
                new WireInitializer.Mode() {
                    @Override
                    public String stopped() {
                        return null;
                    }

                    @Override
                    public SeededHandler newConnection(Channel channel) {
                        return new SeededHandler(runs, maxFrameBytes);
                    }
                });
        return new SeededServer(runs, pipeline, Listener.tcp(host, port, pipeline));
    }

    public int port() {
        return tcp.port();
    }

    /** Serves the same runs on a Unix domain socket at {@code path} too (the C shim's transport). */
    public Listener listenUnix(Path path) throws InterruptedException {
        runs.hostFiles(path);
        Listener u = Listener.unix(path, pipeline);
        unix = u;
        return u;
    }

    /** The runs this server serves. */
    public SeededRuns runs() {
        return runs;
    }

    /** The run new connections join, or null before the first {@link #next}. */
    public SeededRun current() {
        return runs.current();
    }

    /** The index of the current run (0 for the first). */
    public int iteration() {
        return runs.iteration();
    }

    /** Makes the next run current ({@link SeededRuns#next}). */
    public SeededRun next(SeededRun.Config config) {
        return runs.next(config);
    }

    /** The processes connected as persistent clients ready for the next run. */
    public Set<String> persistentProcesses() {
        return runs.persistentProcesses();
    }

    /** Whether process {@code name} is connected as a persistent client (it said Hello.iterates). */
    public boolean iterating(String name) {
        return runs.iterating(name);
    }

    /** Stops the current run, stops listening, closes every connection. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        runs.abort("the server stops");
        tcp.close();
        if (unix != null) {
            unix.close();
        }
        runs.close();
    }
}
