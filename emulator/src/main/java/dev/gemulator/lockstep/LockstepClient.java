package dev.gemulator.lockstep;

import dev.gemulator.gemscript.Script;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.server.WireClient;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

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
    private final long dieAfter;
    private final java.util.concurrent.atomic.AtomicLong asked = new java.util.concurrent.atomic.AtomicLong();

    private LockstepClient(WireClient wire, String process, PrintStream out, long maxDelayMillis, long delaySeed,
            long dieAfter) {
        this.wire = wire;
        this.process = process;
        this.out = out;
        this.maxDelayMillis = maxDelayMillis;
        this.delays = new Random(delaySeed);
        this.dieAfter = dieAfter;
    }

    /** Runs process {@code process}'s part of {@code script} against the server; returns 0, or 1 if cut off. */
    public static int run(String host, int port, String token, Script script, String process, PrintStream out,
            long maxDelayMillis, long delaySeed) {
        return run(host, port, token, script, process, out, maxDelayMillis, delaySeed, -1);
    }

    /**
     * As above; with {@code dieAfter} of 0 or more the whole JVM halts (as if
     * killed) instead of asking for statement number dieAfter+1.
     */
    public static int run(String host, int port, String token, Script script, String process, PrintStream out,
            long maxDelayMillis, long delaySeed, long dieAfter) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (WireClient wire = new WireClient(group, host, port, process, token)) {
            if (!wire.mode().equals("lockstep")) {
                out.println("gemulator: the server is not running a lockstep scenario (mode " + wire.mode() + ")");
                return 2;
            }
            LockstepClient client = new LockstepClient(wire, process, out, maxDelayMillis, delaySeed, dieAfter);
            int iterations = wire.iterations();
            for (int i = 0; i < iterations; i++) {
                if (i > 0 && wire.awaitAgain() < 0) {
                    return 1;
                }
                client.walk(script.nodes(), process);
            }
            return 0;
        } catch (WireClient.ConnectionLost e) {
            out.println("gemulator: " + process + ": " + e.getMessage());
            return 1;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private void walk(List<Script.Node> nodes, String thread) {
        for (Script.Node n : nodes) {
            switch (n) {
                case Script.Stmt s -> {
                    if (s.proc().equals(process)) {
                        ask(s, thread);
                    }
                }
                case Script.Repeat r -> {
                    for (long i = 0; i < r.count(); i++) {
                        walk(r.body(), thread);
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
                mine.add(Thread.ofPlatform().name(name).start(() -> walk(t.body(), name)));
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

    private void ask(Script.Stmt s, String thread) {
        if (dieAfter >= 0 && asked.getAndIncrement() >= dieAfter) {
            out.flush();
            Runtime.getRuntime().halt(137);
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
        String line = wire.call(Request.newBuilder().setThread(thread).setLine(s.line()).setOp(s.op().opName())).getText();
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}
