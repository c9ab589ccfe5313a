package dev.gemulator.lockstep;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.gemscript.Script;
import dev.gemulator.proto.ServerModes;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client process of a lockstep run: it walks the scenario and asks the
 * server for each statement of its own process, in order, its par threads
 * each on a thread of their own, and prints the lines the server answers.
 * Optional random delays before each request show that network timing does
 * not change the run.
 */
public final class LockstepClient {
    private final WireClient wire;
    private final String process;
    private final PrintStream out;
    private final long maxDelayMillis;
    private final Random delays;
    private final Faults faults;
    private final AtomicLong asked = new AtomicLong();
    private final AtomicInteger threadIds = new AtomicInteger();
    private int iteration;

    /**
     * Faults the client injects into its own run, for tests of how the
     * server copes: with {@code dieAfter} of 0 or more the whole JVM halts
     * (as if killed) instead of asking for statement number dieAfter+1; the
     * thread named {@code endThread} ("A.t1") ends after asking for
     * {@code endThreadAfter} of its statements, with the rest undone.
     */
    public record Faults(long dieAfter, String endThread, long endThreadAfter) {
        public static final Faults NONE = new Faults(-1, "", -1);
    }

    /** The thread ended early (a fault asked for it). */
    private static final class ThreadEnds extends RuntimeException {
        ThreadEnds() {
            super(null, null, false, false);
        }
    }

    private LockstepClient(WireClient wire, String process, PrintStream out, long maxDelayMillis, long delaySeed,
            Faults faults) {
        this.wire = wire;
        this.process = process;
        this.out = out;
        this.maxDelayMillis = maxDelayMillis;
        this.delays = new Random(delaySeed);
        this.faults = faults;
    }

    /** Runs process {@code process}'s part of {@code script} against the server; returns 0, or 1 if cut off. */
    public static int run(String host, int port, String token, Script script, String process, PrintStream out,
            long maxDelayMillis, long delaySeed) {
        return run(host, port, token, script, process, out, maxDelayMillis, delaySeed, Faults.NONE);
    }

    /** As above, with faults injected (see {@link Faults}). */
    public static int run(String host, int port, String token, Script script, String process, PrintStream out,
            long maxDelayMillis, long delaySeed, Faults faults) {
        return run(host, port, token, script, process, out, maxDelayMillis, delaySeed, faults, Duration.ZERO,
                out);
    }

    /**
     * As above; while no server listens yet, the client tries again for
     * {@code connectRetry}, saying so once on {@code notices}.
     */
    public static int run(String host, int port, String token, Script script, String process, PrintStream out,
            long maxDelayMillis, long delaySeed, Faults faults, Duration connectRetry, PrintStream notices) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        WireClient connected;
        try {
            connected = connect(group, host, port, process, token, out, connectRetry, notices);
        } catch (WireClient.ConnectionLost e) {
            notices.println("gemulator: " + process + ": " + e.getMessage());
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            return 2;
        }
        try (WireClient wire = connected) {
            if (wire.mode() != ServerMode.SERVER_MODE_LOCKSTEP) {
                out.println("gemulator: the server is not running a lockstep scenario (mode " + ServerModes.word(wire.mode()) + ")");
                return 2;
            }
            LockstepClient client = new LockstepClient(wire, process, out, maxDelayMillis, delaySeed, faults);
            int iterations = wire.iterations();
            int join = wire.joinIteration();
            if (join >= iterations) {
                out.println("gemulator: " + process + ": the run has no iteration left to join");
                return 0;
            }
            if (join > 0) {
                out.println("gemulator: " + process + ": joining the run at iteration " + join);
                out.flush();
            }
            for (int i = join; i < iterations; i++) {
                if (i > wire.welcomedDuring() && !awaitAgain(wire, i)) {
                    return 1;
                }
                client.iteration = i;
                client.threadIds.set(0);
                client.runThread(script.nodes(), process);
            }
            return 0;
        } catch (WireClient.ConnectionLost e) {
            out.println("gemulator: " + process + ": " + e.getMessage());
            return 1;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * Connects as {@code process}; while another client of the process is
     * connected (one that was killed a moment ago and the server has not seen
     * go, or one a supervisor is about to replace) it tries again, for a
     * minute.
     */
    private static WireClient connect(EventLoopGroup group, String host, int port, String process, String token,
            PrintStream out, Duration connectRetry, PrintStream notices) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean said = false;
        while (true) {
            WireClient wire = new WireClient(group, host, port, process, token, false, connectRetry,
                    m -> notices.println("gemulator: " + process + ": " + m));
            try {
                wire.mode();
                return wire;
            } catch (WireClient.ConnectionLost e) {
                wire.close();
                if (!e.getMessage().contains("is already connected") || System.nanoTime() > deadline) {
                    throw e;
                }
                if (!said) {
                    said = true;
                    out.println("gemulator: " + process + ": another client of " + process
                            + " is connected; waiting for it to go");
                    out.flush();
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Waits for the Again of iteration {@code i} (skipping older ones); false when the connection is gone. */
    private static boolean awaitAgain(WireClient wire, int i) {
        int a;
        do {
            a = wire.awaitAgain();
            if (a < 0) {
                return false;
            }
        } while (a < i);
        return true;
    }

    /** Runs a thread's statements; one that a fault ends early just stops. */
    private void runThread(List<Script.Node> nodes, String thread) {
        try {
            walk(nodes, thread, new long[1]);
        } catch (ThreadEnds e) {
            synchronized (out) {
                out.println("gemulator: " + thread + " ends early (fault injected)");
                out.flush();
            }
        }
    }

    private void walk(List<Script.Node> nodes, String thread, long[] mine) {
        for (Script.Node n : nodes) {
            switch (n) {
                case Script.Stmt s -> {
                    if (s.proc().equals(process)) {
                        ask(s, thread, mine);
                    }
                }
                case Script.Repeat r -> {
                    for (long i = 0; i < r.count(); i++) {
                        walk(r.body(), thread, mine);
                    }
                }
                case Script.Par p -> par(p);
            }
        }
    }

    private void par(Script.Par p) {
        List<Thread> mine = new ArrayList<>();
        for (Script.Thread t : p.threads()) {
            if (t.proc().equals(process)) {
                String name = t.proc() + "." + t.name();
                int id = threadIds.incrementAndGet();
                wire.threadStart(id, name);
                mine.add(Thread.ofPlatform().name(name).start(() -> {
                    try {
                        runThread(t.body(), name);
                    } finally {
                        wire.threadExit(id, iteration);
                    }
                }));
            }
        }
        for (Thread t : mine) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void ask(Script.Stmt s, String thread, long[] mine) {
        if (faults.dieAfter() >= 0 && asked.getAndIncrement() >= faults.dieAfter()) {
            out.flush();
            Runtime.getRuntime().halt(137);
        }
        if (thread.equals(faults.endThread()) && mine[0]++ >= faults.endThreadAfter()) {
            throw new ThreadEnds();
        }
        if (maxDelayMillis > 0) {
            long d;
            synchronized (delays) {
                d = (long) (delays.nextDouble() * maxDelayMillis);
            }
            try {
                Thread.sleep(d);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        String line = wire.call(Request.newBuilder().setThread(thread).setLine(s.line()).setOp(s.op().opName())
                .setIteration(iteration)).getText();
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}
