package dev.gemulator.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Runs a gemulator command line in this JVM ({@link Main#execute}) with
 * its standard output and error caught, for tests that check what a
 * command prints. One at a time across every test class that uses it:
 * System.out is the JVM's, so two commands caught at once would mix.
 */
public final class Cli {
    /** What a command did: its exit status and what it printed on each stream. */
    public record Ran(int status, String out, String err) {
    }

    private Cli() {
    }

    public static synchronized Ran run(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = Main.execute(args);
            return new Ran(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
