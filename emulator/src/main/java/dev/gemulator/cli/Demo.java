package dev.gemulator.cli;

import dev.gemulator.Machine;
import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The demo: an embedded scenario (demo.gem) in which two processes share a
 * buffer through a flink name and through a dma-buf fd passed between them.
 * The scenario's comments are printed as narration before the statements
 * they explain, then each statement's result line as {@code run} prints it.
 */
final class Demo {
    private Demo() {
    }

    static String scenario() {
        try (InputStream in = Demo.class.getResourceAsStream("demo.gem")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int run(PrintStream out) {
        String text = scenario();
        String[] lines = text.split("\n");
        Script script;
        try {
            script = Parser.parse("demo.gem", text);
        } catch (ParseException e) {
            throw new IllegalStateException("the embedded demo does not parse", e);
        }
        out.println("gemulator demo: one emulated vgem device (card0, renderD128), Linux 6.x semantics.");
        out.println("Narration comes from the scenario's comments; result lines read LINE PROCESS OP ok|err VALUES.");
        out.println();
        int[] nextLine = {0};
        Machine machine = new Machine();
        Runner runner = new Runner(machine, out).beforeStatement(st -> {
            boolean narrated = false;
            for (int i = nextLine[0]; i < st.line() - 1; i++) {
                String l = lines[i].strip();
                if (l.startsWith("#")) {
                    if (!narrated && nextLine[0] > 0) {
                        out.println();
                    }
                    String said = l.substring(1).strip();
                    out.println(said.isEmpty() ? "" : "  " + said);
                    narrated = true;
                }
            }
            nextLine[0] = st.line();
        });
        int exit = runner.run(script);
        out.println();
        out.println(exit == Runner.OK
                ? "Both processes saw each other's bytes through three handles and two kinds of mapping;"
                        + " after both exited, nothing was left on the device (no leak, no checker report)."
                : "The demo did not go as expected (exit status " + exit + ").");
        out.println("Run it yourself: ./gemulator run emulator/src/main/resources/dev/gemulator/cli/demo.gem");
        return exit;
    }
}
