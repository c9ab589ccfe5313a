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
}
