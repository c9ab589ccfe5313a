package dev.gemulator.client;

import java.util.function.Consumer;

/**
 * A program's entry points for races ({@code gemulator race -- PROGRAM},
 * {@code serve --seed}). The race runner tells the program where the seeded
 * server is and which process it is through the environment:
 * {@code GEMULATOR_SERVER} (host:port, default 127.0.0.1:7070),
 * {@code GEMULATOR_PROCESS} (default "A") and {@code GEMULATOR_TOKEN}.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     Race.iterate(a -> {                       // once per seed, same JVM
 *         DrmFd fd = a.open("card0");
 *         ClientThread t = ClientThread.start(a, () -> fd.gemClose(1));
 *         ...
 *         t.join();
 *     });
 * }
 * }</pre>
 *
 * <p>{@link #iterate} is the persistent entry point: the program connects
 * once and runs its part for seed after seed (the server resets the device
 * and says Again between them), which is much faster than a launch per
 * seed. A program with a plain {@code main} uses {@link #connect()} and is
 * launched again for every seed.
 */
public final class Race {
    /** The line a persistent program prints before each seed's part, when the race runner asks for it. */
    public static final String MARKER = "gemulator-race: seed ";

    private Race() {
    }

    /** The server's host and port from {@code GEMULATOR_SERVER}. */
    private static String[] server() {
        String s = System.getenv().getOrDefault("GEMULATOR_SERVER", "127.0.0.1:7070");
        int colon = s.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("GEMULATOR_SERVER wants host:port, not '" + s + "'");
        }
        return new String[] {s.substring(0, colon), s.substring(colon + 1)};
    }

    /**
     * The name of the process the race runner launched this program as.
     *
     * @return {@code GEMULATOR_PROCESS}, else "A"
     */
    public static String processName() {
        return System.getenv().getOrDefault("GEMULATOR_PROCESS", "A");
    }

    /**
     * The drm fd {@code number} of {@code process} as a {@link DrmFd}, for a
     * number the program knows some other way than
     * {@link ClientProcess#receiveFd} (which types what it receives itself).
     * Closing it is close(2).
     *
     * @param process the process that has it
     * @param number its fd number
     * @return the fd
     */
    public static DrmFd drmFd(ClientProcess process, int number) {
        return new DrmFd(process, number);
    }

    /**
     * A connection to the server the environment names, for a program launched once per seed.
     *
     * @return the connection (each process connects on its first call)
     */
    public static Gemulator connect() {
        String[] hp = server();
        return new Gemulator(new RaceTransport(hp[0], Integer.parseInt(hp[1]), System.getenv("GEMULATOR_TOKEN"), false));
    }

    /**
     * {@link #iterate(String, Consumer)} as the process the environment names.
     *
     * @param body one seed's part of the program
     * @return how many runs of the body threw
     */
    public static int iterate(Consumer<ClientProcess> body) {
        return iterate(processName(), body);
    }

    /**
     * Runs {@code body} as the main thread of process {@code name}, once for
     * every seed the seeded server runs with this program (once against a
     * free-running server). After each run of the body the threads it
     * started and did not join are joined, and the process exits with status
     * 0, or 1 when the body threw (its stack trace goes to stderr); then the
     * next seed's device starts from scratch. Returns when the server has no
     * more seeds for it.
     *
     * @param name the process's name
     * @param body one seed's part of the program, run as the process's main thread
     * @return how many runs of the body threw
     */
    public static int iterate(String name, Consumer<ClientProcess> body) {
        String[] hp = server();
        return iterate(hp[0], Integer.parseInt(hp[1]), System.getenv("GEMULATOR_TOKEN"), name, body);
    }

    /**
     * {@link #iterate(String, Consumer)} against a server named here rather than by the environment.
     *
     * @param host the server's address
     * @param port its port
     * @param token its token, or null
     * @param name the process's name
     * @param body one seed's part of the program
     * @return how many runs of the body threw
     */
    public static int iterate(String host, int port, String token, String name, Consumer<ClientProcess> body) {
        boolean markers = System.getenv("GEMULATOR_RACE_MARKERS") != null;
        int failed = 0;
        try (Gemulator g = new Gemulator(new RaceTransport(host, port, token, true))) {
            RaceTransport t = (RaceTransport) g.transport();
            ClientProcess p = g.process(name);
            boolean seeded = t.seeded(name);
            Long seed = t.seed(name);
            while (seed != null) {
                if (markers) {
                    System.err.flush();
                    System.out.println(MARKER + seed);
                    System.out.flush();
                }
                int status = 0;
                try {
                    body.accept(p);
                } catch (RaceConnection.Lost e) {
                    System.err.println("gemulator: " + e.getMessage());
                    return failed + 1;
                } catch (RuntimeException | Error e) {
                    e.printStackTrace();
                    status = 1;
                    failed++;
                }
                System.out.flush();
                System.err.flush();
                try {
                    t.exit(name, status);
                } catch (RaceConnection.Lost e) {
                    return failed;
                }
                g.forgetChannels(name); // the next run's device is new: no channel of this run's stays open
                seed = seeded ? t.awaitAgain(name) : null;
            }
        }
        return failed;
    }
}
