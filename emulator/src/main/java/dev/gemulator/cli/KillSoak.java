package dev.gemulator.cli;

import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.lockstep.LockstepRun;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.Traces;
import dev.gemulator.transport.GemulatorServer;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A lockstep run whose client processes are killed (SIGKILL) and started
 * again, over and over, checked against the undisturbed run: the 3.11 race
 * of two processes ({@code scenarios/export_vs_gem_close_2proc.gem}, POS
 * from seed 26) for {@code iterations} iterations, with {@code kills} kills
 * of A and B in turn spread over the first nine tenths of the run. Every
 * kill is followed by a new client JVM for the killed process: for every
 * other kill it starts cold after the kill (and comes back late, after many
 * iterations), for the rest (and the last) it was started beforehand and
 * waits to connect (as a supervisor's warm standby would), so it comes back
 * at once. The next kill waits until the restart has joined and run three
 * iterations.
 *
 * <p>Where things happen is placed in iterations, not in seconds, so the
 * soak does the same on a fast machine and on a loaded one: the run is held
 * at the boundary before a kill's iteration while the standby starts, and
 * at most {@link #MAX_GONE} iterations after it, until the restart has
 * joined (a cold JVM takes from a fraction of a second to many seconds to
 * say Hello; the run goes on without the killed process meanwhile, up to
 * that boundary).
 *
 * <p>A kill's window runs from the iteration under way when it happened to
 * the one before its restart joined: there the killed process is gone (its
 * statements print "gone") and the iteration differs. Every iteration
 * outside the windows must have the trace hash the in-process run gives for
 * its seed. The test suite runs a small one, {@code ./gemulator bench rejoin}
 * the full 1,000 iterations with 20 kills.
 */
public final class KillSoak {
    public static final String SCENARIO = "scenarios/export_vs_gem_close_2proc.gem";
    /** Iterations a killed process may stay gone: the run waits at that boundary until its restart joins. */
    static final int MAX_GONE = 25;

    /** What one soak does: how long, how often, and how to start a client JVM ({@code java ... Main}). */
    public record Config(Path repo, int iterations, int kills, List<String> clientCommand) {
    }

    /** What the run did: its iterations, who joined when, and (iteration, process) of each kill. */
    public record Outcome(List<LockstepRun.Iteration> iterations, List<LockstepRun.Join> joins, List<Kill> kills,
            double seconds) {
    }

    /** A kill of {@code process} while the run was at {@code during}. */
    public record Kill(int during, String process) {
    }

    /** What the comparison found: iterations compared with the undisturbed run, matched, and in kill windows. */
    public record Verdict(int compared, int matched, int inWindows, List<String> mismatches) {
    }

    private KillSoak() {
    }

    /** The last lines a client printed (its log), for the message when it never joins. */
    private static String tail(Path log) {
        if (log == null) {
            return "not kept (a warm restart)";
        }
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return lines.isEmpty() ? "none" : String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    private static Process client(Config c, String process, int port, long delaySeed, Map<Process, Path> logs)
            throws IOException {
        File log = File.createTempFile("gemulator-killsoak-" + process + "-", ".log");
        log.deleteOnExit();
        Process p = new ProcessBuilder(command(c, process, port, delaySeed)).redirectErrorStream(true)
                .redirectOutput(log).start();
        logs.put(p, log.toPath());
        return p;
    }

    private static List<String> command(Config c, String process, int port, long delaySeed) {
        List<String> command = new ArrayList<>(c.clientCommand());
        command.addAll(List.of("client", "--proc", process, "--port", String.valueOf(port), "--delay-seed",
                String.valueOf(delaySeed), c.repo().resolve(SCENARIO).toString()));
        return command;
    }

    /**
     * A client started while the process's old client still runs: returns
     * once it says it waits for the old one to go (or after a minute), its
     * output read on a thread of its own from then on.
     */
    private static Process standby(Config c, String process, int port, long delaySeed) throws Exception {
        Process p = new ProcessBuilder(command(c, process, port, delaySeed)).redirectErrorStream(true).start();
        var waiting = new CountDownLatch(1);
        Thread.ofPlatform().daemon().start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.contains("waiting for it to go")) {
                        waiting.countDown();
                    }
                }
            } catch (IOException e) {
                // the client is gone
            }
        });
        waiting.await(60, TimeUnit.SECONDS);
        return p;
    }

    /** Runs the soak; {@code progress} (or null) hears of each kill and restart. */
    public static Outcome run(Config c, PrintStream progress) throws Exception {
        long t0 = System.nanoTime();
        String text = Files.readString(c.repo().resolve(SCENARIO));
        Script script = Parser.parse(SCENARIO, text);
        Runner.RunOptions o = new Runner.RunOptions(26, Strategy.Name.POS, 3, 1000);
        LockstepRun run = new LockstepRun(60_000, System.err);
        run.start(script, Traces.header(SCENARIO, text, Profile.V3_11, o), Profile.V3_11, o, c.iterations(),
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
        Map<String, Process> clients = new HashMap<>();
        Map<Process, Path> logs = new HashMap<>();
        List<Kill> killed = new ArrayList<>();
        try (GemulatorServer server = GemulatorServer.startLockstep("127.0.0.1", 0, run,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null)) {
            long seed = 1;
            for (String p : List.of("A", "B")) {
                clients.put(p, client(c, p, server.port(), seed++, logs));
            }
            int span = c.iterations() * 9 / 10;
            for (int k = 0; k < c.kills(); k++) {
                String victim = k % 2 == 0 ? "B" : "A";
                int at = Math.max((k + 1) * span / (c.kills() + 1), run.iteration() + 1);
                if (at + MAX_GONE + 3 >= c.iterations()) { // no rejoin left to check
                    if (progress != null) {
                        progress.printf("kill %d and later not made: %d iterations left%n", k + 1,
                                c.iterations() - at);
                    }
                    break;
                }
                run.holdBefore(at);
                while (!run.held() && !run.finished().isDone()) {
                    Thread.sleep(2);
                }
                boolean warm = k % 2 == 1 || k == c.kills() - 1;
                Process next = warm ? standby(c, victim, server.port(), seed++) : null;
                int joinsBefore = run.joins().size();
                // the restart is back within MAX_GONE iterations: the run waits there for it
                run.holdBefore(at + MAX_GONE);
                int during = run.iteration();
                clients.get(victim).destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                killed.add(new Kill(during, victim));
                clients.put(victim, warm ? next : client(c, victim, server.port(), seed++, logs));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (run.joins().size() == joinsBefore && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                if (run.joins().size() == joinsBefore) {
                    Process late = clients.get(victim);
                    throw new IllegalStateException("the restarted " + victim + " never said Hello (it "
                            + (late.isAlive() ? "still runs" : "exited with " + late.exitValue()) + "; its output: "
                            + tail(logs.get(late)) + ")");
                }
                run.release();
                int back = run.joins().getLast().from();
                while (run.iteration() < back + 3 && !run.finished().isDone()) {
                    Thread.sleep(2);
                }
                if (progress != null) {
                    progress.printf("kill %d of %s during iteration %d: back from iteration %d (%s restart)%n", k + 1,
                            victim, during, back, warm ? "warm" : "cold");
                    progress.flush();
                }
            }
            run.finished().get(60 + c.iterations() / 2, TimeUnit.SECONDS);
            for (Process p : clients.values()) {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("a client did not finish");
                }
            }
        } finally {
            run.release();
            clients.values().forEach(Process::destroyForcibly);
        }
        return new Outcome(List.copyOf(run.results()), List.copyOf(run.joins()), killed, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Compares every iteration outside the kill windows with the in-process
     * run of its seed. Throws when a restart never joined or joined no later
     * than its kill.
     */
    public static Verdict compare(Config c, Outcome out) throws Exception {
        String text = Files.readString(c.repo().resolve(SCENARIO));
        Script s = Parser.parse(SCENARIO, text);
        int n = out.iterations().size();
        boolean[] window = new boolean[n];
        List<LockstepRun.Join> rejoins = out.joins().subList(2, out.joins().size());
        if (rejoins.size() != out.kills().size()) {
            throw new IllegalStateException(out.kills().size() + " kills but " + rejoins.size() + " restarts joined");
        }
        for (int k = 0; k < out.kills().size(); k++) {
            Kill kill = out.kills().get(k);
            LockstepRun.Join back = rejoins.get(k);
            if (!back.process().equals(kill.process()) || back.from() <= kill.during() || back.from() >= n) {
                throw new IllegalStateException("kill " + kill + " was followed by " + back);
            }
            for (int i = kill.during(); i < back.from(); i++) {
                window[i] = true;
            }
        }
        int compared = 0;
        int matched = 0;
        int inWindows = 0;
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            LockstepRun.Iteration it = out.iterations().get(i);
            if (window[i]) {
                inWindows++;
                continue;
            }
            Runner.RunOptions io = new Runner.RunOptions(it.seed(), Strategy.Name.POS, 3, 1000);
            String undisturbed = Traces.run(s, Traces.header(SCENARIO, text, Profile.V3_11, io), Profile.V3_11, io).hash();
            compared++;
            if (undisturbed.equals(it.traceHash())) {
                matched++;
            } else {
                mismatches.add("iteration " + i + " (seed " + it.seed() + ")");
            }
        }
        return new Verdict(compared, matched, inWindows, mismatches);
    }
}
