package dev.gemulator.cli;

import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.Perfetto;
import dev.gemulator.trace.Timeline;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gemulator trace show TRACE}: the trace as a text timeline, one step a line, in the spirit of ftrace. */
@Command(name = "trace", mixinStandardHelpOptions = true,
        description = "Reads traces: show (text), html (a timeline page), perfetto (JSON for ui.perfetto.dev).",
        subcommands = {TraceCommand.Show.class, TraceCommand.PerfettoJson.class, TraceCommand.Html.class})
public final class TraceCommand implements Runnable {

    @Spec
    private CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Reads a trace that may have been cut off; null (having said why) when it cannot be read. */
    static TraceRecorder.ReadBack read(Path trace) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(trace))) {
            return TraceRecorder.readCutOff(in);
        } catch (IOException e) {
            throw new UserError(UserError.cannotRead(trace, e));
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
                throw new UserError(trace + " is not a gemulator trace (it does not start with a trace header)");
            }
            PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false,
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
            description = {"Writes a trace as Chrome trace-event JSON for the Perfetto UI (ui.perfetto.dev) or chrome://tracing.",
                "A track per thread with its system calls and kernel steps, a track per thread with the locks it holds "
                + "and waits for, a counter track per object with its reference count, reports as instant events, "
                + "preemptions and switches, lock hand-offs as flow arrows. Timestamps are virtual time."})
    static final class PerfettoJson extends TraceWriter {
        @Override
        int write(TraceRecorder.ReadBack back, PrintStream out) {
            out.print(Perfetto.json(back.records()));
            return 0;
        }
    }

    @Command(name = "html", mixinStandardHelpOptions = true,
            description = {"Writes a trace as one self-contained HTML page with an SVG timeline.",
                "A lane per thread with its system calls (decoded: flags, errnos, objects by what they are) and results, "
                + "its kernel steps and the locks it holds and waits for; a lifeline per object with its reference count; "
                + "switches, preemptions and reports where they happened; the output lines of the window drawn."})
    static final class Html extends TraceWriter {
        @Option(names = "--focus",
                description = "draw only the system calls in progress when the first report was made")
        private boolean focus;

        @Option(names = "--steps", paramLabel = "FROM-TO", description = "draw only these steps")
        private String steps;

        @Override
        int write(TraceRecorder.ReadBack back, PrintStream out) {
            Timeline timeline = Timeline.of(back.records());
            Timeline.Window window;
            try {
                window = window(timeline);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
            if (window == null) {
                return 2;
            }
            long last = timeline.lastStep();
            if (steps != null && window.fromStep() > last) {
                throw new UserError("--steps " + steps + ": " + trace + " has " + last + " steps");
            }
            out.print(timeline.html(window, trace.toString()));
            return 0;
        }

        private Timeline.Window window(Timeline timeline) {
            if (steps != null) {
                Matcher mt = Pattern.compile("(\\d+)-(\\d+)").matcher(steps);
                if (!mt.matches()) {
                    throw new IllegalArgumentException("--steps wants FROM-TO, two step numbers: " + steps);
                }
                return new Timeline.Window(Long.parseLong(mt.group(1)), Long.parseLong(mt.group(2)));
            }
            if (focus) {
                var w = timeline.focus();
                if (w == null) {
                    throw new UserError("--focus: " + trace + " has no report to focus on (--steps FROM-TO draws any steps)");
                }
                return w;
            }
            var w = timeline.defaultWindow();
            if (w.fromStep() > 1) {
                System.err.println("gemulator: drawing steps " + w.fromStep() + "-" + w.toStep()
                        + " only (at most " + Timeline.MAX_STEPS + "); --steps FROM-TO for others");
            }
            return w;
        }
    }
}
