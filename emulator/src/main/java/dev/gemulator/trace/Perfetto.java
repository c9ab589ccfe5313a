package dev.gemulator.trace;

import static dev.gemulator.trace.Json.quote;

import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceStep;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A trace as Chrome trace-event JSON, which the Perfetto UI and
 * chrome://tracing open: a process per emulated process, a track per thread
 * with a slice per system call and per kernel step, a second track per
 * thread with the locks it holds and waits for, an instant event per report,
 * and flow arrows from each unlock to the moment another thread next takes
 * the same lock (a hand-off). Timestamps are the run's virtual time in
 * microseconds.
 */
public final class Perfetto {
    private Perfetto() {
    }

    /** One step slice lasts this long (virtual time moves 100 ns per step). */
    private static final double STEP_US = 0.1;
    /** Lock tracks use thread ids from here up. */
    private static final int LOCK_TRACK = 100_000;

    public static String json(List<TraceRecord> records) {
        return new Builder(records).build();
    }

    /** One pass over the records, collecting events; the state of each thread's locks and system calls on the way. */
    private static final class Builder {
        private final List<TraceRecord> records;
        private final Ids ids = new Ids();
        private final List<String> events = new ArrayList<>();
        private final Map<String, TraceStep> enters = new HashMap<>();
        private final Map<String, Map<String, TraceStep>> held = new LinkedHashMap<>();
        private final Map<String, TraceStep> lastUnlock = new HashMap<>();
        private final Map<Long, Double> timeOfStep = new HashMap<>();
        /** LOCK steps that had to wait: the lock is held from when the task got it, not from the attempt. */
        private final java.util.Set<Long> waited = new java.util.HashSet<>();
        private final Map<String, TraceStep> waitingSince = new LinkedHashMap<>();
        private long flows;
        private double lastTime;

        Builder(List<TraceRecord> records) {
            this.records = records;
            records.stream().filter(TraceRecord::hasLockWait).filter(r -> !r.getLockWait().getGot())
                    .forEach(r -> waited.add(r.getLockWait().getStep()));
        }

        String build() {
            for (TraceRecord r : records) {
                if (r.hasLockWait() && r.getLockWait().getGot()) {
                    got(r.getLockWait());
                } else if (r.hasStep()) {
                    step(r.getStep());
                } else if (r.hasReport()) {
                    var rep = r.getReport();
                    double ts = timeOfStep.getOrDefault(rep.getStep(), lastTime);
                    events.add("{\"name\":" + quote("report " + rep.getKind() + " " + rep.getFunction())
                            + ",\"cat\":\"report\",\"ph\":\"i\",\"s\":\"g\",\"pid\":0,\"tid\":0,\"ts\":" + num(ts)
                            + ",\"args\":{\"detail\":" + quote(rep.getDetail()) + ",\"step\":" + rep.getStep() + "}}");
                }
            }
            unfinished();
            StringBuilder out = new StringBuilder("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
            List<String> all = metadata();
            all.addAll(events);
            for (int i = 0; i < all.size(); i++) {
                out.append(all.get(i)).append(i + 1 < all.size() ? ",\n" : "\n");
            }
            return out.append("]}\n").toString();
        }

        private static String task(String name) {
            return name.isEmpty() ? "<timer>" : name;
        }

        private void step(TraceStep s) {
            String task = task(s.getTask());
            int pid = ids.pid(task);
            int tid = ids.tid(task);
            double ts = s.getTimeNs() / 1000.0;
            lastTime = Math.max(lastTime, ts);
            timeOfStep.put(s.getIndex(), ts);
            events.add(complete(s.getKind() + " " + s.getFunction(), "step", pid, tid, ts, STEP_US,
                    "\"step\":" + s.getIndex() + ",\"object\":" + quote(s.getSubject())));
            switch (s.getKind()) {
                case "SYSCALL_ENTER" -> enters.put(task, s);
                case "SYSCALL_EXIT" -> {
                    TraceStep e = enters.remove(task);
                    if (e != null) {
                        double start = e.getTimeNs() / 1000.0;
                        events.add(complete(e.getFunction(), "syscall", pid, tid, start, ts + STEP_US - start,
                                "\"first_step\":" + e.getIndex() + ",\"last_step\":" + s.getIndex()));
                    }
                }
                case "LOCK", "SPIN_LOCK" -> {
                    if (waited.contains(s.getIndex())) {
                        waitingSince.put(task + "\u0000" + s.getSubject(), s);
                    } else {
                        held.computeIfAbsent(task, k -> new LinkedHashMap<>()).put(s.getSubject(), s);
                        handOff(s.getSubject(), s.getTask(), pid, tid, ts);
                    }
                }
                case "UNLOCK", "SPIN_UNLOCK" -> {
                    TraceStep l = held.getOrDefault(task, Map.of()).remove(s.getSubject());
                    if (l != null) {
                        double start = l.getTimeNs() / 1000.0;
                        events.add(complete("holds " + s.getSubject(), "lock", pid, LOCK_TRACK + tid, start,
                                ts + STEP_US - start, "\"from_step\":" + l.getIndex() + ",\"to_step\":" + s.getIndex()));
                    }
                    lastUnlock.put(s.getSubject(), s);
                }
                default -> {
                }
            }
        }

        /** A task got a lock it waited for: the wait ends, the hold starts, the lock came from its last unlock. */
        private void got(dev.gemulator.proto.v1.TraceLockWait lw) {
            String task = task(lw.getTask());
            TraceStep since = waitingSince.remove(task + "\u0000" + lw.getLock());
            if (since == null) {
                return;
            }
            double start = since.getTimeNs() / 1000.0;
            double got = timeOfStep.getOrDefault(lw.getStep(), start) + STEP_US;
            int pid = ids.pid(task);
            int tid = ids.tid(task);
            events.add(complete("waits for " + lw.getLock(), "lock", pid, LOCK_TRACK + tid, start, got - start,
                    "\"from_step\":" + since.getIndex() + ",\"got_after_step\":" + lw.getStep()));
            held.computeIfAbsent(task, k -> new LinkedHashMap<>()).put(lw.getLock(),
                    since.toBuilder().setIndex(lw.getStep() + 1).setTimeNs(Math.round(got * 1000)).build());
            handOff(lw.getLock(), since.getTask(), pid, tid, got);
        }

        /** A flow arrow from the last unlock of {@code lock} by another task to this taking of it. */
        private void handOff(String lock, String taker, int pid, int tid, double ts) {
            TraceStep u = lastUnlock.get(lock);
            if (u != null && !u.getTask().equals(taker)) {
                String from = task(u.getTask());
                flows++;
                events.add(flow("s", lock, flows, ids.pid(from), ids.tid(from), u.getTimeNs() / 1000.0));
                events.add(flow("f", lock, flows, pid, tid, ts));
            }
        }

        /** Locks still held or waited for at the end of the trace (a deadlock, or a lock leaked to user space). */
        private void unfinished() {
            for (var e : held.entrySet()) {
                for (TraceStep l : e.getValue().values()) {
                    lastingSlice("holds " + l.getSubject() + " (never released)", e.getKey(), l);
                }
            }
            for (TraceStep l : waitingSince.values()) {
                lastingSlice("waits for " + l.getSubject() + " (never gets it)", task(l.getTask()), l);
            }
        }

        private void lastingSlice(String name, String task, TraceStep from) {
            double start = from.getTimeNs() / 1000.0;
            events.add(complete(name, "lock", ids.pid(task), LOCK_TRACK + ids.tid(task), start,
                    Math.max(STEP_US, lastTime + STEP_US - start), "\"from_step\":" + from.getIndex()));
        }

        private List<String> metadata() {
            List<String> meta = new ArrayList<>();
            meta.add("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"tid\":0,\"args\":{\"name\":\"reports\"}}");
            ids.processes.forEach((name, pid) -> meta.add("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + pid
                    + ",\"tid\":0,\"args\":{\"name\":" + quote(name) + "}}"));
            ids.threads.forEach((name, tid) -> {
                int pid = ids.pid(name);
                meta.add("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + pid + ",\"tid\":" + tid
                        + ",\"args\":{\"name\":" + quote(name) + "}}");
                meta.add("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + pid + ",\"tid\":" + (LOCK_TRACK + tid)
                        + ",\"args\":{\"name\":" + quote(name + " locks") + "}}");
            });
            return meta;
        }
    }

    /** Process and thread ids by name, in order of appearance ("A.t1" belongs to process "A"). */
    private static final class Ids {
        final Map<String, Integer> processes = new LinkedHashMap<>();
        final Map<String, Integer> threads = new LinkedHashMap<>();

        int pid(String task) {
            String process = task.startsWith("<") ? "kernel" : task.contains(".") ? task.substring(0, task.indexOf('.'))
                    : task;
            return processes.computeIfAbsent(process, p -> processes.size() + 1);
        }

        int tid(String task) {
            pid(task);
            return threads.computeIfAbsent(task, t -> threads.size() + 1);
        }
    }

    private static String complete(String name, String cat, int pid, int tid, double ts, double dur, String args) {
        return "{\"name\":" + quote(name) + ",\"cat\":\"" + cat + "\",\"ph\":\"X\",\"pid\":" + pid + ",\"tid\":" + tid
                + ",\"ts\":" + num(ts) + ",\"dur\":" + num(dur) + ",\"args\":{" + args + "}}";
    }

    private static String flow(String phase, String lock, long id, int pid, int tid, double ts) {
        return "{\"name\":" + quote("hand-off " + lock) + ",\"cat\":\"lock\",\"ph\":\"" + phase + "\",\"id\":" + id
                + (phase.equals("f") ? ",\"bp\":\"e\"" : "") + ",\"pid\":" + pid + ",\"tid\":" + tid + ",\"ts\":"
                + num(ts) + "}";
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
