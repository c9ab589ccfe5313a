package dev.gemulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's exit statuses and the demo. */
class CommandLineTest {
    @TempDir
    Path dir;

    private int run(String text) throws Exception {
        Path f = dir.resolve("t.gem");
        Files.writeString(f, text);
        PrintStream saved = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            return Main.execute("run", f.toString());
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void runExitsZeroOneOrTwo() throws Exception {
        assertEquals(0, run("A: open card0\n"));
        assertEquals(1, run("A: open card0 !EBADF\n"));
        assertEquals(2, run("A: open\n"));
        assertEquals(2, Main.execute("run", dir.resolve("missing.gem").toString()));
        assertEquals(2, Main.execute("run", "--profile", "2.6", dir.resolve("missing.gem").toString()));
        assertEquals(2, Main.execute("frobnicate"));
    }

    @Test
    void theDemoRunsCleanAndExplainsItself() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = Demo.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, out);
        assertTrue(out.contains("B read ok hex:cafef00d"), out);
        assertTrue(out.contains("A read ok hex:cafef00d0badc0de"), out);
        assertTrue(out.contains("expectations: 26 passed, 0 failed"), out);
        assertTrue(out.contains("Sharing by PRIME"), out);
    }

    @Test
    void traceShowExitsZeroForATraceCutShortAndOneForACorruptOne() throws Exception {
        Path gem = dir.resolve("t.gem");
        Files.writeString(gem, "A: open card0 -> $fd\nA: create_dumb $fd 64 64 32 -> $h\nA: close $fd\n");
        Path trace = dir.resolve("t.trace");
        PrintStream saved = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.execute("run", gem.toString(), "--trace", trace.toString()));
            byte[] whole = Files.readAllBytes(trace);
            assertEquals(0, Main.execute("trace", "show", trace.toString()));
            Files.write(trace, java.util.Arrays.copyOf(whole, whole.length - 5));
            assertEquals(0, Main.execute("trace", "show", trace.toString()), "cut short: a cut, as a killed writer leaves");
            byte[] damaged = whole.clone();
            damaged[whole.length / 2] ^= 0x10;
            Files.write(trace, damaged);
            assertEquals(1, Main.execute("trace", "show", trace.toString()), "damaged in the middle: corruption");
            assertEquals(2, Main.execute("replay", trace.toString()), "replay refuses a damaged trace");
        } finally {
            System.setOut(saved);
        }
    }
}
