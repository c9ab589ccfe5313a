package dev.gemulator.difftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Minimisation: dropping statements keeps the scenario parseable (uses of a
 * dropped variable become the value printed for it, or go), and against a
 * stand-in oracle that differs from the emulator in one known way the
 * minimiser finds the shortest scenario that shows it. Also the comparison
 * of outputs.
 */
class MinimizerTest {

    private static final String TEXT = """
            # a comment line
            A: open card0 -> $fd
            A: create_dumb $fd 1 1 8 -> $h $p $s
            A: version $fd -> $v
            A: read 1 0 2 -> $r
            A: handle_to_fd $fd $h RDWR -> $d
            A: write 1 0 $r
            A: lseek $d 0 END -> $x
            A: mmap $fd $v 4096 -> $m
            """;

    private static final String PRINTED = """
            2 A open ok 3
            3 A create_dumb ok 1 1 4096
            4 A version ok vgem
            5 A read err EINVAL
            6 A handle_to_fd ok 4
            7 A write err EINVAL
            8 A lseek ok 4096
            9 A mmap skip unbound $v
            expectations: 6 passed, 2 failed
            """;

    @Test
    void droppingABindingStatementPutsThePrintedValueInItsUses() {
        Scenario s = Scenario.parse(TEXT);
        assertEquals(TEXT, s.text());
        Scenario without = Minimizer.without(s, PRINTED, 0, 1);
        assertEquals("A: create_dumb 3 1 1 8 -> $h $p $s", without.lines().get(0).text());
        assertEquals("A: handle_to_fd 3 $h RDWR -> $d", without.lines().get(3).text());
        Scenario noExport = Minimizer.without(s, PRINTED, 4, 5);
        assertEquals("A: lseek 4 0 END -> $x", noExport.lines().get(5).text());
        Scenario noRead = Minimizer.without(s, PRINTED, 3, 4);
        assertEquals("A: write 1 0 hex:", noRead.lines().get(4).text(), "a failed read binds no bytes");
    }

    @Test
    void aUseNoLiteralCanStandForGoesWithItsBinder() {
        Scenario s = Scenario.parse(TEXT);
        Scenario noVersion = Minimizer.without(s, PRINTED, 2, 3);
        assertEquals(List.of("open", "create_dumb", "read", "handle_to_fd", "write", "lseek"),
                noVersion.lines().stream().map(Line::op).toList(), "mmap of a string offset cannot be written");
        assertNull(Minimizer.without(s, PRINTED, 0, 0), "nothing removed");
    }

    @Test
    void theFirstDifferenceAndItsSignature() {
        assertNull(Difference.between("1 A open ok 3\nexpectations: 1 passed, 0 failed\n",
                "1 A open ok 3\nexpectations: 1 passed, 0 failed\n"));
        Difference d = Difference.between("1 A open ok 3\n2 A mmap err EOVERFLOW\nexpectations: 1 passed, 1 failed\n",
                "1 A open ok 3\n2 A mmap err EINVAL\nexpectations: 1 passed, 1 failed\n");
        assertEquals(2, d.line());
        assertEquals("mmap: oracle err EOVERFLOW, emulator err EINVAL", d.signature());
        Difference v = Difference.between("1 A map_dumb ok 4294971392\n", "1 A map_dumb ok 4294979584\n");
        assertEquals("map_dumb: both ok, other values", v.signature());
        Difference r = Difference.between("1 A open ok 3\nexpectations: 1 passed, 0 failed\n",
                "1 A open ok 3\nreport use-after-free fdget: file F1\nexpectations: 1 passed, 0 failed\n");
        assertEquals(0, r.line());
        assertEquals("report use-after-free fdget: oracle summary, emulator report use-after-free fdget",
                r.signature());
    }

    /**
     * A stand-in for the real kernel: the emulator, except that a second
     * flink of an object answers 99, so a scenario that flinks one object
     * twice differs.
     */
    private static Oracle.Result flinkTwiceAnswers99(String text) {
        String out = Vetter.run(Scenario.parse(text)).output();
        StringBuilder b = new StringBuilder();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String l : out.split("\n")) {
            String[] t = l.split(" ");
            if (t.length == 5 && t[2].equals("flink") && t[3].equals("ok") && !seen.add(t[4])) {
                l = t[0] + " " + t[1] + " flink ok 99";
            }
            b.append(l).append('\n');
        }
        return new Oracle.Result(b.toString(), 0, "");
    }

    @Test
    void anOracleRunsItsScriptOnceAndAnswersFromTheCacheAfter(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("run.sh");
        Path count = dir.resolve("runs");
        Files.writeString(script, "#!/bin/sh\necho run >> " + count + "\nsed 's/^/1 A open ok /' \"$1\"\n"
                + "echo 'expectations: 1 passed, 0 failed'\necho note >&2\nexit 1\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Oracle oracle = new Oracle(script, dir.resolve("cache"), false);
        assertTrue(oracle.unavailable().contains("not set up"), oracle.unavailable());
        Files.createDirectories(dir.resolve(".build"));
        Files.writeString(dir.resolve(".build/initramfs.cpio"), "");
        assertNull(oracle.unavailable());
        for (int i = 0; i < 2; i++) {
            Oracle.Result r = oracle.run("x\n");
            assertEquals("1 A open ok x\nexpectations: 1 passed, 0 failed\n", r.output());
            assertEquals(1, r.exitStatus());
            assertEquals("note\n", r.notes());
        }
        assertEquals(List.of("run"), Files.readAllLines(count), "the second answer came from the cache");
        assertTrue(new Oracle(dir.resolve("missing.sh"), dir, false).unavailable().startsWith("no oracle at "));
    }

    @Test
    void theMinimiserFindsTheShortestScenarioThatStillDiffers(@TempDir Path dir) throws Exception {
        Oracle oracle = new Oracle(MinimizerTest::flinkTwiceAnswers99, dir.resolve("cache"));
        Scenario s = Scenario.parse("""
                # seed 0
                A: open card0 -> $fd
                B: open card0 -> $g
                A: create_dumb $fd 4 4 32 -> $h $p $s
                B: create_dumb $g 1 1 8 -> $k $q $t
                A: flink $fd $h -> $n
                B: version $g -> $v
                A: map_dumb $fd $h -> $o
                A: flink $fd $h -> $n2
                B: flink $g $k -> $m
                A: gem_close $fd $h
                """);
        Oracle.Result real = oracle.run(s.text());
        Difference d = Difference.between(real.output(), Vetter.run(s).output());
        assertEquals(9, d.line());
        Minimizer.Result m = new Minimizer(oracle, 2, new PrintStream(java.io.OutputStream.nullOutputStream()))
                .minimize(s, d);
        assertEquals(List.of("A: open card0 -> $fd", "A: create_dumb $fd 4 4 32 -> $h $p $s", "A: flink $fd $h -> $n",
                "A: flink $fd $h -> $n2"), m.scenario().lines().stream().map(Line::text).toList());
        assertTrue(m.oracleOutput().contains("flink ok 99"), m.oracleOutput());
        assertTrue(oracle.cached(m.scenario().text()));
    }
}
