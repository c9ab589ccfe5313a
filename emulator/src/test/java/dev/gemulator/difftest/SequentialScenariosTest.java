package dev.gemulator.difftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.gemscript.Op;
import dev.gemulator.gemscript.Parser;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The generator of sequential scenarios for differential testing: the same
 * seed gives the same text, every scenario parses and keeps to the
 * reference harness's version 0 and to the vetting rules, the statements
 * cover every op, and arguments are live, stale and odd.
 */
@Tag("slow")
class SequentialScenariosTest {
    private static final int SEEDS = 40;

    /** The ops of version 0 (what the reference harness runs). */
    static final Set<Op> VERSION_0 = EnumSet.complementOf(EnumSet.of(Op.SLEEP, Op.IOCTL, Op.FOREIGN_DMABUF, Op.INJECT,
            Op.RLIMIT_NOFILE, Op.CHECK_EQ, Op.CHECK_IN));

    /** The ops whose first argument is an fd. */
    private static final Set<String> FD_FIRST = Set.of("close", "dup", "send_fd", "version", "get_cap", "create_dumb",
            "map_dumb", "destroy_dumb", "gem_close", "flink", "gem_open", "handle_to_fd", "fd_to_handle", "lseek",
            "mmap", "sync", "fence_attach", "fence_signal", "poll", "export_sync_file", "import_sync_file",
            "get_magic", "auth_magic", "set_master", "drop_master");

    @Test
    void theSameSeedGivesTheSameTextAndOtherSeedsOtherTexts() {
        for (long seed = 1; seed <= 10; seed++) {
            assertEquals(SequentialScenarios.generate(seed).text(), SequentialScenarios.generate(seed).text());
        }
        assertNotEquals(SequentialScenarios.generate(1).text(), SequentialScenarios.generate(2).text());
    }

    @Test
    void everyScenarioParsesHasItsStatementCountAndKeepsToVersion0() throws Exception {
        Set<Integer> processes = new HashSet<>();
        for (long seed = 1; seed <= SEEDS; seed++) {
            Scenario s = SequentialScenarios.generate(seed);
            Parser.parse("seed-" + seed + ".gem", s.text());
            int n = s.lines().size();
            assertTrue(n >= 100 && n <= 250, "seed " + seed + ": " + n + " statements");
            Set<String> procs = new HashSet<>();
            for (Line l : s.lines()) {
                assertTrue(VERSION_0.contains(Op.byName(l.op())), "seed " + seed + ": " + l.text());
                procs.add(l.proc());
            }
            processes.add(procs.size());
            assertTrue(procs.size() <= 4, "seed " + seed);
            assertEquals(Set.of(), Set.copyOf(s.lines().stream().filter(l -> l.text().contains("!")).toList()),
                    "no statement states an expectation");
        }
        assertTrue(processes.containsAll(List.of(1, 2, 3, 4)), "1 to 4 processes: " + processes);
        Scenario small = SequentialScenarios.generate(5, 10, 12);
        assertTrue(small.lines().size() >= 10 && small.lines().size() <= 12, small.text());
    }

    @Test
    void theStatementsCoverEveryOpOfVersion0() {
        Set<Op> seen = EnumSet.noneOf(Op.class);
        for (long seed = 1; seed <= SEEDS; seed++) {
            for (Line l : SequentialScenarios.generate(seed).lines()) {
                seen.add(Op.byName(l.op()));
            }
        }
        assertEquals(VERSION_0, seen);
    }

    @Test
    void argumentsAreLiveStaleAndOdd() {
        int stale = 0;
        int odd = 0;
        int live = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            Set<String> closed = new HashSet<>();
            for (Line l : SequentialScenarios.generate(seed).lines()) {
                for (String a : l.args()) {
                    if (closed.contains(a)) {
                        stale++;
                    } else if (a.startsWith("$")) {
                        live++;
                    } else if (a.equals("-1") || a.startsWith("0x")) {
                        odd++;
                    }
                }
                if (l.op().equals("close") || l.op().equals("munmap") || l.op().equals("gem_close")) {
                    closed.add(l.args().get(l.args().size() - 1));
                }
            }
        }
        assertTrue(live > 10 * stale && stale > 100 && odd > 100, "live " + live + ", stale " + stale + ", odd " + odd);
    }

    @Test
    void noStatementNamesFd1Or2OrAnFdTheHarnessKeeps() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            for (Line l : SequentialScenarios.generate(seed).lines()) {
                List<String> fds = new java.util.ArrayList<>();
                if (FD_FIRST.contains(l.op())) {
                    fds.add(l.args().get(0));
                }
                if (l.op().equals("fd_to_handle") || l.op().equals("import_sync_file")) {
                    fds.add(l.args().get(1));
                }
                for (String fd : fds) {
                    if (!fd.startsWith("$")) {
                        long v = (int) (long) Long.decode(fd);
                        assertTrue(v != 1 && v != 2 && (v <= 64 || v >= 1024), "seed " + seed + ": " + l.text());
                    }
                }
            }
        }
    }

    @Test
    void generatedScenariosBreakNoVettingRuleAndRunOnTheEmulatorWithoutReports() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            Vetter.Run r = Vetter.run(SequentialScenarios.generate(seed));
            assertNull(r.violation(), "seed " + seed);
            assertTrue(!r.output().contains("\nreport "), "seed " + seed + ":\n" + r.output());
        }
    }
}
