package dev.gemulator.cli;

import dev.gemulator.kernel.Profile;
import dev.gemulator.server.GemulatorServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gemulator serve}: the emulated device as a server for client processes. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves the emulated device to client processes over TCP (length-prefixed protobuf,",
            "proto/gemulator/v1/wire.proto). Requests run one at a time in arrival order. Ctrl-C stops it."})
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE})")
    private String bind;

    @Option(names = "--port", defaultValue = "7070", description = "TCP port, 0 for any (default: ${DEFAULT-VALUE})")
    private int port;

    @Option(names = "--profile", defaultValue = "6.x", description = "kernel profile (default: ${DEFAULT-VALUE})")
    private String profile;

    @Option(names = "--token", description = "a token every client must present in its Hello")
    private String token;

    @Option(names = "--max-frame", defaultValue = "" + GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
            description = "largest frame accepted, in bytes (default: ${DEFAULT-VALUE})")
    private int maxFrame;

    @Option(names = "--inbox", defaultValue = "4096", description = "requests queued before connections stop being read (default: ${DEFAULT-VALUE})")
    private int inbox;

    @Override
    public Integer call() throws InterruptedException {
        Profile p = Profile.byName(profile);
        if (p == null) {
            System.err.println("gemulator: unknown kernel profile '" + profile + "' (known: " + Profile.names() + ")");
            return 2;
        }
        GemulatorServer server = GemulatorServer.start(bind, port, p, maxFrame, token, inbox);
        System.out.println("gemulator serving " + bind + ":" + server.port() + " (profile " + p.name() + ", free-running)");
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
