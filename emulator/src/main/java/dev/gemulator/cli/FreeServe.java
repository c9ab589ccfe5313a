package dev.gemulator.cli;

import dev.gemulator.kernel.Profile;
import dev.gemulator.server.Limits;
import dev.gemulator.server.ServerMetrics;
import dev.gemulator.server.Simulation;
import dev.gemulator.transport.GemulatorServer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code serve} without --lockstep or --seed: the free-running server, each
 * request run as it comes (each connection in turn), on TCP and with
 * --socket a Unix socket, until Ctrl-C or its simulation thread fails.
 */
final class FreeServe {
    /** What serve was told. */
    record Settings(String bind, int port, Path socket, Path shm, Profile profile, String token, int maxFrame,
            int inbox, Limits limits, Path traceOut, long injectErrorAfter, int metricsPort, String metricsBind) {
    }

    private final Settings s;

    FreeServe(Settings s) {
        this.s = s;
    }

    /** The free-running server, until Ctrl-C or its simulation thread fails. */
    int serve() throws Exception {
        OutputStream trace = s.traceOut() == null ? null
                : new BufferedOutputStream(UserError.create(s.traceOut(), "--trace"), 1 << 16);
        var simulation = new Simulation(s.profile(), s.inbox(), trace, System.err, s.limits());
        if (s.injectErrorAfter() >= 0) {
            simulation.injectErrorAfter(s.injectErrorAfter());
        }
        ServerMetrics metrics = null;
        if (s.metricsPort() >= 0) {
            metrics = new ServerMetrics();
            simulation.metrics(metrics);
            try {
                System.out.println("gemulator metrics on http://" + s.metricsBind() + ":"
                        + metrics.serve(s.metricsBind(), s.metricsPort()) + "/metrics");
            } catch (IOException | RuntimeException e) { // an address that does not resolve is unchecked
                System.err.println("gemulator: cannot serve metrics on " + s.metricsBind() + ":" + s.metricsPort() + ": "
                        + e.getMessage());
                simulation.close();
                return 2;
            }
        }
        GemulatorServer server;
        try {
            server = ServeCommand.listen(s.bind(), s.port(),
                    () -> GemulatorServer.start(s.bind(), s.port(), simulation, s.maxFrame(), s.token()));
        } catch (UserError e) {
            if (metrics != null) {
                metrics.close();
            }
            throw e;
        }
        System.out.println("gemulator serving " + s.bind() + ":" + server.port() + " (profile " + s.profile().name()
                + ", free-running" + (s.traceOut() != null ? ", tracing to " + s.traceOut() : "") + ", device memory "
                + s.limits().deviceMemoryBytes() / (1 << 20) + " MiB" + (s.token() != null ? ", token required" : "") + ")");
        if (s.socket() != null) {
            try {
                server.listenUnix(s.socket(), s.shm());
            } catch (RuntimeException e) {
                server.close();
                System.err.println("gemulator: cannot listen on " + s.socket() + ": " + e.getMessage());
                return 1;
            }
            System.out.println("gemulator serving the Unix socket " + s.socket() + " too");
        }
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            server.close(); // finishes the queued requests, then ends the trace
            if (simulation.traceHash() != null) {
                System.err.println("gemulator: stopped after " + simulation.executed() + " requests, trace sha256 "
                        + simulation.traceHash());
            }
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        simulation.failure().thenRun(stopped::countDown);
        stopped.await();
        if (simulation.failure().isDone()) {
            // the simulation logged its Error and ended the trace; the hook closes the rest on the way out
            System.err.println("gemulator: the server stopped because its simulation thread failed: "
                    + simulation.failure().getNow(null));
            return Simulation.FAILED_EXIT_STATUS;
        }
        return 0;
    }
}
