package dev.gemulator.server.seeded;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.shim.TmpfsShmem;
import dev.gemulator.proto.v1.ShimHello;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceRequest;
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
        return rerun(recorded, null);
    }

    /**
     * As {@link #rerun(List)}, under {@code profileName} instead of the
     * trace's own profile when not null (the new trace's header says so).
     *
     * <p>Programs behind the C shim replay too: their joins carry their
     * Hello and credentials, a forked child's first event is its
     * {@code shim_join}, and what the run learnt from the real machine (whether
     * an anchor's last descriptor was gone, credentials) is answered from the
     * trace's {@code host} requests. The descriptor numbers, inodes and pids
     * in the calls are the ones the trace recorded (labels).
     */
    public static Outcome rerun(List<TraceRecord> recorded, String profileName) {
        TraceHeader h = recorded.get(0).getHeader();
        if (h.getFormatVersion() != Traces.FORMAT_VERSION) {
            throw new IllegalArgumentException("the trace was written in trace format " + h.getFormatVersion()
                    + "; this gemulator replays format " + Traces.FORMAT_VERSION + " only: record the run again");
        }
        String name = profileName != null ? profileName : h.getProfile();
        Profile profile = Profile.byName(name);
        if (profile == null) {
            throw new IllegalArgumentException((profileName != null ? "profile '" : "the trace's profile '") + name
                    + "' is unknown here (known: " + Profile.names() + ")");
        }
        List<String> processes = new ArrayList<>();
        Map<String, SeededRun.ShimJoin> shims = new HashMap<>();
        int fdLimit = dev.gemulator.kernel.proc.Process.DEFAULT_FD_LIMIT;
        List<TraceRequest> events = new ArrayList<>();
        List<TraceRequest> facts = new ArrayList<>();
        try {
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
                    }
                    if (q.getArgsList().contains("shim")) {
                        shims.put(q.getThread(), new SeededRun.ShimJoin(ShimHello.parseFrom(q.getCall()),
                                SeededRun.credentials(q.getArgsList()), 0));
                    }
                } else if (q.getOp().equals("host")) {
                    facts.add(q);
                } else {
                    events.add(q);
                }
            }
        } catch (InvalidProtocolBufferException | NumberFormatException e) {
            return new Outcome(List.of(), "the trace holds a join that is no process's: " + e.getMessage());
        }
        if (processes.isEmpty()) {
            throw new IllegalArgumentException("the trace names no process of the run");
        }
        SeededRun.Config config = new SeededRun.Config(profile, h.getSeed(), Strategy.Name.parse(h.getStrategy()), h.getPctDepth(),
                h.getPctSteps(), processes, 0, true, h.getScenarioPath().substring(PATH_PREFIX.length()),
                TraceRecorder.decisions(recorded), 0, fdLimit);
        SeededRun run = new SeededRun(config,
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8), true);
        TmpfsShmem pages = shims.isEmpty() ? null : TmpfsShmem.fresh();
        try {
            run.replayHost(facts, pages);
            for (TraceRequest q : events) {
                String thread = q.getThread();
                SeededRun.Event e = switch (q.getOp()) {
                    case "clone" -> new SeededRun.Clone(q.getArgs(0), Integer.parseInt(q.getArgs(1).substring(3)));
                    case "thread_exit" -> new SeededRun.End();
                    case "gone" -> new SeededRun.Gone();
                    case "abort" -> new SeededRun.Abort(q.getArgsCount() > 0 ? q.getArgs(0) : "stopped");
                    case "shim_join" -> new SeededRun.ShimJoin(ShimHello.parseFrom(q.getCall()),
                            SeededRun.credentials(q.getArgsList()), 0);
                    default -> new SeededRun.Call(Syscall.parseFrom(q.getCall()),
                            r -> run.passed().files().forEach(TmpfsShmem.TmpfsFile::passed));
                };
                run.replayEvent(thread, e);
            }
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            close(pages);
            return new Outcome(List.of(), "the trace holds a request that is no system call: " + e.getMessage());
        }
        for (String p : processes) {
            String refused = shims.containsKey(p) ? run.join(p, shims.get(p)) : run.join(p);
            if (refused != null) {
                close(pages);
                return new Outcome(List.of(), "process " + p + " of the trace cannot join: " + refused);
            }
        }
        try {
            SeededRun.Result r = run.finished().get(10, TimeUnit.MINUTES);
            return new Outcome(r.trace(), null);
        } catch (ExecutionException e) {
            List<TraceRecord> partial = run.partialTrace();
            int at = Traces.firstDivergence(recorded, partial);
            if (at >= 0 && at < partial.size()) {
                return new Outcome(partial, null); // it went otherwise before it could not follow a decision
            }
            return new Outcome(List.of(), "the replay failed: " + (e.getCause() instanceof RuntimeException x
                    && x.getCause() instanceof Strategy.ReplayDiverged d ? d.getMessage() : String.valueOf(e.getCause())));
        } catch (TimeoutException e) {
            run.abort("the replay did not end");
            return new Outcome(List.of(), "the replay did not end within 10 minutes: the trace ends before its run did");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(List.of(), "interrupted");
        } finally {
            close(pages);
        }
    }

    private static void close(TmpfsShmem pages) {
        if (pages != null) {
            pages.close();
        }
    }

    /** {@code replay TRACE} for a seeded run's trace: prints identical or the first divergence; exit 0, 1 or 2. */
    public static int replay(List<TraceRecord> recorded, PrintStream out, PrintStream err) {
        return replay(recorded, null, out, err);
    }

    /**
     * As above, under {@code profileName} when not null: the runs are compared
     * after their headers (which name their profiles).
     */
    public static int replay(List<TraceRecord> recorded, String profileName, PrintStream out, PrintStream err) {
        Outcome o;
        try {
            o = rerun(recorded, profileName);
        } catch (IllegalArgumentException e) {
            err.println("gemulator: " + e.getMessage());
            return 2;
        }
        if (o.problem() != null) {
            out.println("replay diverged: " + o.problem());
            return 1;
        }
        List<TraceRecord> actual = o.records();
        if (profileName != null && !actual.isEmpty()) {
            actual = new ArrayList<>(actual);
            actual.set(0, recorded.get(0));
        }
        int at = Traces.firstDivergence(recorded, actual);
        if (at < 0) {
            out.println("replay identical: " + recorded.size() + " records, sha256 " + TraceRecorder.hash(o.records())
                    + " (the kernel side of the seeded run, without its programs"
                    + (profileName != null ? ", under profile " + profileName : "") + ")");
            return 0;
        }
        out.println("replay diverged at record " + at + ":");
        out.println("  expected: " + (at < recorded.size() ? Traces.show(recorded.get(at)).strip() : "(end of trace)"));
        out.println("  actual:   " + (at < actual.size() ? Traces.show(actual.get(at)).strip()
                : "(end of run)"));
        return 1;
    }
}
