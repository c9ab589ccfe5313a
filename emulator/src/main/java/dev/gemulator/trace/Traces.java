package dev.gemulator.trace;

import com.google.protobuf.ByteString;
import dev.gemulator.Machine;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceStep;
import dev.gemulator.sched.Strategy;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;

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
                .setSeed(o.seed()).setStrategy(o.strategy().label()).setPctDepth(o.pctDepth()).setPctSteps(o.pctMaxSteps())
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
        return new Runner.RunOptions(h.getSeed(), Strategy.Name.parse(h.getStrategy()), h.getPctDepth(), h.getPctSteps(),
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
    private static String refcount(TraceStep s) {
        boolean get = s.getKind().equals("GET");
        if (!s.hasRefcount() || !get && !s.getKind().equals("PUT")) {
            return "";
        }
        int before = s.getRefcount();
        return " (refcount " + before + "\u2192" + (get ? before + 1 : before - 1) + ")";
    }

    /**
     * One record as a line of the timeline. Every string from the run (task,
     * function, object, line, arguments, report detail, lock names) is
     * {@linkplain #escape escaped}, so that no name can break the line or
     * forge another.
     */
    public static String show(TraceRecord r) {
        return switch (r.getRecordCase()) {
            case HEADER -> {
                TraceHeader h = r.getHeader();
                yield "# " + escape(h.getEmulatorVersion()) + " " + escape(h.getScenarioPath()) + " profile "
                        + escape(h.getProfile()) + " strategy " + escape(h.getStrategy()) + " seed " + h.getSeed();
            }
            case STEP -> String.format(Locale.ROOT, "%12.3f us %6d  %-12s %-12s %s%s%s",
                    r.getStep().getTimeNs() / 1000.0, r.getStep().getIndex(),
                    r.getStep().getTask().isEmpty() ? "<timer>" : escape(r.getStep().getTask()),
                    escape(r.getStep().getKind()), escape(r.getStep().getFunction()),
                    r.getStep().getSubject().isEmpty() ? "" : " " + escape(r.getStep().getSubject()),
                    refcount(r.getStep()));
            case DECISION -> "                      ---- schedule thread " + r.getDecision().getThread()
                    + " of runnable " + r.getDecision().getRunnableList();
            case LINE -> "                      >>>> " + escape(r.getLine().getText());
            case REQUEST -> "                      <<<< " + r.getRequest().getLine() + " " + escape(r.getRequest().getThread())
                    + " " + escape(r.getRequest().getOp()) + " " + escape(String.join(" ", r.getRequest().getArgsList()));
            case REPORT -> "                      !!!! " + escape(r.getReport().getKind()) + " "
                    + escape(r.getReport().getFunction()) + ": " + escape(r.getReport().getDetail());
            case LOCK_WAIT -> "                      ==== " + escape(r.getLockWait().getTask()) + (r.getLockWait().getGot()
                    ? " gets " + escape(r.getLockWait().getLock())
                    : " waits for " + escape(r.getLockWait().getLock()) + ", which " + escape(r.getLockWait().getHolder())
                            + " holds");
            case END -> "# end: exit status " + r.getEnd().getExitStatus() + ", " + r.getEnd().getSteps() + " steps";
            case RECORD_NOT_SET -> "# (empty record)";
        };
    }

    /**
     * A string as text output shows it: a backslash as {@code \\}, and every
     * character that could break or disguise a line (controls such as
     * newline and escape, Unicode line and paragraph separators, invisible
     * format characters such as bidirectional overrides, lone surrogates)
     * as a backslash, x and two hex digits (u and four for characters
     * beyond Latin-1, U and eight beyond the BMP). Ordinary text comes back
     * unchanged.
     */
    public static String escape(String s) {
        int i = 0;
        while (i < s.length() && !needsEscape(s.charAt(i))) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(i + 1));
                int type = Character.getType(cp);
                if (type == Character.FORMAT || type == Character.PRIVATE_USE || type == Character.UNASSIGNED) {
                    b.append(String.format(Locale.ROOT, "\\U%08x", cp));
                } else {
                    b.append(c).append(s.charAt(i + 1));
                }
                i++;
            } else if (c == '\\') {
                b.append("\\\\");
            } else if (needsEscape(c)) {
                b.append(c < 0x100 ? String.format(Locale.ROOT, "\\x%02x", (int) c)
                        : String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean needsEscape(char c) {
        if (c >= 0x20 && c < 0x7f) {
            return c == '\\';
        }
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
        int type = Character.getType(c);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE || type == Character.PRIVATE_USE
                || type == Character.UNASSIGNED;
    }
}
