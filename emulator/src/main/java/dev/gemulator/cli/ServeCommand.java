package dev.gemulator.cli;

import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.Limits;
import dev.gemulator.transport.GemulatorServer;
import java.net.BindException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
    private Path socket;

    @Option(names = "--shm", paramLabel = "DIR",
            description = "with --socket: keep object pages (which programs behind the C shim map) in files of DIR, "
                    + "a tmpfs whose size is the device's memory limit for SIGBUS at that limit (default: a fresh directory under /dev/shm)")
    private Path shm;

    @Option(names = "--profile", defaultValue = "6.x", description = "kernel profile (default: ${DEFAULT-VALUE})")
    private String profile;

    @Option(names = "--token-file", paramLabel = "FILE", description = {"a file whose first line is a token every"
            + " client must present in its Hello (else $" + Tokens.ENVIRONMENT + ", if set)"})
    private Path tokenFile;

    /** Refused: see {@link Tokens#NOT_ON_THE_COMMAND_LINE}. */
    @Option(names = "--token", hidden = true)
    private String tokenOnCommandLine;

    /** Testing: the simulation thread throws an OutOfMemoryError before request N+1. */
    @Option(names = "--inject-error-after", defaultValue = "-1", hidden = true)
    private long injectErrorAfter;

    @Option(names = "--metrics-port", defaultValue = "-1", paramLabel = "PORT",
            description = "serve Prometheus metrics on PORT/metrics (0: any free port; default: off)")
    private int metricsPort;

    @Option(names = "--metrics-bind", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
            description = "the address the metrics listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 in a container)")
    private String metricsBind;

    @Option(names = "--lockstep", paramLabel = "FILE.gem",
            description = "run this scenario in lockstep with client processes (./gemulator client --proc P FILE.gem), then stop")
    private Path lockstep;

    @Option(names = "--seed", defaultValue = "0", description = "lockstep: seed of the interleaving (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--strategy", defaultValue = "random",
            description = "lockstep and seeded: random, pct, pos, conflict (default: ${DEFAULT-VALUE})")
    private String strategy;

    private Strategy.Name strategyName;

    @Option(names = "--pct-depth", defaultValue = "3", description = "lockstep: PCT's depth (default: ${DEFAULT-VALUE})")
    private int pctDepth;

    @Option(names = "--trace", paramLabel = "OUT", description = "write the trace to OUT: lockstep, the (last) run's; free-running, every request as it runs (flushed when idle and at every report)")
    private Path traceOut;

    @Option(names = "--iterations", defaultValue = "1",
            description = "lockstep: run the scenario this many times, seed after seed, with the same clients (default: ${DEFAULT-VALUE})")
    private int iterations;

    @Option(names = "--watchdog-ms", defaultValue = "10000",
            description = "lockstep: warn when a client thread has not asked for its statement for this long (default: ${DEFAULT-VALUE})")
    private long watchdogMillis;

    @Option(names = "--procs", split = ",", paramLabel = "A,B|N",
            description = "seeded (--seed without --lockstep): the processes each run waits for, by name or a count (default: 1)")
    private List<String> procs = List.of("1");

    @Option(names = "--pct-steps", defaultValue = "10000", description = "seeded: PCT's step count k (default: ${DEFAULT-VALUE})")
    private long pctSteps;

    @Option(names = "--join-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "lockstep: give up (exit 1) when a process of the scenario has not connected this long after "
                + "the server started, naming the ones that never came (default: ${DEFAULT-VALUE})")
    private long joinTimeoutSeconds;

    /** What clients may make the server hold (--max-*, --device-memory, --inbox, --hello-*, --memory-plan). */
    @Mixin
    private ServeLimits limitOptions;

    @Spec
    private CommandSpec spec;

    /** The token clients must give (from --token-file or the environment), or null. */
    private String token;

    /** The options' numbers are in range, or a usage error says which is not. */
    private void checkOptions() {
        UserError.check(port >= 0 && port <= 65535, "--port wants 0 (any free port) to 65535, not " + port);
        UserError.check(metricsPort >= -1 && metricsPort <= 65535, "--metrics-port wants 0 to 65535, not " + metricsPort);
        limitOptions.check();
        UserError.check(iterations >= 1, "--iterations wants at least 1, not " + iterations);
        UserError.check(watchdogMillis >= 1, "--watchdog-ms wants at least 1, not " + watchdogMillis);
        UserError.check(joinTimeoutSeconds >= 1, "--join-timeout wants at least 1 second, not " + joinTimeoutSeconds);
        UserError.check(pctDepth >= 1, "--pct-depth wants at least 1, not " + pctDepth);
        strategyName = UserError.strategy(strategy, Strategy.SERVER_NAMES);
    }

    /** Starts listening, or says in one line why it cannot (a port in use, an address that is not this host's). */
    static <T> T listen(String bind, int port, Callable<T> start) throws InterruptedException {
        try {
            return start.call();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) { // Netty rethrows the socket's BindException unchecked
            String why = e instanceof UnresolvedAddressException ? "no such address"
                    : e.getMessage() == null ? e.getClass().getSimpleName()
                    : e instanceof BindException ? e.getMessage().toLowerCase(Locale.ROOT)
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
        Limits limits;
        try {
            limits = limitOptions.parse();
        } catch (IllegalArgumentException | ArithmeticException e) {
            System.err.println("gemulator: " + (e instanceof NumberFormatException || e instanceof ArithmeticException
                    ? "--device-memory wants a number of bytes with an optional K, M or G, or auto, not '"
                    + limitOptions.deviceMemory + "'" : e.getMessage()));
            return 2;
        }
        limits = limitOptions.planned(limits);
        if (limits == null || limitOptions.memoryPlan) {
            return limits == null ? 2 : 0;
        }
        int maxFrame = limitOptions.maxFrame;
        if (lockstep != null) {
            return new LockstepServe(new LockstepServe.Settings(lockstep, bind, port, p, token, maxFrame, limits, seed,
                    strategyName, pctDepth, iterations, watchdogMillis, joinTimeoutSeconds, traceOut, metricsPort,
                    metricsBind)).serve();
        }
        if (spec.commandLine().getParseResult().hasMatchedOption("--seed")) {
            // every system call of every client thread a task of the interleaving scheduler (server/seeded)
            return new SeededServe(new SeededServe.Settings(bind, port, socket, p, token, maxFrame,
                    limitOptions.maxClients, limitOptions.maxFds, seed, strategyName, pctDepth, pctSteps, procs,
                    Math.max(1, iterations), watchdogMillis, traceOut), System.out, System.err).serve();
        }
        return new FreeServe(new FreeServe.Settings(bind, port, socket, shm, p, token, maxFrame, limitOptions.inbox,
                limits, traceOut, injectErrorAfter, metricsPort, metricsBind)).serve();
    }
}
