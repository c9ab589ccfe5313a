package dev.gemulator.cli;

import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.GemulatorServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gemulator serve}: the emulated device as a server for client processes. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves the emulated device to client processes over TCP.",
            "Frames are length-prefixed protobuf (proto/src/main/proto/gemulator/v1/wire.proto). Free-running, requests run "
            + "one at a time, each connection in turn (fairly); with --lockstep FILE.gem the server runs that scenario and waits for "
            + "each statement's client thread to ask for it (./gemulator client --proc P FILE.gem), so network timing "
            + "cannot change the run; with --seed S (and no --lockstep) every system call of every client thread is "
            + "interleaved at the kernel's preemption points under the seed, the same run whatever the timing "
            + "(docs: Race your own program). Ctrl-C stops it (a lockstep run ends its iteration and writes a whole trace).",
            "Exit status: 0 done, 1 a lockstep run gave up or failed, 2 bad options (or limits the heap cannot hold) or "
            + "the port cannot be served, 3 a lockstep run of several iterations found something, 70 the simulation "
            + "thread failed (an OutOfMemoryError: the server stopped)."})
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE})")
    private String bind;

    @Option(names = "--port", defaultValue = "7070", description = "TCP port, 0 for any (default: ${DEFAULT-VALUE})")
    private int port;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "also serve on a Unix domain socket at PATH (local clients; it can pass file descriptors)")
    private java.nio.file.Path socket;

    @Option(names = "--shm", paramLabel = "DIR",
            description = "with --socket: keep object pages (which programs behind the C shim map) in files of DIR, "
                    + "a tmpfs whose size is the device's memory limit for SIGBUS at that limit (default: a fresh directory under /dev/shm)")
    private java.nio.file.Path shm;

    @Option(names = "--profile", defaultValue = "6.x", description = "kernel profile (default: ${DEFAULT-VALUE})")
    private String profile;

    @Option(names = "--token-file", paramLabel = "FILE", description = {"a file whose first line is a token every"
            + " client must present in its Hello (else $" + Tokens.ENVIRONMENT + ", if set)"})
    private java.nio.file.Path tokenFile;

    /** Refused: see {@link Tokens#NOT_ON_THE_COMMAND_LINE}. */
    @Option(names = "--token", hidden = true)
    private String tokenOnCommandLine;

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

    @Option(names = "--device-memory", defaultValue = "auto", paramLabel = "BYTES",
            description = {"object memory per device, pages and their indexes (suffix K, M, G): a write that needs more",
                "fails with ENOMEM (default: ${DEFAULT-VALUE}: 4G, or what the heap holds beside the other limits)"})
    private String deviceMemory;

    @Option(names = "--max-in-flight", defaultValue = "64",
            description = "requests and questions of one connection in the simulation at once; the rest wait unread (default: ${DEFAULT-VALUE})")
    private int maxInFlight;

    @Option(names = "--max-in-flight-bytes", defaultValue = "" + (2 << 20),
            description = "bytes one connection has in flight, what reads and debugfs answer included (default: ${DEFAULT-VALUE})")
    private long maxInFlightBytes;

    @Option(names = "--max-threads-per-process", defaultValue = "256",
            description = "threads of one process; more get EAGAIN (default: ${DEFAULT-VALUE})")
    private int maxThreadsPerProcess;

    @Option(names = "--max-threads", defaultValue = "8192",
            description = "threads of all processes together; more get EAGAIN (default: ${DEFAULT-VALUE})")
    private int maxThreads;

    @Option(names = "--max-files", defaultValue = "65536",
            description = "open files of the machine; open, export and sync_file export beyond get ENFILE (default: ${DEFAULT-VALUE})")
    private int maxFiles;

    @Option(names = "--max-id-slots", defaultValue = "8388608",
            description = "slots of all handle and fence-id tables together; beyond, ENOSPC (default: ${DEFAULT-VALUE})")
    private long maxIdSlots;

    @Option(names = "--max-fences-per-object", defaultValue = "4096",
            description = "fences one object's reservation holds; an attach beyond gets ENOMEM (default: ${DEFAULT-VALUE})")
    private int maxFencesPerObject;

    @Option(names = "--max-fence-ids-per-file", defaultValue = "1048576",
            description = "fence ids one drm file hands out in its life; beyond, ENOSPC (default: ${DEFAULT-VALUE})")
    private int maxFenceIdsPerFile;

    @Option(names = "--max-fences", defaultValue = "262144",
            description = "live fences of the machine; beyond, ENOMEM (default: ${DEFAULT-VALUE})")
    private int maxFences;

    @Option(names = "--max-maps-per-process", defaultValue = "65530",
            description = "mappings of one process (vm.max_map_count); beyond, ENOMEM (default: ${DEFAULT-VALUE})")
    private int maxMapsPerProcess;

    @Option(names = "--max-maps", defaultValue = "262144",
            description = "mappings of all processes together; beyond, ENOMEM (default: ${DEFAULT-VALUE})")
    private int maxMaps;

    @Option(names = "--hello-timeout-ms", defaultValue = "10000",
            description = "a connection must say Hello within this long, else it is refused (default: ${DEFAULT-VALUE})")
    private long helloTimeoutMillis;

    @Option(names = "--hello-idle-ms", defaultValue = "5000",
            description = "a connection that has not said Hello may be silent this long (default: ${DEFAULT-VALUE})")
    private long helloIdleMillis;

    @Option(names = "--memory-plan", description = "print what the limits let clients make the server hold at worst, and stop")
    private boolean memoryPlan;

    /** Testing: the simulation thread throws an OutOfMemoryError before request N+1. */
    @Option(names = "--inject-error-after", defaultValue = "-1", hidden = true)
    private long injectErrorAfter;

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

    /** The default device memory when the heap holds it beside the other limits. */
    private static final long AUTO_DEVICE_MEMORY = 4L << 30;
    /** The least device memory "auto" settles for. */
    private static final long LEAST_DEVICE_MEMORY = 64L << 20;

    private dev.gemulator.server.Limits limits() {
        String m = deviceMemory.trim().toUpperCase(java.util.Locale.ROOT);
        long bytes;
        if (m.equals("AUTO")) {
            bytes = AUTO_DEVICE_MEMORY;
        } else {
            long unit = m.endsWith("K") ? 1L << 10 : m.endsWith("M") ? 1L << 20 : m.endsWith("G") ? 1L << 30 : 1;
            bytes = Math.multiplyExact(Long.parseLong(unit == 1 ? m : m.substring(0, m.length() - 1)), unit);
        }
        return new dev.gemulator.server.Limits(maxClients, maxFds, bytes, maxInFlight, maxObjects, maxHandles,
                maxThreadsPerProcess, maxThreads, maxFiles, maxIdSlots, maxFencesPerObject, maxFenceIdsPerFile,
                maxFences, maxMapsPerProcess, maxMaps, maxInFlightBytes, helloTimeoutMillis, helloIdleMillis);
    }

    /**
     * The limits checked against the heap (memory bounded by construction):
     * with --device-memory auto the device gets what fits beside the rest (at
     * most 4G); limits that do not fit the heap refuse to start, with the plan
     * and what to lower. Null (having said why) when they do not fit.
     */
    private dev.gemulator.server.Limits planned(dev.gemulator.server.Limits limits) {
        long heap = Runtime.getRuntime().maxMemory();
        boolean auto = deviceMemory.trim().equalsIgnoreCase("auto");
        var plan = dev.gemulator.server.MemoryPlan.of(limits, maxFrame, heap);
        if (auto) { // the device gets what fits beside the rest, at most 4G; on a small heap the rest shrinks first
            if (plan.deviceMemoryThatFits() < LEAST_DEVICE_MEMORY) {
                limits = scaledToFit(limits.withDeviceMemoryBytes(LEAST_DEVICE_MEMORY), heap);
                plan = dev.gemulator.server.MemoryPlan.of(limits, maxFrame, heap);
            }
            long fits = plan.deviceMemoryThatFits();
            if (fits >= LEAST_DEVICE_MEMORY) {
                limits = limits.withDeviceMemoryBytes(Math.min(AUTO_DEVICE_MEMORY, fits));
                plan = dev.gemulator.server.MemoryPlan.of(limits, maxFrame, heap);
            }
        }
        if (memoryPlan) {
            System.out.print(plan.describe());
            return plan.fits() ? limits : null;
        }
        if (!plan.fits()) {
            System.err.println("gemulator: these limits let clients make the server hold more than its heap at worst:");
            System.err.print(plan.describe());
            System.err.println("gemulator: lower the biggest of them (the options named), or give the JVM more heap (-Xmx)");
            return null;
        }
        return limits;
    }

    @picocli.CommandLine.Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    /**
     * A small heap with every limit at its default: the limits of kernel
     * objects not given on the command line (objects, files, id slots,
     * fences, mappings) shrink by one factor until the plan fits beside the
     * least device memory, and the serve command says so.
     */
    private dev.gemulator.server.Limits scaledToFit(dev.gemulator.server.Limits l, long heap) {
        var parsed = spec.commandLine().getParseResult();
        for (double f = 0.5; f > 1e-3; f /= 2) {
            double k = f;
            java.util.function.BiFunction<String, Long, Long> scale = (option, value) ->
                    parsed.hasMatchedOption(option) ? value : Math.max(64, (long) (value * k));
            var scaled = new dev.gemulator.server.Limits(l.maxClients(), l.maxFdsPerProcess(), l.deviceMemoryBytes(),
                    l.maxInFlight(), scale.apply("--max-objects", (long) l.maxObjectsPerDevice()).intValue(),
                    l.maxHandlesPerFile(), l.maxThreadsPerProcess(), l.maxThreads(),
                    scale.apply("--max-files", (long) l.maxFiles()).intValue(),
                    scale.apply("--max-id-slots", l.maxIdSlots()), l.maxFenceSlotsPerObject(), l.maxFenceIdsPerFile(),
                    scale.apply("--max-fences", (long) l.maxFences()).intValue(), l.maxMapsPerProcess(),
                    scale.apply("--max-maps", (long) l.maxMaps()).intValue(), l.maxInFlightBytes(),
                    l.helloTimeoutMillis(), l.helloIdleMillis());
            if (dev.gemulator.server.MemoryPlan.of(scaled, maxFrame, heap).fits()) {
                System.err.printf(java.util.Locale.ROOT, "gemulator: a heap of %d MiB holds the default limits only with"
                        + " less of everything: --max-objects %d, --max-files %d, --max-id-slots %d, --max-fences %d,"
                        + " --max-maps %d (give the JVM more heap with -Xmx for more)%n", heap >> 20,
                        scaled.maxObjectsPerDevice(), scaled.maxFiles(), scaled.maxIdSlots(), scaled.maxFences(),
                        scaled.maxMaps());
                return scaled;
            }
        }
        return l;
    }

    @Option(names = "--lockstep", paramLabel = "FILE.gem",
            description = "run this scenario in lockstep with client processes (./gemulator client --proc P FILE.gem), then stop")
    private java.nio.file.Path lockstep;

    @Option(names = "--seed", defaultValue = "0", description = "lockstep: seed of the interleaving (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--strategy", defaultValue = "random", description = "lockstep: random, pct, pos (default: ${DEFAULT-VALUE})")
    private String strategy;

    private Strategy.Name strategyName;

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

    @Option(names = "--procs", split = ",", paramLabel = "A,B|N",
            description = "seeded (--seed without --lockstep): the processes each run waits for, by name or a count (default: 1)")
    private java.util.List<String> procs = java.util.List.of("1");

    @Option(names = "--pct-steps", defaultValue = "10000", description = "seeded: PCT's step count k (default: ${DEFAULT-VALUE})")
    private long pctSteps;


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
        strategyName = UserError.strategy(strategy, Strategy.SERVER_NAMES);
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
        if (tokenOnCommandLine != null) {
            System.err.println("gemulator: " + Tokens.NOT_ON_THE_COMMAND_LINE);
            return 2;
        }
        try {
            token = Tokens.read(tokenFile);
        } catch (Tokens.BadToken e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        }
        dev.gemulator.server.Limits limits;
        try {
            limits = limits();
        } catch (IllegalArgumentException | ArithmeticException e) {
            System.err.println("gemulator: " + (e instanceof NumberFormatException || e instanceof ArithmeticException
                    ? "--device-memory wants a number of bytes with an optional K, M or G, or auto, not '" + deviceMemory
                    + "'" : e.getMessage()));
            return 2;
        }
        limits = planned(limits);
        if (limits == null || memoryPlan) {
            return limits == null ? 2 : 0;
        }
        if (lockstep != null) {
            return serveLockstep(p, limits);
        }
        if (spec.commandLine().getParseResult().hasMatchedOption("--seed")) {
            // every system call of every client thread a task of the interleaving scheduler (server/seeded)
            return new SeededServe(new SeededServe.Settings(bind, port, socket, p, token, maxFrame, maxClients, maxFds, seed,
                    strategyName, pctDepth, pctSteps, procs, Math.max(1, iterations), watchdogMillis, traceOut),
                    System.out, System.err).serve();
        }
        java.io.OutputStream trace = traceOut == null ? null
                : new java.io.BufferedOutputStream(UserError.create(traceOut, "--trace"), 1 << 16);
        var simulation = new dev.gemulator.server.Simulation(p, inbox, trace, System.err, limits);
        if (injectErrorAfter >= 0) {
            simulation.injectErrorAfter(injectErrorAfter);
        }
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
                + (traceOut != null ? ", tracing to " + traceOut : "") + ", device memory "
                + limits.deviceMemoryBytes() / (1 << 20) + " MiB" + (token != null ? ", token required" : "") + ")");
        if (socket != null) {
            try {
                server.listenUnix(socket, shm);
            } catch (RuntimeException e) {
                server.close();
                System.err.println("gemulator: cannot listen on " + socket + ": " + e.getMessage());
                return 1;
            }
            System.out.println("gemulator serving the Unix socket " + socket + " too");
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
            return dev.gemulator.server.Simulation.FAILED_EXIT_STATUS;
        }
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
        long pctSteps = strategyName == Strategy.Name.PCT ? dev.gemulator.gemscript.Runner.measureSteps(script, p) : 0;
        var options = new dev.gemulator.gemscript.Runner.RunOptions(seed, strategyName, pctDepth, pctSteps);
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
            // an Error of the run's thread: say so, keep what the iteration recorded, and stop loudly
            System.err.println("gemulator: FATAL: the lockstep run failed: " + e.getCause());
            e.getCause().printStackTrace(System.err);
            server.close();
            writeTrace(run);
            return dev.gemulator.server.Simulation.FAILED_EXIT_STATUS;
        }
        return finish(run, server);
    }

    private Integer finished;

    /** The token clients must give (from --token-file or the environment), or null. */
    private String token;

    /** Writes the run's trace to --trace, if given. */
    private void writeTrace(dev.gemulator.lockstep.LockstepRun run) {
        if (traceOut != null && run.machine() != null) {
            try (var os = new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(traceOut))) {
                dev.gemulator.trace.TraceRecorder.write(run.trace(), os);
            } catch (java.io.IOException | RuntimeException e) {
                System.err.println("gemulator: cannot write " + traceOut + ": " + e.getMessage());
            }
        }
    }

    /** Closes the server, writes the trace and prints the summary; once, whether the run ended or was stopped. */
    private synchronized int finish(dev.gemulator.lockstep.LockstepRun run, GemulatorServer server)
            throws InterruptedException, java.util.concurrent.ExecutionException {
        if (finished != null) {
            return finished;
        }
        int exit = run.finished().get();
        server.close();
        String hash = dev.gemulator.trace.TraceRecorder.hash(run.trace());
        writeTrace(run);
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
