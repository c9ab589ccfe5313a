package dev.gemulator.gemscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The scenario language: parse errors name line and column; the runner's output and exit status. */
class ParserTest {

    private static ParseException parseError(String text) {
        return assertThrows(ParseException.class, () -> Parser.parse("t.gem", text));
    }

    private static void assertAt(int line, int column, String text) {
        ParseException e = parseError(text);
        assertEquals(line, e.line(), e.getMessage());
        assertEquals(column, e.column(), e.getMessage());
    }

    @Test
    void parseErrorsNameTheLineAndColumn() {
        assertAt(1, 4, "A: frobnicate 3");
        assertAt(2, 1, "A: open card0 -> $fd\n1: open card0");
        assertAt(1, 3, "A open card0");
        assertAt(1, 12, "A: close 3 4");
        assertAt(1, 10, "A: close $nope");
        assertAt(1, 9, "A: open card0x");
        assertAt(1, 12, "A: close 3 !EWHATEVER");
        assertAt(2, 1, "A: exit\nA: open card0");
        assertAt(1, 15, "A: open card0 ->");
        assertAt(1, 12, "A: close 3 junk");
    }

    @Test
    void theMessageSaysWhatIsWrong() {
        assertTrue(parseError("A: close 3 4").getMessage().contains("close takes 1 argument, got 2"));
        assertTrue(parseError("A: close $x").getMessage().contains("variable $x is not bound by an earlier line"));
    }

    @Test
    void numbersFlagsAndBytesParseLikeTheHarness() throws Exception {
        Script s = Parser.parse("t.gem", "A: handle_to_fd 3 1 CLOEXEC|RDWR\nA: sync 4 START|RW\nA: write 1 0 hex:00fF\n"
                + "A: get_cap 3 0x99\nA: lseek 3 -1 END");
        Script.Stmt h = (Script.Stmt) s.nodes().get(0);
        assertEquals(0x80002L, ((Script.Lit) h.args().get(2)).value());
        assertEquals(3L, ((Script.Lit) ((Script.Stmt) s.nodes().get(1)).args().get(1)).value());
        byte[] bytes = ((Script.Bytes) ((Script.Stmt) s.nodes().get(2)).args().get(2)).bytes();
        assertEquals(2, bytes.length);
        assertEquals((byte) 0xff, bytes[1]);
        assertEquals(-1L, ((Script.Lit) ((Script.Stmt) s.nodes().get(4)).args().get(1)).value());
        assertAt(1, 21, "A: handle_to_fd 3 1 CLOEXEC||RDWR");
        assertAt(1, 14, "A: write 1 0 hex:0");
    }

    @Test
    void repeatRunsItsBodyAndSleepMovesVirtualTime() throws Exception {
        Script s = Parser.parse("t.gem", "A: open card0 -> $fd\nrepeat 3 {\n  A: create_dumb $fd 1 1 8 -> $h\n}\nA: sleep 250\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Machine m = new Machine();
        int exit = new Runner(m, new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(s);
        assertEquals(0, exit);
        assertEquals("1 A open ok 3\n3 A create_dumb ok 1 1 4096\n3 A create_dumb ok 2 1 4096\n"
                + "3 A create_dumb ok 3 1 4096\n5 A sleep ok\nexpectations: 5 passed, 0 failed\n",
                bytes.toString(StandardCharsets.UTF_8));
        assertTrue(m.kernel().clock().nowNanos() >= 250_000_000L);
    }

    @Test
    void aWrongTypedVariableSkipsTheStatementAsFailed() throws Exception {
        Script s = Parser.parse("t.gem", "A: open card0 -> $fd\nA: version $fd -> $name\nA: close $name");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = new Runner(new Machine(), new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(s);
        assertEquals(1, exit);
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("3 A close skip unbound $name\n"));
    }

    @Test
    void reportsArePrintedBeforeTheSummaryAndMakeTheExitStatus3() throws Exception {
        Script s = Parser.parse("t.gem", "A: open card0");
        Machine m = new Machine();
        m.checkers().add(Report.Kind.LEAK, "drm_gem_object_free", "gem#1 of 4096 bytes");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = new Runner(m, new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(s);
        assertEquals(3, exit);
        assertEquals("1 A open ok 3\nreport leak drm_gem_object_free: gem#1 of 4096 bytes\n"
                + "expectations: 1 passed, 0 failed\n", bytes.toString(StandardCharsets.UTF_8));
    }
}
