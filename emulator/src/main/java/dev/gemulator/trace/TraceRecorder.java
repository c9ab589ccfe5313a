package dev.gemulator.trace;

import com.google.protobuf.ByteString;
import dev.gemulator.check.Report;
import dev.gemulator.gemscript.RunRecorder;
import dev.gemulator.kernel.KObject;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;
import dev.gemulator.proto.v1.TraceDecision;
import dev.gemulator.proto.v1.TraceEnd;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceLine;
import dev.gemulator.proto.v1.TraceLockWait;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceReport;
import dev.gemulator.proto.v1.TraceRequest;
import dev.gemulator.proto.v1.TraceStep;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Records a run as trace records: every step of kernel code (who, where,
 * what, on which object, at what virtual time), every scheduling decision,
 * every output line and report. Two runs of the same schedule give the same
 * records, so the SHA-256 of the encoded records identifies a run.
 */
public final class TraceRecorder implements RunRecorder {
    private final Kernel kernel;
    private final List<TraceRecord> records = new ArrayList<>();
    private final TraceFile.Writer stream;
    private final MessageDigest digest;
    private long steps;
    private final Map<Lock, String> lockNames = new WeakHashMap<>(); // identity: Lock has no equals
    private final Map<String, Integer> instances = new HashMap<>();
    /** Which task waits for which lock, until it gets it (only looked up, never walked). */
    private final Set<Waiter> waiting = new HashSet<>();

    private record Waiter(Lock lock, Task task) {
    }

    /** Keeps the records in memory ({@link #records()}). */
    public TraceRecorder(Kernel kernel, TraceHeader header) {
        this(kernel, header, null);
    }

    /**
     * With a {@code stream}, writes every record to it as it comes instead of
     * keeping it (a long free-running server): {@link #flush()} makes what
     * was recorded durable, and a report is flushed at once.
     */
    public TraceRecorder(Kernel kernel, TraceHeader header, OutputStream stream) {
        this.kernel = kernel;
        try {
            this.digest = stream == null ? null : MessageDigest.getInstance("SHA-256");
            this.stream = stream == null ? null : new TraceFile.Writer(stream);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the trace", e);
        }
        add(TraceRecord.newBuilder().setHeader(header).build());
    }

    private void add(TraceRecord r) {
        if (stream == null) {
            records.add(r);
            return;
        }
        byte[] bytes = r.toByteArray();
        digest.update(bytes);
        try {
            stream.add(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the trace", e);
        }
    }

    /** Streaming: pushes what was recorded to the file. */
    public void flush() {
        if (stream != null) {
            try {
                stream.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the trace", e);
            }
        }
    }

    /** Streaming: the SHA-256 of what was recorded so far (what {@link #hash(List)} gives for the records). */
    public String streamedHash() {
        try {
            return HexFormat.of().formatHex(((MessageDigest) digest.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void step(Task task, String function, StepKind kind, Object subject) {
        steps++;
        TraceStep.Builder b = TraceStep.newBuilder()
                .setIndex(steps)
                .setTimeNs(kernel.clock().nowNanos())
                .setTask(task == null ? "" : task.name())
                .setFunction(function)
                .setKind(kind.name())
                .setSubject(subject == null ? "" : subject instanceof Lock l ? lockName(l) : subject.toString());
        if (subject instanceof KObject o && (kind == StepKind.GET || kind == StepKind.PUT)) {
            b.setRefcount(o.refcount());
        }
        add(TraceRecord.newBuilder().setStep(b).build());
        if (subject instanceof Lock lock && lock.owner() != null
                && (kind == StepKind.LOCK || kind == StepKind.SPIN_LOCK)) { // the task will wait for it
            waiting.add(new Waiter(lock, task));
            add(TraceRecord.newBuilder().setLockWait(TraceLockWait.newBuilder().setStep(steps).setTask(name(task))
                    .setLock(lockName(lock)).setHolder(lock.owner().name())).build());
        }
    }

    @Override
    public void lockAcquired(Task task, Lock lock) {
        if (waiting.remove(new Waiter(lock, task))) {
            add(TraceRecord.newBuilder().setLockWait(TraceLockWait.newBuilder().setStep(steps).setTask(name(task))
                    .setLock(lockName(lock)).setGot(true)).build());
        }
    }

    /**
     * A lock as the trace names it: its class name ("file->prime.lock"),
     * with "@2", "@3" ... for the second, third ... lock of that name seen in
     * the run, so that the locks of two files stay apart in pictures. Locks
     * nothing refers to any more are forgotten; numbers never come back.
     */
    private String lockName(Lock lock) {
        String n = lockNames.get(lock);
        if (n == null) {
            int k = instances.merge(lock.name(), 1, Integer::sum);
            n = k == 1 ? lock.name() : lock.name() + "@" + k;
            lockNames.put(lock, n);
        }
        return n;
    }

    private static String name(Task task) {
        return task == null ? "" : task.name();
    }

    @Override
    public void decided(long step, int thread, List<Integer> runnable, int running) {
        add(TraceRecord.newBuilder().setDecision(TraceDecision.newBuilder()
                .setStep(steps).setThread(thread).addAllRunnable(runnable).setRunning(running)).build());
    }

    public void request(int line, String thread, String op, List<String> args) {
        add(TraceRecord.newBuilder().setRequest(TraceRequest.newBuilder()
                .setLine(line).setThread(thread).setOp(op).addAllArgs(args)).build());
    }

    /** A system call of a real program's thread (seeded runs), with the call's bytes so that replay can send it again. */
    public void request(int line, String thread, String op, List<String> args, ByteString call) {
        add(TraceRecord.newBuilder().setRequest(TraceRequest.newBuilder()
                .setLine(line).setThread(thread).setOp(op).addAllArgs(args).setCall(call)).build());
    }

    public void line(String text) {
        add(TraceRecord.newBuilder().setLine(TraceLine.newBuilder().setText(text)).build());
    }

    public void report(Report r) {
        add(TraceRecord.newBuilder().setReport(TraceReport.newBuilder().setKind(r.kind().label())
                .setFunction(r.function()).setDetail(r.detail()).setStep(r.step())).build());
        flush();
    }

    public void end(int exitStatus) {
        add(TraceRecord.newBuilder().setEnd(TraceEnd.newBuilder().setExitStatus(exitStatus).setSteps(steps))
                .build());
        flush();
    }

    public List<TraceRecord> records() {
        return records;
    }

    /** The decisions of the run, in order (what the replay strategy follows). */
    public static int[] decisions(List<TraceRecord> records) {
        return records.stream().filter(TraceRecord::hasDecision).mapToInt(r -> r.getDecision().getThread()).toArray();
    }

    /** Writes the records as a trace file ({@link TraceFile}: blocks with checksums). */
    public static void write(List<TraceRecord> records, OutputStream out) throws IOException {
        TraceFile.write(records, out);
    }

    /**
     * Reads a whole trace file; {@link TraceFile.DamagedException} when it
     * is cut short or fails a checksum.
     */
    public static List<TraceRecord> read(InputStream in) throws IOException {
        return TraceFile.readWhole(in);
    }

    /**
     * Records read back from a trace that may have been cut off: whether its
     * last block was torn (its writer was killed), or where it was found
     * corrupt (null when it was not).
     */
    public record ReadBack(List<TraceRecord> records, boolean torn, String corruption) {
        /** Whether the trace has its end record (the run or server finished). */
        public boolean ended() {
            return !records.isEmpty() && records.getLast().hasEnd();
        }
    }

    /**
     * Reads a trace that may have been cut off (its writer killed) or
     * damaged: every record of every good block, stopping at a torn last
     * block or at the first block that fails its checksum.
     */
    public static ReadBack readCutOff(InputStream in) throws IOException {
        TraceFile.Contents c = TraceFile.read(in);
        return new ReadBack(c.records(), c.torn(), c.corruption());
    }

    /** SHA-256 over the encoded records, in hex. */
    public static String hash(List<TraceRecord> records) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (TraceRecord r : records) {
                d.update(r.toByteArray());
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
