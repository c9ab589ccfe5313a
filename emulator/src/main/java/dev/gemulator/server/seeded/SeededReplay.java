package dev.gemulator.server.seeded;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceRequest;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the kernel side of a recorded seeded run again without its programs:
 * every thread gets the events the trace says it took (its system calls as
 * they were sent, the threads it created, its end, the loss of its
 * connection), in the same order, and the run follows the trace's own
 * decisions. The new trace must be the recorded one, record for record.
 */
public final class SeededReplay {
    /** A seeded run's trace header names it "seeded: DESCRIPTION". */
    public static final String PATH_PREFIX = "seeded: ";

    private SeededReplay() {
    }

    /** Whether the trace is a seeded run's (replayed from its requests), not a scenario's. */
    public static boolean isSeeded(TraceHeader h) {
        return h.getScenarioPath().startsWith(PATH_PREFIX);
    }

    /** The replay: the new run's records, or why it could not run. */
    public record Outcome(List<TraceRecord> records, String problem) {
    }

    /**
     * Re-executes the run of {@code recorded}. Throws IllegalArgumentException
     * for a trace that is no seeded run's or names an unknown profile.
     */
    public static Outcome rerun(List<TraceRecord> recorded) {
        TraceHeader h = recorded.get(0).getHeader();
        if (h.getFormatVersion() != Traces.FORMAT_VERSION) {
            throw new IllegalArgumentException("the trace was written in trace format " + h.getFormatVersion()
                    + "; this gemulator replays format " + Traces.FORMAT_VERSION + " only: record the run again");
        }
        Profile profile = Profile.byName(h.getProfile());
        if (profile == null) {
            throw new IllegalArgumentException("the trace's profile '" + h.getProfile() + "' is unknown here");
        }
        List<String> processes = new ArrayList<>();
        int fdLimit = dev.gemulator.kernel.proc.Process.DEFAULT_FD_LIMIT;
        List<TraceRequest> events = new ArrayList<>();
        for (TraceRecord r : recorded) {
            if (!r.hasRequest()) {
                continue;
            }
            TraceRequest q = r.getRequest();
            if (q.getOp().equals("join") && q.getLine() == 0) {
                processes.add(q.getThread());
                for (String a : q.getArgsList()) {
                    if (a.startsWith("fd_limit=")) {
                        fdLimit = Integer.parseInt(a.substring(9));
                    }
                    if (a.equals("shim")) {
                        return new Outcome(List.of(), "process " + q.getThread() + " is a C program behind the shim: its"
                                + " files and descriptors are the real kernel's, which a replay without the program does"
                                + " not have yet; run its seed again (race --seed " + h.getSeed() + " --trace OUT): the"
                                + " same seed gives the same trace");
                    }
                }
            } else {
                events.add(q);
            }
        }
        if (processes.isEmpty()) {
            throw new IllegalArgumentException("the trace names no process of the run");
        }
        SeededRun.Config config = new SeededRun.Config(profile, h.getSeed(), Strategy.Name.parse(h.getStrategy()), h.getPctDepth(),
                h.getPctSteps(), processes, 0, true, h.getScenarioPath().substring(PATH_PREFIX.length()),
                TraceRecorder.decisions(recorded), 0, fdLimit);
        SeededRun run = new SeededRun(config,
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8), true);
        for (String p : processes) {
            run.join(p);
        }
        Map<String, Integer> ids = new HashMap<>();
        processes.forEach(p -> ids.put(p, 0));
        try {
            for (TraceRequest q : events) {
                String thread = q.getThread();
                String process = thread.contains(".") ? thread.substring(0, thread.indexOf('.')) : thread;
                Integer id = ids.get(thread);
                if (id == null) {
                    return new Outcome(List.of(), "the trace's thread " + thread + " makes a call before it was created");
                }
                String refused = switch (q.getOp()) {
                    case "clone" -> {
                        int child = Integer.parseInt(q.getArgs(1).substring(3));
                        ids.put(q.getArgs(0), child);
                        yield run.threadStart(process, child, id);
                    }
                    case "thread_exit" -> run.threadExit(process, id);
                    case "gone" -> {
                        run.gone(process);
                        yield null;
                    }
                    case "abort" -> {
                        run.abortAt(thread, q.getArgsCount() > 0 ? q.getArgs(0) : "stopped");
                        yield null;
                    }
                    default -> run.request(process, id, Syscall.parseFrom(q.getCall()), r -> { });
                };
                if (refused != null) {
                    return new Outcome(List.of(), "the trace's request " + q.getLine() + " of " + thread
                            + " cannot be replayed: " + refused);
                }
            }
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            run.abort("a bad request in the trace");
            return new Outcome(List.of(), "the trace holds a request that is no system call: " + e.getMessage());
        }
        try {
            SeededRun.Result r = run.finished().get(10, TimeUnit.MINUTES);
            return new Outcome(r.trace(), null);
        } catch (ExecutionException e) {
            return new Outcome(List.of(), "the replay failed: " + e.getCause());
        } catch (TimeoutException e) {
            run.abort("the replay did not end");
            return new Outcome(List.of(), "the replay did not end within 10 minutes: the trace ends before its run did");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(List.of(), "interrupted");
        }
    }

    /** {@code replay TRACE} for a seeded run's trace: prints identical or the first divergence; exit 0, 1 or 2. */
    public static int replay(List<TraceRecord> recorded, PrintStream out, PrintStream err) {
        Outcome o;
        try {
            o = rerun(recorded);
        } catch (IllegalArgumentException e) {
            err.println("gemulator: " + e.getMessage());
            return 2;
        }
        if (o.problem() != null) {
            out.println("replay diverged: " + o.problem());
            return 1;
        }
        int at = Traces.firstDivergence(recorded, o.records());
        if (at < 0) {
            out.println("replay identical: " + recorded.size() + " records, sha256 " + TraceRecorder.hash(o.records())
                    + " (the kernel side of the seeded run, without its programs)");
            return 0;
        }
        out.println("replay diverged at record " + at + ":");
        out.println("  expected: " + (at < recorded.size() ? Traces.show(recorded.get(at)).strip() : "(end of trace)"));
        out.println("  actual:   " + (at < o.records().size() ? Traces.show(o.records().get(at)).strip()
                : "(end of run)"));
        return 1;
    }
}
