package dev.gemulator.cli;

import dev.gemulator.kernel.Profile;
import dev.gemulator.server.GemulatorServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gemulator serve}: the emulated device as a server for client processes. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves the emulated device to client processes over TCP.",
            "Frames are length-prefixed protobuf (proto/src/main/proto/gemulator/v1/wire.proto). Free-running, requests run "
            + "one at a time in arrival order; with --lockstep FILE.gem the server runs that scenario and waits for "
            + "each statement's client thread to ask for it (./gemulator client --proc P FILE.gem), so network timing "
            + "cannot change the run. Ctrl-C stops it (a lockstep run ends its iteration and writes a whole trace).",
            "Exit status: 0 done, 1 a lockstep run gave up or failed, 2 bad options or the port cannot be served, "
            + "3 a lockstep run of several iterations found something."})
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE})")
    private String bind;

    @Option(names = "--port", defaultValue = "7070", description = "TCP port, 0 for any (default: ${DEFAULT-VALUE})")
    private int port;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "also serve on a Unix domain socket at PATH (local clients; it can pass file descriptors)")
    private java.nio.file.Path socket;

    @Option(names = "--profile", defaultValue = "6.x", description = "kernel profile (default: ${DEFAULT-VALUE})")
    private String profile;

    @Option(names = "--token", description = "a token every client must present in its Hello")
    private String token;

    @Option(names = "--max-frame", defaultValue = "" + GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
            description = "largest frame accepted, in bytes (default: ${DEFAULT-VALUE})")
    private int maxFrame;

    @Option(names = "--inbox", defaultValue = "4096", description = "requests queued before connections stop being read (default: ${DEFAULT-VALUE})")
    private int inbox;

    @Option(names = "--max-clients", defaultValue = "1024",
            description = "connections at once; more are refused with a reason (default: ${DEFAULT-VALUE})")
    private int maxClients;

    @Option(names = "--max-fds", defaultValue = "1024",
            description = "RLIMIT_NOFILE of every process: EMFILE beyond (default: ${DEFAULT-VALUE})")
    private int maxFds;

    @Option(names = "--device-memory", defaultValue = "4G", paramLabel = "BYTES",
            description = "object memory per device (suffix K, M, G): a write that needs more fails with ENOMEM (default: ${DEFAULT-VALUE})")
    private String deviceMemory;

    @Option(names = "--max-in-flight", defaultValue = "64",
            description = "requests of one connection in the simulation at once; the rest wait unread (default: ${DEFAULT-VALUE})")
    private int maxInFlight;

    @Option(names = "--max-objects", defaultValue = "1048576",
            description = "GEM objects per device; creating more fails with ENOMEM (default: ${DEFAULT-VALUE})")
    private int maxObjects;

    @Option(names = "--max-handles", defaultValue = "1048576",
            description = "handles per drm file; more fail with ENOSPC (default: ${DEFAULT-VALUE})")
    private int maxHandles;

    @Option(names = "--metrics-port", defaultValue = "-1", paramLabel = "PORT",
            description = "serve Prometheus metrics on PORT/metrics (0: any free port; default: off)")
    private int metricsPort;

    @Option(names = "--metrics-bind", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
            description = "the address the metrics listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 in a container)")
    private String metricsBind;

    private dev.gemulator.server.Limits limits() {
        String m = deviceMemory.trim().toUpperCase(java.util.Locale.ROOT);
        long unit = m.endsWith("K") ? 1L << 10 : m.endsWith("M") ? 1L << 20 : m.endsWith("G") ? 1L << 30 : 1;
        long bytes = Long.parseLong(unit == 1 ? m : m.substring(0, m.length() - 1)) * unit;
        return new dev.gemulator.server.Limits(maxClients, maxFds, bytes, maxInFlight, maxObjects, maxHandles);
    }

    @Option(names = "--lockstep", paramLabel = "FILE.gem",
            description = "run this scenario in lockstep with client processes (./gemulator client --proc P FILE.gem), then stop")
    private java.nio.file.Path lockstep;

    @Option(names = "--seed", defaultValue = "0", description = "lockstep: seed of the interleaving (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--strategy", defaultValue = "random", description = "lockstep: random, pct, pos (default: ${DEFAULT-VALUE})")
    private String strategy;

    @Option(names = "--pct-depth", defaultValue = "3", description = "lockstep: PCT's depth (default: ${DEFAULT-VALUE})")
    private int pctDepth;

    @Option(names = "--trace", paramLabel = "OUT", description = "write the trace to OUT: lockstep, the (last) run's; free-running, every request as it runs (flushed when idle and at every report)")
    private java.nio.file.Path traceOut;

    @Option(names = "--iterations", defaultValue = "1",
            description = "lockstep: run the scenario this many times, seed after seed, with the same clients (default: ${DEFAULT-VALUE})")
    private int iterations;

    @Option(names = "--watchdog-ms", defaultValue = "10000",
            description = "lockstep: warn when a client thread has not asked for its statement for this long (default: ${DEFAULT-VALUE})")
    private long watchdogMillis;

    @Option(names = "--join-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "lockstep: give up (exit 1) when a process of the scenario has not connected this long after "
                + "the server started, naming the ones that never came (default: ${DEFAULT-VALUE})")
    private long joinTimeoutSeconds;

    /** The options' numbers are in range, or a usage error says which is not. */
    private void checkOptions() {
        UserError.check(port >= 0 && port <= 65535, "--port wants 0 (any free port) to 65535, not " + port);
        UserError.check(metricsPort >= -1 && metricsPort <= 65535, "--metrics-port wants 0 to 65535, not " + metricsPort);
        UserError.check(maxFrame >= 1024, "--max-frame wants at least 1024 bytes, not " + maxFrame);
        UserError.check(inbox >= 1, "--inbox wants at least 1, not " + inbox);
        UserError.check(maxClients >= 1, "--max-clients wants at least 1, not " + maxClients);
        UserError.check(maxFds >= 3, "--max-fds wants at least 3 (0, 1 and 2 are taken), not " + maxFds);
        UserError.check(maxInFlight >= 1, "--max-in-flight wants at least 1, not " + maxInFlight);
        UserError.check(maxObjects >= 0, "--max-objects wants 0 or more, not " + maxObjects);
        UserError.check(maxHandles >= 0, "--max-handles wants 0 or more, not " + maxHandles);
        UserError.check(iterations >= 1, "--iterations wants at least 1, not " + iterations);
        UserError.check(watchdogMillis >= 1, "--watchdog-ms wants at least 1, not " + watchdogMillis);
        UserError.check(joinTimeoutSeconds >= 1, "--join-timeout wants at least 1 second, not " + joinTimeoutSeconds);
        UserError.check(pctDepth >= 1, "--pct-depth wants at least 1, not " + pctDepth);
        UserError.check(java.util.List.of("random", "pct", "pos").contains(strategy),
                "unknown strategy '" + strategy + "' (known: random, pct, pos)");
    }

    /** Starts listening, or says in one line why it cannot (a port in use, an address that is not this host's). */
    private static <T> T listen(String bind, int port, java.util.concurrent.Callable<T> start) throws InterruptedException {
        try {
            return start.call();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) { // Netty rethrows the socket's BindException unchecked
            String why = e instanceof java.nio.channels.UnresolvedAddressException ? "no such address"
                    : e.getMessage() == null ? e.getClass().getSimpleName()
                    : e instanceof java.net.BindException ? e.getMessage().toLowerCase(java.util.Locale.ROOT)
                    : e.getMessage();
            throw new UserError("cannot listen on " + bind + ":" + port + ": " + why
                    + (why.contains("in use") ? " (another server runs there: stop it, or choose another --port)"
                            : " (--bind wants an address of this machine, such as 127.0.0.1 or 0.0.0.0)"));
        }
    }

    @Override
    public Integer call() throws Exception {
        checkOptions();
        Profile p = Profile.byName(profile);
        if (p == null) {
            System.err.println("gemulator: unknown kernel profile '" + profile + "' (known: " + Profile.names() + ")");
            return 2;
        }
        dev.gemulator.server.Limits limits;
        try {
            limits = limits();
        } catch (IllegalArgumentException e) {
            System.err.println("gemulator: " + (e instanceof NumberFormatException ? "--device-memory wants a number of bytes"
                    + " with an optional K, M or G, not '" + deviceMemory + "'" : e.getMessage()));
            return 2;
        }
        if (lockstep != null) {
            return serveLockstep(p, limits);
        }
        java.io.OutputStream trace = traceOut == null ? null
                : new java.io.BufferedOutputStream(UserError.create(traceOut, "--trace"), 1 << 16);
        var simulation = new dev.gemulator.server.Simulation(p, inbox, trace, System.err, limits);
        dev.gemulator.server.ServerMetrics metrics = null;
        if (metricsPort >= 0) {
            metrics = new dev.gemulator.server.ServerMetrics();
            simulation.metrics(metrics);
            try {
                System.out.println("gemulator metrics on http://" + metricsBind + ":" + metrics.serve(metricsBind, metricsPort)
                        + "/metrics");
            } catch (java.io.IOException | RuntimeException e) { // an address that does not resolve is unchecked
                System.err.println("gemulator: cannot serve metrics on " + metricsBind + ":" + metricsPort + ": " + e.getMessage());
                simulation.close();
                return 2;
            }
        }
        GemulatorServer server;
        try {
            server = listen(bind, port, () -> GemulatorServer.start(bind, port, simulation, maxFrame, token));
        } catch (UserError e) {
            if (metrics != null) {
                metrics.close();
            }
            throw e;
        }
        System.out.println("gemulator serving " + bind + ":" + server.port() + " (profile " + p.name() + ", free-running"
                + (traceOut != null ? ", tracing to " + traceOut : "") + ")");
        if (socket != null) {
            try {
                server.listenUnix(socket);
            } catch (RuntimeException e) {
                server.close();
                System.err.println("gemulator: cannot listen on " + socket + ": " + e.getMessage());
                return 1;
            }
            System.out.println("gemulator serving the Unix socket " + socket + " too");
        }
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close(); // finishes the queued requests, then ends the trace
            if (simulation.traceHash() != null) {
                System.err.println("gemulator: stopped after " + simulation.executed() + " requests, trace sha256 "
                        + simulation.traceHash());
            }
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    private int serveLockstep(Profile p, dev.gemulator.server.Limits limits) throws Exception {
        String text;
        dev.gemulator.gemscript.Script script;
        try {
            text = java.nio.file.Files.readString(lockstep, java.nio.charset.StandardCharsets.UTF_8);
            script = dev.gemulator.gemscript.Parser.parse(lockstep.toString(), text);
        } catch (java.io.IOException e) {
            System.err.println("gemulator: cannot read " + lockstep + ": " + e.getMessage());
            return 2;
        } catch (dev.gemulator.gemscript.ParseException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        }
        if (traceOut != null) {
            UserError.create(traceOut, "--trace").close(); // told now, not after the run; written at its end
        }
        long pctSteps = strategy.equals("pct") ? dev.gemulator.gemscript.Runner.measureSteps(script, p) : 0;
        var options = new dev.gemulator.gemscript.Runner.RunOptions(seed, strategy, pctDepth, pctSteps);
        var run = new dev.gemulator.lockstep.LockstepRun(watchdogMillis, System.err);
        run.joinTimeout(java.time.Duration.ofSeconds(joinTimeoutSeconds), lockstep.toString());
        var header = dev.gemulator.trace.Traces.header(lockstep.toString(), text, p, options);
        if (metricsPort >= 0) {
            var metrics = new dev.gemulator.server.ServerMetrics();
            try {
                System.out.println("gemulator metrics on http://" + metricsBind + ":" + metrics.serve(metricsBind, metricsPort)
                        + "/metrics");
            } catch (java.io.IOException | RuntimeException e) { // an address that does not resolve is unchecked
                System.err.println("gemulator: cannot serve metrics on " + metricsBind + ":" + metricsPort + ": " + e.getMessage());
                return 2;
            }
            run.onIteration((it, trace) -> {
                metrics.run("lockstep", trace.stream().filter(r -> r.hasDecision()).count());
                it.reports().forEach(r -> metrics.report(r.kind().label()));
                metrics.devices(run.machine().kernel());
            });
        }
        run.start(script, header, p, options, Math.max(1, iterations), System.out);
        GemulatorServer server = listen(bind, port,
                () -> GemulatorServer.startLockstep(bind, port, run, maxFrame, token, limits));
        Thread hook = new Thread(() -> {
            // Ctrl-C or kill: end the run early but completely, and write its whole trace
            if (!run.finished().isDone()) {
                run.abort();
            }
            try {
                run.finished().get(30, java.util.concurrent.TimeUnit.SECONDS);
                finish(run, server);
            } catch (Exception e) {
                System.err.println("gemulator: the run did not end in time: " + e);
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        System.err.println("gemulator serving " + bind + ":" + server.port() + " (profile " + p.name()
                + ", lockstep run of " + lockstep + ", seed " + seed + ", strategy " + strategy + ")");
        try {
            run.finished().get();
        } catch (java.util.concurrent.ExecutionException e) {
            System.err.println("gemulator: the run failed: " + e.getCause());
            server.close();
            return 1;
        }
        return finish(run, server);
    }

    private Integer finished;

    /** Closes the server, writes the trace and prints the summary; once, whether the run ended or was stopped. */
    private synchronized int finish(dev.gemulator.lockstep.LockstepRun run, GemulatorServer server)
            throws InterruptedException, java.util.concurrent.ExecutionException {
        if (finished != null) {
            return finished;
        }
        int exit = run.finished().get();
        server.close();
        String hash = dev.gemulator.trace.TraceRecorder.hash(run.trace());
        if (traceOut != null) {
            try (var os = new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(traceOut))) {
                dev.gemulator.trace.TraceRecorder.write(run.trace(), os);
            } catch (java.io.IOException e) {
                System.err.println("gemulator: cannot write " + traceOut + ": " + e.getMessage());
            }
        }
        System.out.flush();
        if (run.gaveUp() != null) {
            System.err.println("gemulator: " + run.gaveUp());
            finished = 1;
            return 1;
        }
        System.err.println("gemulator: lockstep run done, trace sha256 " + hash);
        int ran = run.results().size();
        if (iterations > 1) {
            java.util.Map<String, long[]> findings = new java.util.TreeMap<>();
            for (var it : run.results()) {
                java.util.Set<String> here = new java.util.TreeSet<>();
                it.reports().forEach(r -> here.add(r.kind().label() + " " + r.function()));
                if (it.failure() != null) {
                    here.add("expectation " + it.failure().substring(0, it.failure().indexOf(':')));
                }
                for (String k : here) {
                    findings.computeIfAbsent(k, x -> new long[] {it.seed(), 0})[1]++;
                }
            }
            System.out.printf(java.util.Locale.ROOT, "iterations: %d%s, device reset between them: %.0f us on average%n",
                    ran, ran < iterations ? " of " + iterations + " (stopped)" : "", run.meanResetNanos() / 1000);
            System.out.println(findings.isEmpty() ? "findings: none" : "findings: " + findings.size());
            findings.forEach((k, v) -> System.out.println("  " + k + " (" + v[1] + " of " + ran
                    + " iterations, first at seed " + v[0] + ")"));
            System.out.flush();
            exit = findings.isEmpty() ? 0 : 3;
        }
        finished = exit;
        return exit;
    }
}
