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
        subcommands = {TraceCommand.Show.class, TraceCommand.PerfettoJson.class, TraceCommand.Html.class})
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

    /** A subcommand that reads one trace and writes something made of it to stdout; exit 2 when it cannot. */
    abstract static class TraceWriter implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "TRACE")
        Path trace;

        @Override
        public final Integer call() {
            TraceRecorder.ReadBack back = read(trace);
            if (back == null) {
                return 2;
            }
            if (back.records().isEmpty() || !back.records().getFirst().hasHeader()) {
                System.err.println("gemulator: " + trace + " is not a gemulator trace (it does not start with a header)");
                return 2;
            }
            PrintStream out = new PrintStream(new java.io.BufferedOutputStream(System.out, 1 << 16), false,
                    StandardCharsets.UTF_8);
            int status = write(back, out);
            out.flush();
            if (back.corruption() != null) {
                // what was good is written; the damage is no cut-off and must not pass for one
                System.err.println("gemulator: " + trace + " is corrupt: " + back.corruption());
                return 1;
            }
            return status;
        }

        abstract int write(TraceRecorder.ReadBack back, PrintStream out);
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Prints a trace as a timeline: virtual time, step, task, step kind, kernel function, object.")
    static final class Show extends TraceWriter {
        @Override
        int write(TraceRecorder.ReadBack back, PrintStream out) {
            List<TraceRecord> records = back.records();
            for (TraceRecord r : records) {
                out.println(Traces.show(r));
            }
            if (back.corruption() != null) {
                out.println("# the trace is corrupt after " + records.size() + " records: " + back.corruption());
            } else if (!back.ended()) {
                out.println("# the trace stops after " + records.size() + " records without its end"
                        + (back.torn() ? ", the last one torn" : "") + ": its writer was stopped before the run ended");
            }
            return 0;
        }
    }

    @Command(name = "perfetto", mixinStandardHelpOptions = true,
            description = {"Writes a trace as Chrome trace-event JSON for the Perfetto UI (ui.perfetto.dev) or",
                "chrome://tracing: a track per thread with system calls and kernel steps, the locks each",
                "thread holds, reports as instant events, lock hand-offs as flow arrows."})
    static final class PerfettoJson extends TraceWriter {
        @Override
        int write(TraceRecorder.ReadBack back, PrintStream out) {
            out.print(dev.gemulator.trace.Perfetto.json(back.records()));
            return 0;
        }
    }

    @Command(name = "html", mixinStandardHelpOptions = true,
            description = {"Writes a trace as one self-contained HTML page with an SVG timeline: a lane per thread,",
                "system calls with their results, kernel steps, locks held and waited for, switches and preemptions between",
                "threads, reports where they happened. Hover over anything for its details."})
    static final class Html extends TraceWriter {
        @picocli.CommandLine.Option(names = "--focus",
                description = "draw only the system calls in progress when the first report was made")
        private boolean focus;

        @picocli.CommandLine.Option(names = "--steps", paramLabel = "FROM-TO", description = "draw only these steps")
        private String steps;

        @Override
        int write(TraceRecorder.ReadBack back, PrintStream out) {
            dev.gemulator.trace.Timeline timeline = dev.gemulator.trace.Timeline.of(back.records());
            dev.gemulator.trace.Timeline.Window window;
            try {
                window = window(timeline);
            } catch (IllegalArgumentException e) {
                System.err.println("gemulator: " + e.getMessage());
                return 2;
            }
            if (window == null) {
                return 2;
            }
            long last = timeline.lastStep();
            if (steps != null && window.fromStep() > last) {
                System.err.println("gemulator: --steps " + steps + ": " + trace + " has " + last + " steps");
                return 2;
            }
            out.print(timeline.html(window));
            return 0;
        }

        private dev.gemulator.trace.Timeline.Window window(dev.gemulator.trace.Timeline timeline) {
            if (steps != null) {
                java.util.regex.Matcher mt = java.util.regex.Pattern.compile("(\\d+)-(\\d+)").matcher(steps);
                if (!mt.matches()) {
                    throw new IllegalArgumentException("--steps wants FROM-TO, two step numbers: " + steps);
                }
                return new dev.gemulator.trace.Timeline.Window(Long.parseLong(mt.group(1)), Long.parseLong(mt.group(2)));
            }
            if (focus) {
                var w = timeline.focus();
                if (w == null) {
                    System.err.println("gemulator: --focus: " + trace + " has no report to focus on");
                }
                return w;
            }
            var w = timeline.defaultWindow();
            if (w.fromStep() > 1) {
                System.err.println("gemulator: drawing steps " + w.fromStep() + "-" + w.toStep()
                        + " only (at most " + dev.gemulator.trace.Timeline.MAX_STEPS + "); --steps FROM-TO for others");
            }
            return w;
        }
    }
}
