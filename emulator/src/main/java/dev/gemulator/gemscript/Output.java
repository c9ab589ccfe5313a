package dev.gemulator.gemscript;

import java.io.PrintStream;

/**
 * Where a run's lines go: the contract output (spec/gemscript.md) on
 * {@code out}, each line also to the run's recorder when it has one. It
 * remembers the last line printed (a lockstep statement's answer).
 */
final class Output {
    private final PrintStream out;
    private RunRecorder recorder;
    private String lastLine;

    Output(PrintStream out) {
        this.out = out;
    }

    void recordTo(RunRecorder recorder) {
        this.recorder = recorder;
    }

    /** The recorder, or null when the run is not recorded. */
    RunRecorder recorder() {
        return recorder;
    }

    void print(String line) {
        lastLine = line;
        out.println(line);
        if (recorder != null) {
            recorder.line(line);
        }
    }

    /** Forgets the last line (a statement about to print its own). */
    void clearLast() {
        lastLine = null;
    }

    /** The last line printed since {@link #clearLast}, or null. */
    String lastLine() {
        return lastLine;
    }

    void flush() {
        out.flush();
    }
}
