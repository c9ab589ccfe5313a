package dev.gemulator.cli;

import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code gemulator trace show TRACE}: the trace as a text timeline, one step a line, in the spirit of ftrace. */
@Command(name = "trace", mixinStandardHelpOptions = true, description = "Reads traces.",
        subcommands = {TraceCommand.Show.class, TraceCommand.PerfettoJson.class})
public final class TraceCommand implements Runnable {

    @picocli.CommandLine.Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Reads a trace that may have been cut off; null (having said why) when it cannot be read. */
    static TraceRecorder.ReadBack read(Path trace) {
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(trace))) {
            return TraceRecorder.readCutOff(in);
        } catch (IOException e) {
            System.err.println("gemulator: cannot read " + trace + ": " + e.getMessage());
            return null;
        }
    }

    private static PrintStream stdout() {
        return new PrintStream(new java.io.BufferedOutputStream(System.out, 1 << 16), false, StandardCharsets.UTF_8);
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Prints a trace as a timeline: virtual time, step, task, step kind, kernel function, object.")
    static final class Show implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "TRACE")
        private Path trace;

        @Override
        public Integer call() {
            TraceRecorder.ReadBack back = read(trace);
            if (back == null) {
                return 2;
            }
            List<TraceRecord> records = back.records();
            PrintStream out = stdout();
            for (TraceRecord r : records) {
                out.println(Traces.show(r));
            }
            if (!back.ended()) {
                out.println("# the trace stops after " + records.size() + " records without its end"
                        + (back.torn() ? ", the last one torn" : "") + ": its writer was stopped before the run ended");
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "perfetto", mixinStandardHelpOptions = true,
            description = {"Writes a trace as Chrome trace-event JSON for the Perfetto UI (ui.perfetto.dev) or",
                "chrome://tracing: a track per thread with system calls and kernel steps, the locks each",
                "thread holds, reports as instant events, lock hand-offs as flow arrows."})
    static final class PerfettoJson implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "TRACE")
        private Path trace;

        @Override
        public Integer call() {
            TraceRecorder.ReadBack back = read(trace);
            if (back == null) {
                return 2;
            }
            PrintStream out = stdout();
            out.print(dev.gemulator.trace.Perfetto.json(back.records()));
            out.flush();
            return 0;
        }
    }
}
