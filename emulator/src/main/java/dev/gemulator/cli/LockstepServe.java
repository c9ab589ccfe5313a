package dev.gemulator.cli;

import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.lockstep.LockstepRun;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.Limits;
import dev.gemulator.server.ServerMetrics;
import dev.gemulator.server.Simulation;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import dev.gemulator.transport.GemulatorServer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code serve --lockstep FILE.gem}: runs the scenario in lockstep with its
 * client processes for {@code iterations} iterations (seed after seed),
 * serving them until the run ends or is stopped (Ctrl-C ends the iteration
 * under way); then writes the trace and prints the summary: over several
 * iterations, every finding with how often and first at which seed.
 */
final class LockstepServe {
    /** What serve was told. */
    record Settings(Path scenario, String bind, int port, Profile profile, String token, int maxFrame, Limits limits,
            long seed, Strategy.Name strategy, int pctDepth, int iterations, long watchdogMillis, long joinTimeoutSeconds,
            Path traceOut, int metricsPort, String metricsBind) {
    }

    private final Settings s;
    private Integer finished;

    LockstepServe(Settings s) {
        this.s = s;
    }

    int serve() throws Exception {
        String text;
        Script script;
        try {
            text = Files.readString(s.scenario(), StandardCharsets.UTF_8);
            script = Parser.parse(s.scenario().toString(), text);
        } catch (IOException e) {
            System.err.println("gemulator: cannot read " + s.scenario() + ": " + e.getMessage());
            return 2;
        } catch (ParseException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        }
        if (s.traceOut() != null) {
            UserError.create(s.traceOut(), "--trace").close(); // told now, not after the run; written at its end
        }
        long pctSteps = s.strategy() == Strategy.Name.PCT ? Runner.measureSteps(script, s.profile()) : 0;
        var options = new Runner.RunOptions(s.seed(), s.strategy(), s.pctDepth(), pctSteps);
        var run = new LockstepRun(s.watchdogMillis(), System.err);
        run.joinTimeout(Duration.ofSeconds(s.joinTimeoutSeconds()), s.scenario().toString());
        var header = Traces.header(s.scenario().toString(), text, s.profile(), options);
        if (s.metricsPort() >= 0) {
            var metrics = new ServerMetrics();
            try {
                System.out.println("gemulator metrics on http://" + s.metricsBind() + ":"
                        + metrics.serve(s.metricsBind(), s.metricsPort()) + "/metrics");
            } catch (IOException | RuntimeException e) { // an address that does not resolve is unchecked
                System.err.println("gemulator: cannot serve metrics on " + s.metricsBind() + ":" + s.metricsPort() + ": "
                        + e.getMessage());
                return 2;
            }
            run.onIteration((it, trace) -> {
                metrics.run("lockstep", trace.stream().filter(r -> r.hasDecision()).count());
                it.reports().forEach(r -> metrics.report(r.kind().label()));
                metrics.devices(run.machine().kernel());
            });
        }
        run.start(script, header, s.profile(), options, Math.max(1, s.iterations()), System.out);
        GemulatorServer server = ServeCommand.listen(s.bind(), s.port(),
                () -> GemulatorServer.startLockstep(s.bind(), s.port(), run, s.maxFrame(), s.token(), s.limits()));
        Thread hook = new Thread(() -> {
            // Ctrl-C or kill: end the run early but completely, and write its whole trace
            if (!run.finished().isDone()) {
                run.abort();
            }
            try {
                run.finished().get(30, TimeUnit.SECONDS);
                finish(run, server);
            } catch (Exception e) {
                System.err.println("gemulator: the run did not end in time: " + e);
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        System.err.println("gemulator serving " + s.bind() + ":" + server.port() + " (profile " + s.profile().name()
                + ", lockstep run of " + s.scenario() + ", seed " + s.seed() + ", strategy " + s.strategy() + ")");
        try {
            run.finished().get();
        } catch (ExecutionException e) {
            // an Error of the run's thread: say so, keep what the iteration recorded, and stop loudly
            System.err.println("gemulator: FATAL: the lockstep run failed: " + e.getCause());
            e.getCause().printStackTrace(System.err);
            server.close();
            writeTrace(run);
            return Simulation.FAILED_EXIT_STATUS;
        }
        return finish(run, server);
    }

    /** Writes the run's trace to --trace, if given. */
    private void writeTrace(LockstepRun run) {
        if (s.traceOut() != null && run.machine() != null) {
            try (var os = new BufferedOutputStream(Files.newOutputStream(s.traceOut()))) {
                TraceRecorder.write(run.trace(), os);
            } catch (IOException | RuntimeException e) {
                System.err.println("gemulator: cannot write " + s.traceOut() + ": " + e.getMessage());
            }
        }
    }

    /** Closes the server, writes the trace and prints the summary; once, whether the run ended or was stopped. */
    private synchronized int finish(LockstepRun run, GemulatorServer server)
            throws InterruptedException, ExecutionException {
        if (finished != null) {
            return finished;
        }
        int exit = run.finished().get();
        server.close();
        String hash = TraceRecorder.hash(run.trace());
        writeTrace(run);
        System.out.flush();
        if (run.gaveUp() != null) {
            System.err.println("gemulator: " + run.gaveUp());
            finished = 1;
            return 1;
        }
        System.err.println("gemulator: lockstep run done, trace sha256 " + hash);
        int ran = run.results().size();
        if (s.iterations() > 1) {
            Map<String, long[]> findings = new TreeMap<>();
            for (var it : run.results()) {
                Set<String> here = new TreeSet<>();
                it.reports().forEach(r -> here.add(r.kind().label() + " " + r.function()));
                if (it.failure() != null) {
                    here.add("expectation " + it.failure().substring(0, it.failure().indexOf(':')));
                }
                for (String k : here) {
                    findings.computeIfAbsent(k, x -> new long[] {it.seed(), 0})[1]++;
                }
            }
            System.out.printf(Locale.ROOT, "iterations: %d%s, device reset between them: %.0f us on average%n",
                    ran, ran < s.iterations() ? " of " + s.iterations() + " (stopped)" : "", run.meanResetNanos() / 1000);
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
