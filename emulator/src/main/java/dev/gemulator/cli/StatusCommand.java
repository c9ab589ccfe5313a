package dev.gemulator.cli;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.proto.ServerModes;
import dev.gemulator.proto.v1.RunStatus;
import dev.gemulator.proto.v1.ServerMode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gemulator status}: asks a running server how its run is going, as an observer. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Asks a running server how its run is going, as an observer (no process of the device).",
            "It prints the mode, the lockstep iteration and seed, the live processes and the findings so far. With "
            + "--trace it saves the trace of the last finished lockstep iteration (read it with trace show or replay); "
            + "with --debugfs it prints the device as debugfs shows it.",
            "Exit status: 0 answered, 1 no trace yet, 2 bad options or no server."})
public final class StatusCommand implements Callable<Integer> {

    @Mixin
    private ServerAddress server;

    @Option(names = "--trace", paramLabel = "OUT", description = "write the last finished iteration's trace to OUT")
    private Path trace;

    @Option(names = "--debugfs", description = "print the device's debugfs views instead: clients, gem_names, bufinfo, objects")
    private boolean debugfs;

    @Override
    public Integer call() {
        UserError.check(server.port >= 1 && server.port <= 65535, "--port wants 1 to 65535, not " + server.port);
        boolean[] badToken = {false};
        String token = server.token(badToken);
        if (badToken[0]) {
            return 2;
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (WireClient wire = new WireClient(group, server.host, server.port, "status", token, true)) {
            if (debugfs) {
                System.out.print(wire.debugfs());
                return 0;
            }
            RunStatus s = wire.status();
            System.out.println("mode " + ServerModes.word(s.getServerMode()));
            if (s.getServerMode() == ServerMode.SERVER_MODE_LOCKSTEP) {
                System.out.println("iteration " + s.getIteration() + " of " + s.getIterations() + " (seed " + s.getSeed()
                        + "), " + s.getFinishedIterations() + " finished");
            }
            System.out.println("processes " + (s.getProcessesCount() == 0 ? "(none)" : String.join(" ", s.getProcessesList())));
            System.out.println("findings " + s.getFindingsCount());
            s.getFindingsList().stream().distinct().sorted().forEach(f -> System.out.println("  " + f + " ("
                    + s.getFindingsList().stream().filter(f::equals).count() + ")"));
            if (trace != null) {
                byte[] bytes = wire.fetchTrace();
                if (bytes.length == 0) {
                    System.err.println("gemulator: no trace yet (no lockstep iteration has finished)");
                    return 1;
                }
                Files.write(trace, bytes);
                System.out.println("trace written to " + trace + " (" + bytes.length + " bytes)");
            }
            return 0;
        } catch (WireClient.ConnectionLost e) {
            throw new UserError(e.getMessage());
        } catch (IOException e) {
            throw new UserError("cannot write --trace " + trace + ": " + e.getMessage());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
