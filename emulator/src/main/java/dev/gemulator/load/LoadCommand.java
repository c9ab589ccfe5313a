package dev.gemulator.load;

import dev.gemulator.client.ConnectionLostException;
import dev.gemulator.kernel.Profile;
import dev.gemulator.transport.GemulatorServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gemulator load}: the load generator's command line. Against the
 * server at --host/--port, or against one it starts in this JVM when no
 * port is given. Exit status: 0 the device ended empty, 1 something was
 * left on it (a leak), 2 bad options or no server to talk to.
 */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Churns handles against a server from many client processes and reports latency per op.",
            "N client processes with M threads each run a seeded mix of create, export, import, flink, open, close, fd "
            + "close and fd passing, at a target rate or as fast as it goes, against the server at --host/--port or one "
            + "it starts in its own JVM.",
            "It counts every system call it makes, its set-up's and clean-up's included, under the server's names "
            + "(create_dumb, prime_handle_to_fd, ...), so its totals are the server's gemulator_ioctls_total for the run.",
            "Shows a live progress line on a terminal, then HdrHistogram percentiles per op and the failures by "
            + "errno, then checks through debugfs that the device holds nothing once the clients are gone.",
            "Exit status: 0 the device ended empty, 1 something was left on it (a leak), 2 bad options or no server."})
public final class LoadCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "the server (default: ${DEFAULT-VALUE})")
    private String host;

    @Option(names = "--port", defaultValue = "-1",
            description = "the server's port (default: start a server in this JVM, and --host means nothing)")
    private int port;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "a file whose first line is the server's token, if it wants one (else $GEMULATOR_TOKEN)")
    private Path tokenFile;

    /** Refused: a token on the command line is visible to every local user. */
    @Option(names = "--token", hidden = true)
    private String tokenOnCommandLine;

    private String token;

    @Option(names = "--processes", defaultValue = "4", description = "client processes (default: ${DEFAULT-VALUE})")
    private int processes;

    @Option(names = "--threads", defaultValue = "2", description = "threads per process (default: ${DEFAULT-VALUE})")
    private int threads;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the op mix (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--rate", defaultValue = "0", paramLabel = "OPS_PER_S",
            description = "target ops/s over all threads (default: 0, as fast as it goes)")
    private double rate;

    @Option(names = "--duration", defaultValue = "10", paramLabel = "SECONDS",
            description = "how long to run (default: ${DEFAULT-VALUE})")
    private double seconds;

    @Option(names = "--json", paramLabel = "OUT", description = "also write the result as JSON to OUT")
    private Path json;

    @Option(names = "--connect-timeout", defaultValue = "10", paramLabel = "SECONDS",
            description = "while no server listens at --host/--port yet, try again for this long (default: ${DEFAULT-VALUE})")
    private long connectTimeout;

    @Option(names = "--fork", description = "run each client process in a JVM of its own (real OS processes)")
    private boolean fork;

    /** A forked client: its processes' numbers start here, and it writes its result to --child-out. */
    @Option(names = "--first-process", defaultValue = "0", hidden = true)
    private int firstProcess;

    @Option(names = "--child-out", hidden = true)
    private Path childOut;

    @Override
    public Integer call() throws Exception {
        check(processes >= 1 && processes <= 1000, "--processes wants 1 to 1000: " + processes);
        check(threads >= 1 && threads <= 64, "--threads wants 1 to 64: " + threads);
        check(rate >= 0 && Double.isFinite(rate), "--rate wants 0 (flat out) or a positive rate: " + rate);
        check(seconds > 0 && seconds <= 7 * 86_400, "--duration wants more than 0 and at most 604800 seconds: "
                + seconds);
        check(port == -1 || (port >= 1 && port <= 65535), "--port wants 1 to 65535: " + port);
        check(tokenOnCommandLine == null, "a token on the command line is visible to every local user"
                + " (/proc/PID/cmdline): give it with --token-file FILE or in $GEMULATOR_TOKEN");
        if (tokenFile != null) {
            try {
                token = Files.readAllLines(tokenFile).stream().findFirst().orElse("").strip();
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "cannot read the token file " + tokenFile + ": "
                        + e.getMessage());
            }
            check(!token.isEmpty(), "the token file " + tokenFile + " is empty");
        } else {
            String env = System.getenv("GEMULATOR_TOKEN");
            token = env == null || env.isEmpty() ? null : env;
        }
        GemulatorServer own = null;
        int target = port;
        String targetHost = host;
        if (port < 0) {
            own = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 4096);
            target = own.port();
            targetHost = "127.0.0.1";
        }
        try {
            LoadGenerator.Result r;
            try {
                r = fork ? forked(targetHost, target) : LoadGenerator.run(new LoadGenerator.Config(targetHost, target,
                        token, processes, threads, seed, rate, seconds, firstProcess, childOut == null,
                        Duration.ofSeconds(Math.max(0, connectTimeout))),
                        childOut == null && System.console() != null);
            } catch (ConnectionLostException e) {
                System.err.println("gemulator load: " + e.getMessage());
                return 2;
            } catch (IllegalStateException | IOException e) {
                System.err.println("gemulator load: cannot load " + targetHost + ":" + target + ": " + e.getMessage());
                return 2;
            }
            if (childOut != null) {
                Files.write(childOut, LoadGenerator.toLines(r));
                return 0;
            }
            LoadGenerator.report(r, System.out);
            if (json != null) {
                Files.writeString(json, LoadGenerator.json(r));
                System.out.println("result written to " + json);
            }
            if (forkFailures > 0) {
                System.out.println("gemulator load: " + forkFailures + " of " + processes + " client JVMs failed");
                return 1;
            }
            return r.deviceEmpty() ? 0 : 1;
        } finally {
            if (own != null) {
                own.close();
            }
        }
    }

    /** Client JVMs of the last forked run that failed (their results are left out). */
    private int forkFailures;

    /**
     * One JVM per client process, each running this command for its
     * process; the parent waits for them as long as they take, with
     * progress, and adds up the results of those that finished well.
     */
    private LoadGenerator.Result forked(String targetHost, int target) throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        Path dir = Files.createTempDirectory("gemulator-load");
        List<Process> children = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        try {
            for (int p = 0; p < processes; p++) {
                Path out = dir.resolve("process-" + p);
                outs.add(out);
                List<String> cmd = new ArrayList<>(List.of(javaBin, "-cp", System.getProperty("java.class.path"),
                        "dev.gemulator.cli.Main", "load", "--host", targetHost, "--port", String.valueOf(target),
                        "--processes", "1", "--first-process", String.valueOf(p), "--threads", String.valueOf(threads),
                        "--seed", String.valueOf(seed), "--rate", String.valueOf(rate / processes),
                        "--duration", String.valueOf(seconds), "--child-out", out.toString()));
                ProcessBuilder child = new ProcessBuilder(cmd).inheritIO();
                if (token != null) { // in its environment, not on its command line
                    child.environment().put("GEMULATOR_TOKEN", token);
                }
                children.add(child.start());
            }
            System.out.println("gemulator load: " + processes + " client JVMs (pids " + children.stream()
                    .map(c -> String.valueOf(c.pid())).collect(Collectors.joining(" ")) + ")");
            System.out.flush();
            // Ctrl-C ends the clients too; otherwise wait for them however long their clean-up takes
            Thread reaper = new Thread(() -> children.forEach(Process::destroyForcibly));
            Runtime.getRuntime().addShutdownHook(reaper);
            ForkedClients.Outcome out;
            try {
                out = ForkedClients.await(children, outs, System.out, 10_000);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(reaper);
                } catch (IllegalStateException e) {
                    // shutting down already: the hook runs
                }
            }
            for (String f : out.failures()) {
                System.out.println("gemulator load: " + f + ": its results are left out of the report");
            }
            String[] after = LoadGenerator.leakCheck(targetHost, target, token);
            forkFailures = out.failures().size();
            return LoadGenerator.merge(out.parts(), after[0].equals("empty"), after[1]);
        } finally {
            children.forEach(Process::destroyForcibly);
            for (Path out : outs) {
                Files.deleteIfExists(out);
            }
            Files.deleteIfExists(dir);
        }
    }

    private void check(boolean ok, String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }
}
