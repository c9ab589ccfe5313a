package dev.gemulator.cli;

import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.transport.SeededServer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code serve --seed S [--strategy X] [--procs A,B | N] [--iterations N]}:
 * the seeded server for real programs. Each iteration is one run of seed
 * S, S+1, ...: it starts when the processes it waits for have joined and
 * ends when every one has exited; persistent clients (the client library's
 * Race.iterate) take part in the next one, others connect again.
 */
final class SeededServe {
    /** What serve was told. */
    record Settings(String bind, int port, Path socket, Profile profile, String token, int maxFrame, int maxClients,
            int maxFds, long seed, Strategy.Name strategy, int pctDepth, long pctSteps, List<String> procs, int iterations,
            long watchdogMillis, Path traceOut) {
    }

    private final Settings s;
    private final PrintStream out;
    private final PrintStream err;

    SeededServe(Settings s, PrintStream out, PrintStream err) {
        this.s = s;
        this.out = out;
        this.err = err;
    }

    /** The processes by name, or empty and a count ("--procs 2"). */
    private static int count(List<String> procs) {
        return procs.size() == 1 && procs.get(0).matches("\\d+") ? Integer.parseInt(procs.get(0)) : 0;
    }

    int serve() throws InterruptedException {
        List<String> names = count(s.procs()) > 0 ? List.of() : s.procs();
        int n = count(s.procs()) > 0 ? count(s.procs()) : 0;
        for (String name : names) {
            if (!name.matches("[A-Za-z][A-Za-z0-9_]{0,63}")) {
                err.println("gemulator: --procs: bad process name '" + name + "'");
                return 2;
            }
        }
        SeededServer server;
        try {
            server = SeededServer.start(s.bind(), s.port(), s.token(), s.maxFrame(), s.maxClients(), err);
        } catch (RuntimeException e) {
            err.println("gemulator: cannot listen on " + s.bind() + ":" + s.port() + ": " + e.getMessage());
            return 1;
        }
        if (s.socket() != null) {
            try {
                server.listenUnix(s.socket());
            } catch (RuntimeException e) {
                server.close();
                err.println("gemulator: cannot listen on " + s.socket() + ": " + e.getMessage());
                return 1;
            }
        }
        String who = names.isEmpty() ? n + " process" + (n == 1 ? "" : "es") : "processes " + String.join(", ", names);
        err.println("gemulator serving " + s.bind() + ":" + server.port() + (s.socket() != null ? " and " + s.socket() : "")
                + " (profile " + s.profile().name() + ", seeded: seed " + s.seed() + ", strategy " + s.strategy()
                + ", " + s.iterations() + " iteration" + (s.iterations() == 1 ? "" : "s") + "; waiting for " + who + ")");
        err.flush();
        SeededRun.Config base = new SeededRun.Config(s.profile(), s.seed(), s.strategy(), s.pctDepth(), s.pctSteps(),
                names, n, s.traceOut() != null, "serve --seed", null, s.watchdogMillis(), s.maxFds());
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            SeededRun r = server.current();
            if (r != null) {
                r.abort("the server was stopped");
            }
            try {
                done.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        Map<String, long[]> findings = new TreeMap<>();
        int ran = 0;
        SeededRun.Result last = null;
        try {
            for (int i = 0; i < s.iterations(); i++) {
                SeededRun run = server.next(base.withSeed(s.seed() + i).tracing(s.traceOut() != null));
                SeededRun.Result r;
                try {
                    r = run.finished().get();
                } catch (ExecutionException e) {
                    err.println("gemulator: the run of seed " + run.seed() + " failed: " + e.getCause());
                    return 1;
                }
                last = r;
                if (!r.started()) {
                    break;
                }
                ran++;
                out.println("iteration " + i + " " + SeededRun.describe(r)
                        + (r.traceHash().isEmpty() ? "" : ", trace " + r.traceHash().substring(0, 16)));
                out.flush();
                Set<String> here = new TreeSet<>();
                r.reports().forEach(x -> here.add(x.kind().label() + " " + x.function()));
                for (String k : here) {
                    findings.computeIfAbsent(k, x -> new long[] {r.seed(), 0})[1]++;
                }
                r.reports().forEach(x -> out.println("  " + x.line()));
                if (r.aborted()) {
                    break;
                }
            }
        } finally {
            server.close();
            if (last != null && s.traceOut() != null && !last.trace().isEmpty()) {
                try (var os = new BufferedOutputStream(Files.newOutputStream(s.traceOut()))) {
                    TraceRecorder.write(last.trace(), os);
                    err.println("gemulator: trace of seed " + last.seed() + " in " + s.traceOut() + ", sha256 "
                            + last.traceHash());
                } catch (IOException e) {
                    err.println("gemulator: cannot write " + s.traceOut() + ": " + e.getMessage());
                }
            }
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already
            }
        }
        int total = ran;
        out.println(findings.isEmpty() ? "findings: none" : "findings: " + findings.size());
        findings.forEach((k, v) -> out.println("  " + k + " (" + v[1] + " of " + total + " runs, first at seed " + v[0]
                + ")"));
        out.flush();
        return findings.isEmpty() ? 0 : 3;
    }
}
