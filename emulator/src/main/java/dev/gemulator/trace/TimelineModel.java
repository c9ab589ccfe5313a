package dev.gemulator.trace;

import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceLockWait;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceRequest;
import dev.gemulator.proto.v1.TraceStep;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a timeline draws, read from a trace in one pass: the steps and the
 * threads that ran them, system calls with their statements and results,
 * the locks each thread held and waited for, switches and preemptions
 * between threads, reports and output lines.
 */
final class TimelineModel {
    TraceHeader header;
    boolean ended;
    final List<Step> steps = new ArrayList<>();
    final Set<String> tasks = new LinkedHashSet<>();
    final List<Syscall> syscalls = new ArrayList<>();
    final List<Held> held = new ArrayList<>();
    final List<Switch> switches = new ArrayList<>();
    final List<Preemption> preemptions = new ArrayList<>();
    final List<Report> reports = new ArrayList<>();
    final List<String> lines = new ArrayList<>();
    /** For each of {@link #lines}: the last step recorded before it (0 before any). */
    final List<Long> lineSteps = new ArrayList<>();

    /** A lock passed from the thread that let it go to a thread that waited for it. */
    record HandOff(String lock, String from, long unlockStep, String to, long gotAfterStep) {
    }

    /** For every wait that ended: the holder's release it waited for (the last one up to the waiter's getting it). */
    List<HandOff> handOffs() {
        List<HandOff> out = new ArrayList<>();
        for (Held w : held) {
            if (!w.waiting() || !w.ended()) {
                continue;
            }
            Held release = null;
            for (Held h : held) {
                if (!h.waiting() && h.ended() && h.lock().equals(w.lock()) && !h.task().equals(w.task())
                        && h.to() <= w.to() && h.to() >= w.from() && (release == null || h.to() > release.to())) {
                    release = h;
                }
            }
            if (release != null) {
                out.add(new HandOff(w.lock(), release.task(), release.to(), w.task(), w.to()));
            }
        }
        return out;
    }

    long lastStep() {
        return steps.isEmpty() ? 0 : steps.getLast().index();
    }

    long preemptionsIn(Timeline.Window w) {
        return preemptions.stream().filter(p -> w.contains(p.step())).count();
    }

    /**
     * One kernel step; {@code counted} when it gets or puts a reference of
     * its subject and the trace says the count ({@code refcount}: as the step
     * starts).
     */
    record Step(long index, long timeNs, String task, String kind, String function, String subject, boolean counted,
            int refcount) {
        /** The count after the step: one more for a get, one less for a put. */
        int refcountAfter() {
            return kind.equals("GET") ? refcount + 1 : refcount - 1;
        }
    }

    static final class Syscall {
        final String task;
        final Step enter;
        Step exit;
        TraceRequest request;
        String result;

        Syscall(String task, Step enter) {
            this.task = task;
            this.enter = enter;
        }

        long last(long end) {
            return exit == null ? end : exit.index();
        }

        String label() {
            String what = request == null ? enter.function()
                    : request.getOp() + (request.getArgsCount() == 0 ? "" : " " + String.join(" ", request.getArgsList()));
            return result == null ? what : what + " \u2192 " + result;
        }
    }

    /**
     * A lock in a thread's lane: held from step {@code from} to step
     * {@code to} (both drawn), or, with {@code waiting}, waited for (while
     * {@code holder} held it). {@code ended}: released, or got at last.
     */
    record Held(String task, String lock, long from, long to, boolean ended, boolean waiting, String holder) {
        static Held held(String task, String lock, long from, long to, boolean released) {
            return new Held(task, lock, from, to, released, false, "");
        }
    }

    /** What a thread is doing with a lock right now: holding it since {@code from}, or waiting since then. */
    private record LockState(long from, boolean waiting, String holder) {
    }

    record Switch(long step, String from, String to, boolean preempted) {
    }

    record Report(String kind, String function, String detail, long step) {
    }

    /** A decision that took the CPU from a thread that could have gone on; {@code step} is the first step after it. */
    record Preemption(long step, String from, String to) {
    }

    /** Reads a trace: the records in order, with no other state than the model. */
    static TimelineModel read(List<TraceRecord> records) {
        TimelineModel m = new TimelineModel();
        Map<String, TraceRequest> pendingRequest = new HashMap<>();
        Map<String, Syscall> open = new HashMap<>();
        List<Syscall> awaitingResult = new ArrayList<>();
        Map<String, Map<String, LockState>> holding = new LinkedHashMap<>(); // task to held locks
        Map<String, Map<String, LockState>> waiting = new LinkedHashMap<>(); // task to the locks it waits for
        Map<Integer, String> taskOfThread = new HashMap<>();
        List<int[]> undecided = new ArrayList<>();
        int chosen = -1;
        Step previous = null;
        for (TraceRecord r : records) {
            switch (r.getRecordCase()) {
                case HEADER -> m.header = r.getHeader();
                case END -> m.ended = true;
                case REQUEST -> pendingRequest.put(r.getRequest().getThread(), r.getRequest());
                case DECISION -> {
                    var d = r.getDecision();
                    chosen = d.getThread();
                    if (d.getRunning() >= 0 && d.getThread() != d.getRunning()
                            && d.getRunnableList().contains(d.getRunning())) {
                        undecided.add(new int[] {d.getRunning(), d.getThread()});
                    }
                }
                case LOCK_WAIT -> lockWait(m, r.getLockWait(), holding, waiting);
                case REPORT -> m.reports.add(new Report(r.getReport().getKind(), r.getReport().getFunction(),
                        r.getReport().getDetail(), r.getReport().getStep()));
                case LINE -> {
                    m.lines.add(r.getLine().getText());
                    m.lineSteps.add(previous == null ? 0 : previous.index());
                    attachResult(r.getLine().getText(), awaitingResult);
                }
                case STEP -> {
                    Step s = step(r.getStep(), m.header != null && m.header.getFormatVersion() >= 2);
                    m.steps.add(s);
                    m.tasks.add(s.task());
                    if (chosen >= 0) {
                        taskOfThread.put(chosen, s.task());
                        chosen = -1;
                    }
                    for (int[] p : undecided) {
                        m.preemptions.add(new Preemption(s.index(), taskOfThread.getOrDefault(p[0], "thread " + p[0]),
                                taskOfThread.getOrDefault(p[1], "thread " + p[1])));
                    }
                    if (previous != null && !previous.task().equals(s.task())) {
                        m.switches.add(new Switch(s.index(), previous.task(), s.task(), !undecided.isEmpty()));
                    }
                    undecided.clear();
                    previous = s;
                    syscallStep(m, s, pendingRequest, open, awaitingResult);
                    lockStep(m, s, holding);
                }
                case RECORD_NOT_SET -> {
                }
            }
        }
        holding.forEach((task, locks) -> locks.forEach(
                (lock, l) -> m.held.add(Held.held(task, lock, l.from(), m.lastStep(), false))));
        waiting.forEach((task, locks) -> locks.forEach(
                (lock, l) -> m.held.add(new Held(task, lock, l.from(), m.lastStep(), false, true, l.holder()))));
        return m;
    }

    private static Step step(TraceStep s, boolean refcounts) {
        boolean counted = refcounts && s.hasRefcount() && (s.getKind().equals("GET") || s.getKind().equals("PUT"))
                && !s.getSubject().isEmpty();
        return new Step(s.getIndex(), s.getTimeNs(), s.getTask().isEmpty() ? "<timer>" : s.getTask(), s.getKind(),
                s.getFunction(), s.getSubject(), counted, s.getRefcount());
    }

    private static void syscallStep(TimelineModel m, Step s, Map<String, TraceRequest> pendingRequest, Map<String, Syscall> open,
            List<Syscall> awaitingResult) {
        if (s.kind().equals("SYSCALL_ENTER")) {
            Syscall c = new Syscall(s.task(), s);
            c.request = pendingRequest.remove(s.task());
            open.put(s.task(), c);
            m.syscalls.add(c);
        } else if (s.kind().equals("SYSCALL_EXIT")) {
            Syscall c = open.remove(s.task());
            if (c != null) {
                c.exit = s;
                if (c.request != null) {
                    awaitingResult.add(c);
                    if (awaitingResult.size() > 256) { // a result line that never came: stop looking for it
                        awaitingResult.removeFirst();
                    }
                }
            }
        }
    }

    /** A result line ("9 A.t1 create_dumb ok 1 16 4096") belongs to the oldest finished call of its statement. */
    private static void attachResult(String text, List<Syscall> awaitingResult) {
        for (int i = 0; i < awaitingResult.size(); i++) {
            TraceRequest q = awaitingResult.get(i).request;
            String prefix = q.getLine() + " " + q.getThread() + " " + q.getOp() + " ";
            if (text.startsWith(prefix)) {
                awaitingResult.remove(i).result = text.substring(prefix.length());
                return;
            }
        }
    }

    private static void lockStep(TimelineModel m, Step s, Map<String, Map<String, LockState>> holding) {
        switch (s.kind()) {
            // a LOCK of a lock the task holds already is a self-deadlock: its hold goes on, a wait record follows
            case "LOCK", "SPIN_LOCK" -> holding.computeIfAbsent(s.task(), k -> new LinkedHashMap<>())
                    .putIfAbsent(s.subject(), new LockState(s.index(), false, ""));
            case "UNLOCK", "SPIN_UNLOCK" -> {
                LockState l = holding.getOrDefault(s.task(), Map.of()).remove(s.subject());
                if (l != null) {
                    m.held.add(Held.held(s.task(), s.subject(), l.from(), s.index(), true));
                }
            }
            default -> {
            }
        }
    }

    /**
     * A LOCK step that must wait turns its hold into a wait; when the task
     * gets the lock, the wait ends and the hold starts with its next step.
     */
    private static void lockWait(TimelineModel m, TraceLockWait lw,
            Map<String, Map<String, LockState>> holding, Map<String, Map<String, LockState>> waiting) {
        String task = lw.getTask().isEmpty() ? "<timer>" : lw.getTask();
        Map<String, LockState> held = holding.computeIfAbsent(task, k -> new LinkedHashMap<>());
        Map<String, LockState> waits = waiting.computeIfAbsent(task, k -> new LinkedHashMap<>());
        if (!lw.getGot()) {
            LockState h = held.get(lw.getLock());
            if (h != null && h.from() == lw.getStep()) {
                held.remove(lw.getLock()); // the LOCK step was an attempt, not a hold
            }
            waits.put(lw.getLock(), new LockState(lw.getStep(), true, lw.getHolder()));
            return;
        }
        LockState w = waits.remove(lw.getLock());
        if (w != null) {
            m.held.add(new Held(task, lw.getLock(), w.from(), lw.getStep(), true, true, w.holder()));
        }
        held.put(lw.getLock(), new LockState(lw.getStep() + 1, false, ""));
    }
}
