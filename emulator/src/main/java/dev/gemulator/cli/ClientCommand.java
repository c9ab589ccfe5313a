package dev.gemulator.cli;

import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Script;
import dev.gemulator.lockstep.LockstepClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gemulator client --proc A FILE.gem}: one process of a scenario, run against a lockstep server. */
@Command(name = "client", mixinStandardHelpOptions = true,
        description = {"Runs one process of a scenario against a lockstep server (serve --lockstep FILE.gem).",
            "It asks the server for each statement of its process in order, its par threads each on a thread of its own, "
            + "and prints the lines the server answers. Run one client per process of the scenario, in any order and "
            + "before or after the server: a client waits for the server for --connect-timeout seconds.",
            "Exit status: 0 done, 1 the server went away or cut the client off, 2 bad options, input or no server."})
public final class ClientCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE.gem")
    private Path file;

    @Option(names = "--proc", required = true, description = "the process to be (its name in the scenario)")
    private String process;

    @Mixin
    private ServerAddress server;

    @Option(names = "--max-delay-ms", defaultValue = "0",
            description = "wait a random 0..N ms before each request, to show timing does not matter (default: ${DEFAULT-VALUE})")
    private long maxDelayMillis;

    @Option(names = "--delay-seed", defaultValue = "1", description = "seed of those delays (default: ${DEFAULT-VALUE})")
    private long delaySeed;

    @Option(names = "--connect-timeout", defaultValue = "30", paramLabel = "SECONDS",
            description = "while no server listens yet, try again for this long (default: ${DEFAULT-VALUE})")
    private long connectTimeout;

    @Option(names = "--die-after", defaultValue = "-1",
            description = "halt the JVM abruptly (as if killed) after asking for this many statements (testing)")
    private long dieAfter;

    @Option(names = "--end-thread", defaultValue = "", paramLabel = "THREAD:N",
            description = "end the scenario thread THREAD (\"A.t1\") after asking for N of its statements (testing)")
    private String endThread;

    @Override
    public Integer call() {
        UserError.check(server.port >= 1 && server.port <= 65535, "--port wants 1 to 65535, not " + server.port);
        UserError.check(connectTimeout >= 0, "--connect-timeout wants 0 or more seconds, not " + connectTimeout);
        UserError.check(maxDelayMillis >= 0, "--max-delay-ms wants 0 or more, not " + maxDelayMillis);
        Script script;
        try {
            script = Parser.parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            System.err.println("gemulator: cannot read " + file + ": " + e.getMessage());
            return 2;
        } catch (ParseException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        }
        LockstepClient.Faults faults = new LockstepClient.Faults(dieAfter, "", -1);
        if (!endThread.isEmpty()) {
            int colon = endThread.lastIndexOf(':');
            try {
                faults = new LockstepClient.Faults(dieAfter, endThread.substring(0, colon),
                        Long.parseLong(endThread.substring(colon + 1)));
            } catch (RuntimeException e) {
                System.err.println("gemulator: --end-thread wants THREAD:N (for example A.t1:2), not '" + endThread + "'");
                return 2;
            }
        }
        boolean[] badToken = {false};
        String token = server.token(badToken);
        if (badToken[0]) {
            return 2;
        }
        return LockstepClient.run(server.host, server.port, token, script, process, System.out,
                maxDelayMillis, delaySeed, faults, Duration.ofSeconds(connectTimeout), System.err);
    }
}
