package dev.gemulator.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.Traces;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A lockstep run on its own, with no client or with clients that misbehave. */
class LockstepRunTest {
    private static final String SCENARIO = "A: open card0 -> $fd\nA: create_dumb $fd 4 4 32 -> $h $p $s\nA: close $fd\n";

    @Test
    void theWatchdogNamesAClientThreadThatStaysInUserSpaceAndAbortEndsTheRunWithAWholeTrace() throws Exception {
        Script script = Parser.parse("w.gem", SCENARIO);
        Runner.RunOptions o = new Runner.RunOptions(1, Strategy.Name.RANDOM, 3, 1000);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LockstepRun run = new LockstepRun(200, new PrintStream(log, true, StandardCharsets.UTF_8));
        run.start(script, Traces.header("w.gem", SCENARIO, Profile.MODERN, o), Profile.MODERN, o, 3,
                new PrintStream(out, true, StandardCharsets.UTF_8));
        run.ask("A", 1, "open", line -> { });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!log.toString(StandardCharsets.UTF_8).contains("watchdog") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        String said = log.toString(StandardCharsets.UTF_8);
        assertTrue(said.startsWith("gemulator: watchdog: A has stayed in user space for "), said);
        assertTrue(said.contains("it has not asked for line 2 (create_dumb)"), said);
        run.abort();
        assertEquals(1, run.finished().get(20, TimeUnit.SECONDS), "statements not run: exit 1");
        assertEquals(1, run.results().size(), "no further iteration starts after an abort");
        java.util.List<String> lines = run.lastTrace().stream().filter(r -> r.hasLine()).map(r -> r.getLine().getText())
                .toList();
        assertTrue(lines.containsAll(java.util.List.of("2 A create_dumb gone", "3 A close skip gone")), lines.toString());
        assertTrue(run.lastTrace().getLast().hasEnd(), "the iteration's trace is whole");
    }

    @Test
    void aClientAskingForTheWrongStatementIsToldItIsOutOfStepAndItsProcessIsGone() throws Exception {
        Script script = Parser.parse("w.gem", SCENARIO);
        Runner.RunOptions o = new Runner.RunOptions(1, Strategy.Name.RANDOM, 3, 1000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LockstepRun run = new LockstepRun(60_000, System.err);
        run.start(script, Traces.header("w.gem", SCENARIO, Profile.MODERN, o), Profile.MODERN, o, 1,
                new PrintStream(out, true, StandardCharsets.UTF_8));
        java.util.concurrent.CompletableFuture<String> answer = new java.util.concurrent.CompletableFuture<>();
        run.ask("A", 3, "close", answer::complete);
        assertEquals("out of step: the scenario's next statement of A is line 1 (open), not line 3 (close)",
                answer.get(20, TimeUnit.SECONDS));
        assertEquals(1, run.finished().get(20, TimeUnit.SECONDS));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("1 A open gone\n2 A create_dumb skip gone\n"),
                out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aRunWhoseProcessNeverConnectsGivesUpAndNamesIt() throws Exception {
        String scenario = "A: open card0 -> $fa\nB: open card0 -> $fb\nC: open card0 -> $fc\n";
        Script script = Parser.parse("j.gem", scenario);
        Runner.RunOptions o = new Runner.RunOptions(1, Strategy.Name.RANDOM, 3, 1000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LockstepRun run = new LockstepRun(60_000, System.err);
        run.joinTimeout(java.time.Duration.ofSeconds(1), "j.gem");
        run.start(script, Traces.header("j.gem", scenario, Profile.MODERN, o), Profile.MODERN, o, 5,
                new PrintStream(out, true, StandardCharsets.UTF_8));
        run.clientJoined("A");
        run.ask("A", 1, "open", line -> { });
        run.finished().get(20, TimeUnit.SECONDS);
        assertEquals("gave up after 1 s (--join-timeout): processes B, C of j.gem never connected; start one client per"
                + " process (./gemulator client --proc P j.gem)", run.gaveUp());
        assertEquals(1, run.results().size(), "no further iteration starts");
        assertTrue(run.lastTrace().getLast().hasEnd(), "the iteration's trace is whole");
    }
}
