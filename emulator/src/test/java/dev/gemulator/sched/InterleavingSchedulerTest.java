package dev.gemulator.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.kernel.Mutex;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The seeded interleaving: same seed, same run; deadlocks are found and reported with their cycle. */
class InterleavingSchedulerTest {

    private static String scenario(String name) throws Exception {
        return Files.readString(Path.of(System.getProperty("gemulator.repo", ".."), "scenarios", name));
    }

    private static String run(String text, long seed, String strategy, List<Report> reports) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Machine m = new Machine();
        new Runner(m, new PrintStream(bytes, true, StandardCharsets.UTF_8),
                new Runner.RunOptions(seed, Strategy.Name.parse(strategy), 3, 2_000)).run(Parser.parse("t.gem", text));
        reports.addAll(m.checkers().reports());
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theSameSeedGivesTheSameInterleavingAndOtherSeedsOtherOnes() throws Exception {
        String text = scenario("export_vs_gem_close.gem");
        List<String> outputs = new ArrayList<>();
        for (long seed = 1; seed <= 5; seed++) {
            String first = run(text, seed, "random", new ArrayList<>());
            assertEquals(first, run(text, seed, "random", new ArrayList<>()), "seed " + seed);
            outputs.add(first);
        }
        assertNotEquals(outputs.get(0), outputs.get(1));
        assertTrue(outputs.stream().distinct().count() >= 4, "seeds interleave differently");
    }

    @Test
    void exportVsGemCloseIsSafeOnTheModernKernelUnderEveryStrategy() throws Exception {
        String text = scenario("export_vs_gem_close.gem");
        for (String strategy : List.of("random", "pct", "pos")) {
            for (long seed = 1; seed <= 30; seed++) {
                List<Report> reports = new ArrayList<>();
                String out = run(text, seed, strategy, reports);
                assertEquals(List.of(), reports, strategy + " seed " + seed + "\n" + out);
                assertTrue(out.contains(", 0 failed"), out);
            }
        }
    }

    @Test
    void locksTakenInOppositeOrderDeadlockUnderSomeSeedAndTheCycleIsReported() {
        int deadlocks = 0;
        for (long seed = 0; seed < 40; seed++) {
            Machine m = new Machine();
            Mutex a = new Mutex(m.kernel(), "lock_a");
            Mutex b = new Mutex(m.kernel(), "lock_b");
            Process p = m.spawn("P");
            Task t1 = p.newTask("P.t1");
            Task t2 = p.newTask("P.t2");
            InterleavingScheduler s = new InterleavingScheduler(m.kernel(), new Strategy.RandomWalk(), new Random(seed));
            s.run(List.of(
                    new InterleavingScheduler.ThreadSpec("P.t1", t1, () -> {
                        a.lock("f1");
                        b.lock("f1");
                        b.unlock("f1");
                        a.unlock("f1");
                    }),
                    new InterleavingScheduler.ThreadSpec("P.t2", t2, () -> {
                        b.lock("f2");
                        a.lock("f2");
                        a.unlock("f2");
                        b.unlock("f2");
                    })));
            List<Report> dl = m.checkers().reports().stream().filter(r -> r.kind() == Report.Kind.DEADLOCK).toList();
            List<Report> order = m.checkers().reports().stream().filter(r -> r.kind() == Report.Kind.LOCK_ORDER).toList();
            if (dl.isEmpty()) {
                assertEquals(1, order.size(), "lockdep sees the inversion without a deadlock, seed " + seed);
                assertTrue(order.get(0).detail().contains("possible circular locking"), order.get(0).detail());
            }
            if (!dl.isEmpty()) {
                deadlocks++;
                assertEquals(2, dl.size(), dl.toString());
                assertTrue(dl.get(0).detail().contains("(cycle)"), dl.get(0).detail());
                assertTrue(dl.get(0).detail().contains("it holds"), dl.get(0).detail());
                assertTrue(t1.isHung() && t2.isHung());
            } else {
                assertTrue(!a.isLocked() && !b.isLocked(), "seed " + seed);
            }
        }
        assertTrue(deadlocks > 0 && deadlocks < 40, "some seeds deadlock, some do not: " + deadlocks);
    }

    @Test
    void aSleeperIsWokenByASignalFromAnotherThreadInVirtualTime() throws Exception {
        String text = """
                A: open card0 -> $fd
                A: create_dumb $fd 1 1 8 -> $h
                A: handle_to_fd $fd $h RDWR -> $d
                A: fence_attach $fd $h WRITE -> $f
                par {
                  thread A.waiter {
                    A: poll $d IN 5000 !ok
                  }
                  thread A.signaller {
                    A: sleep 100
                    A: fence_signal $fd $f !ok
                  }
                }
                """;
        List<Report> reports = new ArrayList<>();
        String out = run(text, 7, "random", reports);
        assertTrue(out.contains("A.waiter poll ok IN"), out);
        assertTrue(out.contains("A.signaller fence_signal ok"), out);
        assertEquals(List.of(), reports);
    }
}
