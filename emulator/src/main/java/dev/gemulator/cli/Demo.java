package dev.gemulator.cli;

import java.io.PrintStream;

/** The embedded demo scenario (written below). */
final class Demo {
    private Demo() {
    }

    static int run(PrintStream out) {
        out.println("demo not written yet");
        return 0;
    }
}
