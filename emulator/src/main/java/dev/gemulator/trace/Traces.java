package dev.gemulator.trace;

import com.google.protobuf.ByteString;
import dev.gemulator.Machine;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/** Running a scenario with a trace, and what a trace says about how to run it again. */
public final class Traces {
    public static final String EMULATOR_VERSION = "gemulator 0.1.0";
    /** The trace format this emulator writes (TraceHeader.format_version): 2 since steps carry refcounts. */
    public static final int FORMAT_VERSION = 2;

    private Traces() {
    }

    /**
     * A recorded run: its exit status, its records, and the first statement
     * whose stated expectation failed (its line, 0 for none, and what happened).
     */
    public record Recorded(int exitStatus, List<TraceRecord> records, int failedLine, String failure) {
        public String hash() {
            return TraceRecorder.hash(records);
        }
    }

    public static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static TraceHeader header(String path, String text, Profile profile, Runner.RunOptions o) {
        return TraceHeader.newBuilder().setEmulatorVersion(EMULATOR_VERSION).setScenarioPath(path)
                .setScenarioSha256(ByteString.copyFrom(sha256(text))).setProfile(profile.name())
                .setSeed(o.seed()).setStrategy(o.strategy()).setPctDepth(o.pctDepth()).setPctSteps(o.pctMaxSteps())
                .setFormatVersion(FORMAT_VERSION).build();
    }

    /** Runs {@code script} recording every step; its output goes to {@code out}. */
    public static Recorded run(Script script, TraceHeader header, Profile profile, Runner.RunOptions options,
            PrintStream out) {
        Machine m = new Machine(profile);
        TraceRecorder recorder = new TraceRecorder(m.kernel(), header);
        Runner runner = new Runner(m, out, options).traceTo(recorder);
        int exit = runner.run(script);
        return new Recorded(exit, recorder.records(),
                runner.firstFailedStatement() == null ? 0 : runner.firstFailedStatement().line(), runner.firstFailure());
    }

    /** The same, output discarded. */
    public static Recorded run(Script script, TraceHeader header, Profile profile, Runner.RunOptions options) {
        return run(script, header, profile, options,
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
    }

    /** The options a trace was recorded with, replaying its decisions. */
    public static Runner.RunOptions replayOptions(List<TraceRecord> records) {
        TraceHeader h = records.get(0).getHeader();
        return new Runner.RunOptions(h.getSeed(), h.getStrategy(), h.getPctDepth(), h.getPctSteps(),
                TraceRecorder.decisions(records));
    }

    /** The index of the first record that differs, or -1 when both are the same. */
    public static int firstDivergence(List<TraceRecord> expected, List<TraceRecord> actual) {
        int n = Math.min(expected.size(), actual.size());
        for (int i = 0; i < n; i++) {
            if (!expected.get(i).equals(actual.get(i))) {
                return i;
            }
        }
        return expected.size() == actual.size() ? -1 : n;
    }

    /** " (refcount 2->3)" for a GET or PUT step, else nothing. */
    private static String refcount(dev.gemulator.proto.v1.TraceStep s) {
        boolean get = s.getKind().equals("GET");
        if (!s.hasRefcount() || !get && !s.getKind().equals("PUT")) {
            return "";
        }
        int before = s.getRefcount();
        return " (refcount " + before + "\u2192" + (get ? before + 1 : before - 1) + ")";
    }

    /** One record as a line of the timeline. */
    public static String show(TraceRecord r) {
        return switch (r.getRecordCase()) {
            case HEADER -> {
                TraceHeader h = r.getHeader();
                yield "# " + h.getEmulatorVersion() + " " + h.getScenarioPath() + " profile " + h.getProfile()
                        + " strategy " + h.getStrategy() + " seed " + h.getSeed();
            }
            case STEP -> String.format(java.util.Locale.ROOT, "%12.3f us %6d  %-12s %-12s %s%s%s",
                    r.getStep().getTimeNs() / 1000.0, r.getStep().getIndex(),
                    r.getStep().getTask().isEmpty() ? "<timer>" : r.getStep().getTask(), r.getStep().getKind(),
                    r.getStep().getFunction(), r.getStep().getSubject().isEmpty() ? "" : " " + r.getStep().getSubject(),
                    refcount(r.getStep()));
            case DECISION -> "                      ---- schedule thread " + r.getDecision().getThread()
                    + " of runnable " + r.getDecision().getRunnableList();
            case LINE -> "                      >>>> " + r.getLine().getText();
            case REQUEST -> "                      <<<< " + r.getRequest().getLine() + " " + r.getRequest().getThread() + " "
                    + r.getRequest().getOp() + " " + String.join(" ", r.getRequest().getArgsList());
            case REPORT -> "                      !!!! " + r.getReport().getKind() + " " + r.getReport().getFunction()
                    + ": " + r.getReport().getDetail();
            case LOCK_WAIT -> "                      ==== " + r.getLockWait().getTask() + (r.getLockWait().getGot()
                    ? " gets " + r.getLockWait().getLock()
                    : " waits for " + r.getLockWait().getLock() + ", which " + r.getLockWait().getHolder() + " holds");
            case END -> "# end: exit status " + r.getEnd().getExitStatus() + ", " + r.getEnd().getSteps() + " steps";
            case RECORD_NOT_SET -> "# (empty record)";
        };
    }
}
