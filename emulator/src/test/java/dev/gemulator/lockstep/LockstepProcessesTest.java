package dev.gemulator.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.ServerMode;
import dev.gemulator.sched.Strategy;
import dev.gemulator.transport.GemulatorServer;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lockstep runs with real client processes (separate JVMs, random delays
 * before every request): the server's trace is the in-process run's, hash
 * for hash, whatever the timing; the 3.11 race hits the same use-after-free
 * at the same step for the same seed every time.
 */
@Tag("slow")
class LockstepProcessesTest {

    private static Path repo(String rel) {
        return Path.of(System.getProperty("gemulator.repo", "..")).resolve(rel);
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }

    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    /** A gemulator command line run in a JVM of its own, with the test's class path. */
    private static ProcessBuilder gemulator(String... args) {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", classPath(), "dev.gemulator.cli.Main"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true);
    }

    private static int freePort() throws java.io.IOException {
        try (var probe = new java.net.ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    /** The server process's output, read up to the line saying it listens. */
    private static java.io.BufferedReader awaitServing(Process server) throws java.io.IOException {
        java.io.BufferedReader said = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream(),
                StandardCharsets.UTF_8));
        String line;
        while ((line = said.readLine()) != null && !line.startsWith("gemulator serving")) {
            // wait until it listens
        }
        return said;
    }

    /** Runs the scenario in lockstep with one client JVM per process; returns the server's trace hash and output. */
    private static String[] lockstep(String rel, Profile profile, Runner.RunOptions o, List<String> processes,
            long delaySeed) throws Exception {
        return lockstep(rel, profile, o, processes, delaySeed, "", -1);
    }

    private static String[] lockstep(String rel, Profile profile, Runner.RunOptions o, List<String> processes,
            long delaySeed, String dying, long dieAfter) throws Exception {
        return lockstep(rel, profile, o, processes, delaySeed, dying, dieAfter, 1, null, port -> { });
    }

    private static String[] lockstep(String rel, Profile profile, Runner.RunOptions o, List<String> processes,
            long delaySeed, String dying, long dieAfter, int iterations, List<LockstepRun.Iteration> results,
            java.util.function.IntConsumer afterRun) throws Exception {
        return lockstep(rel, profile, o, processes, delaySeed, dying, dieAfter, iterations, results, afterRun, "");
    }

    private static String[] lockstep(String rel, Profile profile, Runner.RunOptions o, List<String> processes,
            long delaySeed, String dying, long dieAfter, int iterations, List<LockstepRun.Iteration> results,
            java.util.function.IntConsumer afterRun, String endThread) throws Exception {
        return lockstep(rel, profile, o, processes, delaySeed, dying, dieAfter, iterations, results, afterRun, endThread,
                port -> { });
    }

    private static String[] lockstep(String rel, Profile profile, Runner.RunOptions o, List<String> processes,
            long delaySeed, String dying, long dieAfter, int iterations, List<LockstepRun.Iteration> results,
            java.util.function.IntConsumer afterRun, String endThread, java.util.function.IntConsumer beforeClients)
            throws Exception {
        Path file = repo(rel);
        String text = Files.readString(file);
        Script script = Parser.parse(rel, text);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LockstepRun run = new LockstepRun(60_000, System.err);
        run.start(script, Traces.header(rel, text, profile, o), profile, o, iterations,
                new PrintStream(out, true, StandardCharsets.UTF_8));
        GemulatorServer server = GemulatorServer.startLockstep("127.0.0.1", 0, run, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null);
        List<Process> clients = new ArrayList<>();
        try {
            beforeClients.accept(server.port());
            for (String p : processes) {
                clients.add(gemulator("client", "--proc", p, "--port", String.valueOf(server.port()), "--max-delay-ms", "15",
                        "--delay-seed", String.valueOf(delaySeed * 31 + p.hashCode()),
                        "--die-after", String.valueOf(p.equals(dying) ? dieAfter : -1), "--end-thread", endThread,
                        file.toString()).redirectOutput(new File("/dev/null")).start());
            }
            int exit = run.finished().get(180, TimeUnit.SECONDS);
            if (results != null) {
                results.addAll(run.results());
            }
            for (Process c : clients) {
                assertTrue(c.waitFor(60, TimeUnit.SECONDS), "a client process did not finish");
            }
            afterRun.accept(server.port());
            return new String[] {TraceRecorder.hash(run.trace()), out.toString(StandardCharsets.UTF_8), String.valueOf(exit)};
        } finally {
            clients.forEach(Process::destroyForcibly);
            server.close();
        }
    }

    private static String inProcessHash(String rel, Profile profile, Runner.RunOptions o) throws Exception {
        String text = Files.readString(repo(rel));
        return Traces.run(Parser.parse(rel, text), Traces.header(rel, text, profile, o), profile, o).hash();
    }

    @Test
    void fourClientProcessesWithRandomDelaysGiveTheInProcessTraceAndTheKernelsOutput() throws Exception {
        Runner.RunOptions o = new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000);
        String expected = inProcessHash("conformance/processes.gem", Profile.MODERN, o);
        for (long delays = 1; delays <= 2; delays++) {
            String[] r = lockstep("conformance/processes.gem", Profile.MODERN, o, List.of("A", "B", "C", "D"), delays);
            assertEquals(expected, r[0], "trace hash, delay seed " + delays);
            assertEquals(Files.readString(repo("conformance/processes.expected")), r[1]);
        }
    }

    @Test
    void theRaceOfTwoThreadsOfARealProcessHitsTheSameUseAfterFreeEveryTime() throws Exception {
        Runner.RunOptions o = new Runner.RunOptions(11, Strategy.Name.POS, 3, 1000);
        String expected = inProcessHash("scenarios/export_vs_gem_close.gem", Profile.V3_11, o);
        for (long delays = 1; delays <= 2; delays++) {
            String[] r = lockstep("scenarios/export_vs_gem_close.gem", Profile.V3_11, o, List.of("A"), delays);
            assertEquals(expected, r[0], "trace hash, delay seed " + delays);
            assertEquals("3", r[2]);
            assertTrue(r[1].contains("report use-after-free drm_gem_prime_handle_to_fd: get of freed file#6(dma-buf)"), r[1]);
        }
    }

    @Test
    void twoRealProcessesRacingOnOneDrmFileHitTheUseAfterFreeAtTheSameStep() throws Exception {
        Runner.RunOptions o = new Runner.RunOptions(68, Strategy.Name.POS, 3, 1000);
        String expected = inProcessHash("scenarios/export_vs_gem_close_2proc.gem", Profile.V3_11, o);
        for (long delays = 1; delays <= 2; delays++) {
            String[] r = lockstep("scenarios/export_vs_gem_close_2proc.gem", Profile.V3_11, o, List.of("A", "B"), delays);
            assertEquals(expected, r[0], "trace hash, delay seed " + delays);
            assertTrue(r[1].contains("report use-after-free drm_gem_prime_handle_to_fd"), r[1]);
        }
    }

    @Test
    void aClientKilledMidRunBecomesItsProcessExitAtTheSamePointEveryTime() throws Exception {
        Runner.RunOptions o = new Runner.RunOptions(5, Strategy.Name.RANDOM, 3, 1000);
        String first = null;
        for (long delays = 1; delays <= 2; delays++) {
            String[] r = lockstep("scenarios/export_vs_gem_close_2proc.gem", Profile.MODERN, o, List.of("A", "B"), delays,
                    "B", 6);
            assertTrue(r[1].contains(" B.t create_dumb gone") || r[1].contains(" B.t handle_to_fd gone")
                    || r[1].contains(" B.t gem_close gone") || r[1].contains(" B.t close gone"), r[1]);
            assertTrue(r[1].contains("expectations: "), "the run went on to its end: " + r[1]);
            if (first == null) {
                first = r[0];
            } else {
                assertEquals(first, r[0], "the same trace both times");
            }
        }
    }

    @Test
    void iterationsWithTheSameClientProcessesExploreSeedAfterSeedLikeTheInProcessRuns() throws Exception {
        Runner.RunOptions o = new Runner.RunOptions(63, Strategy.Name.POS, 3, 1000);
        List<LockstepRun.Iteration> results = new java.util.ArrayList<>();
        lockstep("scenarios/export_vs_gem_close_2proc.gem", Profile.V3_11, o, List.of("A", "B"), 3, "", -1, 8, results,
                port -> { });
        assertEquals(8, results.size());
        String text = Files.readString(repo("scenarios/export_vs_gem_close_2proc.gem"));
        Script s = Parser.parse("scenarios/export_vs_gem_close_2proc.gem", text);
        for (LockstepRun.Iteration it : results) {
            Runner.RunOptions io = new Runner.RunOptions(it.seed(), Strategy.Name.POS, 3, 1000);
            String expected = Traces.run(s, Traces.header("scenarios/export_vs_gem_close_2proc.gem", text, Profile.V3_11, o)
                    .toBuilder().setSeed(it.seed()).build(), Profile.V3_11, io).hash();
            assertEquals(expected, it.traceHash(), "iteration with seed " + it.seed());
        }
        assertTrue(results.stream().anyMatch(it -> it.seed() == 68 && it.reports().stream()
                .anyMatch(r -> r.function().equals("drm_gem_prime_handle_to_fd"))), "seed 68 hits the use-after-free");
    }

    @Test
    void anObserverAsksTheRunsStatusAndFetchesTheLastIterationsTrace() throws Exception {
        Runner.RunOptions o = new Runner.RunOptions(67, Strategy.Name.POS, 3, 1000);
        List<LockstepRun.Iteration> results = new ArrayList<>();
        List<dev.gemulator.proto.v1.RunStatus> statuses = new ArrayList<>();
        List<byte[]> traces = new ArrayList<>();
        lockstep("scenarios/export_vs_gem_close_2proc.gem", Profile.V3_11, o, List.of("A", "B"), 4, "", -1, 2, results,
                port -> {
                    var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
                    try {
                        var observer = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", port, "observer", null, true);
                        statuses.add(observer.status());
                        traces.add(observer.fetchTrace());
                        observer.close();
                    } finally {
                        group.shutdownGracefully();
                    }
                });
        assertEquals(2, results.size());
        var status = statuses.get(0);
        assertEquals("lockstep", status.getMode());
        assertEquals(ServerMode.SERVER_MODE_LOCKSTEP, status.getServerMode());
        assertEquals(2, status.getIterations());
        assertEquals(2, status.getFinishedIterations());
        assertEquals(68, status.getSeed());
        assertEquals(List.of(), status.getProcessesList(), "the clients A and B have gone; an observer is none");
        assertTrue(status.getFindingsList().contains("use-after-free drm_gem_prime_handle_to_fd"),
                status.getFindingsList().toString());
        List<dev.gemulator.proto.v1.TraceRecord> last = TraceRecorder.read(new java.io.ByteArrayInputStream(traces.get(0)));
        assertEquals(results.get(1).traceHash(), TraceRecorder.hash(last), "the fetched trace is the last iteration's");
    }

    @Test
    void aClientThreadThatEndsEarlyLeavesItsStatementsUndoneAndItsProcessGoesOn() throws Exception {
        Runner.RunOptions o = new Runner.RunOptions(7, Strategy.Name.RANDOM, 3, 1000);
        String first = null;
        for (long delays = 1; delays <= 2; delays++) {
            String[] r = lockstep("scenarios/export_vs_gem_close.gem", Profile.MODERN, o, List.of("A"), delays, "", -1, 1,
                    null, port -> { }, "A.t1:5");
            assertEquals(1, r[1].split(" A.t1 [a-z_]+ gone\n", -1).length - 1, "one statement gone: " + r[1]);
            assertEquals(34, r[1].split(" A.t1 [a-z_]+ skip gone\n", -1).length - 1, "the rest skipped: " + r[1]);
            assertEquals(0, r[1].split(" A.t2 [a-z_]+ (skip )?gone\n", -1).length - 1, "A.t2 runs: " + r[1]);
            assertTrue(r[1].matches("(?s).*\n24 A close [^\n]*\n.*") && !r[1].contains("24 A close gone")
                    && !r[1].contains("24 A close skip"), "the process lives on to its last statement: " + r[1]);
            if (first == null) {
                first = r[0];
            } else {
                assertEquals(first, r[0], "the same trace whatever the timing");
            }
        }
        List<LockstepRun.Iteration> results = new ArrayList<>();
        lockstep("scenarios/export_vs_gem_close.gem", Profile.MODERN, o, List.of("A"), 3, "", -1, 2, results, port -> { },
                "A.t1:5");
        assertEquals(first, results.get(0).traceHash(), "iteration 0 is the single run");
        assertEquals(1, results.get(1).exitStatus(), "the thread ends early in the next iteration too");
    }

    @Test
    void aLockstepServerStoppedMidRunWritesTheWholeTraceOfTheIterationUnderWay() throws Exception {
        Path trace = Files.createTempFile("stopped", ".trace");
        Files.delete(trace);
        int port = freePort();
        Process server = gemulator("serve", "--port", String.valueOf(port), "--lockstep",
                repo("scenarios/export_vs_gem_close_2proc.gem").toString(), "--trace", trace.toString()).start();
        try {
            java.io.BufferedReader said = awaitServing(server);
            String line;
            Process client = gemulator("client", "--proc", "A", "--port", String.valueOf(port),
                    repo("scenarios/export_vs_gem_close_2proc.gem").toString()).redirectOutput(new File("/dev/null")).start();
            while ((line = said.readLine()) != null && !line.matches("\\d+ A [a-z_]+ ok.*")) {
                // wait until A's first statement ran (B never comes)
            }
            // SIGTERM (Process.destroy would close the pipe we read)
            assertEquals(0, new ProcessBuilder("kill", "-TERM", String.valueOf(server.pid())).start().waitFor());
            client.destroyForcibly();
            assertTrue(server.waitFor(60, TimeUnit.SECONDS));
            StringBuilder rest = new StringBuilder();
            while ((line = said.readLine()) != null) {
                rest.append(line).append('\n');
            }
            assertTrue(rest.toString().contains("gemulator: lockstep run done, trace sha256 "), rest.toString());
            List<dev.gemulator.proto.v1.TraceRecord> records;
            try (var in = Files.newInputStream(trace)) {
                records = TraceRecorder.read(in);
            }
            assertTrue(records.getFirst().hasHeader() && records.getLast().hasEnd(), "a whole trace");
            assertTrue(records.stream().anyMatch(r -> r.hasLine() && r.getLine().getText().matches("\\d+ B(\\.\\w+)? [a-z_]+ (skip )?gone")),
                    "B's statements are gone");
        } finally {
            server.destroyForcibly();
            Files.deleteIfExists(trace);
        }
    }

    @Test
    void aBarrageOfBadInputOnTheSameServerChangesNothingInTheLockstepRun() throws Exception {
        Runner.RunOptions o = new Runner.RunOptions(63, Strategy.Name.POS, 3, 1000);
        String rel = "scenarios/export_vs_gem_close_2proc.gem";
        String text = Files.readString(repo(rel));
        Script s = Parser.parse(rel, text);
        List<LockstepRun.Iteration> results = new ArrayList<>();
        java.util.concurrent.atomic.AtomicReference<dev.gemulator.fuzz.WireFuzzer.Result> fuzz =
                new java.util.concurrent.atomic.AtomicReference<>();
        List<Thread> fuzzer = new ArrayList<>();
        dev.gemulator.fuzz.Complaints complaints = new dev.gemulator.fuzz.Complaints();
        try (complaints) {
            lockstep(rel, Profile.V3_11, o, List.of("A", "B"), 5, "", -1, 8, results, port -> { }, "", port ->
                    fuzzer.add(Thread.ofPlatform().start(() -> {
                        try {
                            fuzz.set(dev.gemulator.fuzz.WireFuzzer.run(new dev.gemulator.fuzz.WireFuzzer.Config("127.0.0.1",
                                    port, null, 3, 20_000, 3, dev.gemulator.transport.GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
                                    "F")));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    })));
            fuzzer.getFirst().join();
        }
        assertEquals(List.of(), complaints.seen(), "the server (in this JVM) logged no warning and threw nothing");
        assertEquals(List.of(), fuzz.get().violations(), "every bad frame refused with a reason");
        assertTrue(fuzz.get().frames() >= 20_000);
        assertEquals(8, results.size());
        for (LockstepRun.Iteration it : results) {
            Runner.RunOptions io = new Runner.RunOptions(it.seed(), Strategy.Name.POS, 3, 1000);
            String expected = Traces.run(s, Traces.header(rel, text, Profile.V3_11, o).toBuilder().setSeed(it.seed())
                    .build(), Profile.V3_11, io).hash();
            assertEquals(expected, it.traceHash(), "iteration with seed " + it.seed() + " as if nothing else came");
        }
    }

    @Test
    void aFreeRunningServerKilledWithSignal9LeavesItsTraceReadableUpToItsLastFlush() throws Exception {
        Path trace = Files.createTempFile("killed", ".trace");
        int port = freePort();
        Process server = gemulator("serve", "--port", String.valueOf(port), "--trace", trace.toString()).start();
        var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try {
            awaitServing(server);
            try (var w = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", port, "A", null)) {
                var open = dev.gemulator.proto.v1.Syscall.newBuilder().setOpen(dev.gemulator.proto.v1.Open.newBuilder()
                        .setNode("card0"));
                for (int i = 0; i < 50; i++) {
                    assertEquals(0, w.call(dev.gemulator.proto.v1.Request.newBuilder().setCall(open)).getResult().getErrno());
                }
                Thread.sleep(300); // idle: the server has flushed
                server.destroyForcibly(); // SIGKILL
                assertTrue(server.waitFor(30, TimeUnit.SECONDS));
            }
            TraceRecorder.ReadBack back;
            try (var in = Files.newInputStream(trace)) {
                back = TraceRecorder.readCutOff(in);
            }
            assertTrue(back.records().getFirst().hasHeader());
            assertTrue(!back.ended(), "no end: the server was killed");
            List<String> lines = back.records().stream().filter(r -> r.hasLine()).map(r -> r.getLine().getText()).toList();
            assertEquals(50, lines.size(), "every request answered before the kill is in the trace");
            assertEquals("50 A open ok 52 0 0", lines.getLast());
        } finally {
            server.destroyForcibly();
            group.shutdownGracefully();
            Files.deleteIfExists(trace);
        }
    }
}
