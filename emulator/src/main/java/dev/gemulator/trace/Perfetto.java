package dev.gemulator.trace;

import static dev.gemulator.trace.Json.quote;

import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.TimelineModel.Held;
import dev.gemulator.trace.TimelineModel.Step;
import dev.gemulator.trace.TimelineModel.Syscall;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A trace as Chrome trace-event JSON, which the Perfetto UI and
 * chrome://tracing open. Timestamps are the run's virtual time in
 * microseconds: every step takes {@code 0.1} (virtual time moves 100 ns per
 * step in every mode), so slices never share an instant.
 *
 * <ul>
 * <li>a process per emulated process, a track per thread: a slice per
 *     system call (its statement and result, flags and errnos decoded) with
 *     a slice per kernel step nested inside it;
 * <li>the locks each thread holds and waits for, as async slices under its
 *     process (they may overlap without nesting, as real lock holds do);
 * <li>lock hand-offs as flow arrows from the release to the step where the
 *     waiter got the lock; a flow event has its slice's category and start
 *     time, which is how trace parsers bind it to that slice;
 * <li>preemptions and switches as instant events on the thread that loses
 *     the CPU, reports as global instant events;
 * <li>a counter track per counted object (the "objects" process) with its
 *     reference count after each get and put.
 * </ul>
 */
public final class Perfetto {
    private Perfetto() {
    }

    /** One step slice lasts this long: virtual time moves 100 ns per step. */
    private static final double STEP_US = 0.1;
    /** The process that holds the reports. */
    private static final int REPORTS_PID = 0;
    /** The process that holds the objects' counter tracks. */
    private static final int OBJECTS_PID = 1_000_000;

    public static String json(List<TraceRecord> records) {
        return new Builder(TimelineModel.read(records)).build();
    }

    private static final class Builder {
        private final TimelineModel m;
        private final Ids ids = new Ids();
        private final List<String> events = new ArrayList<>();
        private final Map<Long, Step> byIndex = new HashMap<>();
        private final Names names;
        private long asyncIds;

        Builder(TimelineModel m) {
            this.m = m;
            m.steps.forEach(s -> byIndex.put(s.index(), s));
            this.names = new Names(m);
        }

        String build() {
            for (Step s : m.steps) {
                step(s);
            }
            for (Syscall c : m.syscalls) {
                syscall(c);
            }
            for (Held h : m.held) {
                lock(h);
            }
            handOffs();
            switches();
            reports();
            StringBuilder out = new StringBuilder("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
            List<String> all = metadata();
            all.addAll(events);
            for (int i = 0; i < all.size(); i++) {
                out.append(all.get(i)).append(i + 1 < all.size() ? ",\n" : "\n");
            }
            return out.append("]}\n").toString();
        }

        private double ts(long step) {
            Step s = byIndex.get(step);
            return s == null ? (m.steps.isEmpty() ? 0 : us(m.steps.getLast().timeNs()) + STEP_US) : us(s.timeNs());
        }

        private void step(Step s) {
            int pid = ids.pid(s.task());
            int tid = ids.tid(s.task());
            String args = "\"step\":" + s.index() + ",\"function\":" + quote(s.function()) + ",\"object\":"
                    + quote(names.of(s.subject()));
            if (s.counted()) {
                args += ",\"refcount\":" + quote(s.refcount() + " \u2192 " + s.refcountAfter());
            }
            events.add(complete(s.kind().toLowerCase(Locale.ROOT) + " " + s.function()
                    + (s.subject().isEmpty() ? "" : " " + names.of(s.subject())), "step", pid, tid, us(s.timeNs()),
                    STEP_US, args));
            if (s.counted() && !s.subject().isEmpty()) {
                events.add("{\"name\":" + quote("refcount " + names.of(s.subject())) + ",\"ph\":\"C\",\"pid\":"
                        + OBJECTS_PID + ",\"tid\":0,\"ts\":" + num(us(s.timeNs()) + STEP_US) + ",\"args\":{\"refcount\":"
                        + Math.max(0, s.refcountAfter()) + "}}");
            }
        }

        /** A syscall's slice spans its steps, from its entry's start to its exit's end. */
        private void syscall(Syscall c) {
            int pid = ids.pid(c.task);
            int tid = ids.tid(c.task);
            double start = us(c.enter.timeNs());
            double end = c.exit == null ? ts(m.lastStep()) + STEP_US : us(c.exit.timeNs()) + STEP_US;
            events.add(complete(names.label(c), "syscall", pid, tid, start, end - start,
                    "\"first_step\":" + c.enter.index() + ",\"last_step\":" + (c.exit == null ? -1 : c.exit.index())));
        }

        /** A hold or a wait as an async slice of the thread's process. */
        private void lock(Held h) {
            int pid = ids.pid(h.task());
            int tid = ids.tid(h.task());
            double start = ts(h.from());
            double end = ts(h.to()) + STEP_US;
            String name = (h.waiting() ? "waits for " : "holds ") + h.lock() + (h.ended() ? ""
                    : h.waiting() ? " (never gets it)" : " (never released)");
            long id = ++asyncIds;
            String args = "\"thread\":" + quote(h.task()) + ",\"from_step\":" + h.from() + ",\"to_step\":" + h.to()
                    + (h.waiting() ? ",\"holder\":" + quote(h.holder()) : "");
            events.add("{\"name\":" + quote(name) + ",\"cat\":\"lock\",\"ph\":\"b\",\"id\":" + id + ",\"pid\":" + pid
                    + ",\"tid\":" + tid + ",\"ts\":" + num(start) + ",\"args\":{" + args + "}}");
            events.add("{\"name\":" + quote(name) + ",\"cat\":\"lock\",\"ph\":\"e\",\"id\":" + id + ",\"pid\":" + pid
                    + ",\"tid\":" + tid + ",\"ts\":" + num(end) + "}");
        }

        /** From the step that let the lock go to the first step of the waiter that got it. */
        private void handOffs() {
            long flow = 0;
            for (TimelineModel.HandOff h : m.handOffs()) {
                Step from = byIndex.get(h.unlockStep());
                Step to = firstStepOf(h.to(), h.gotAfterStep() + 1);
                if (from == null || to == null) {
                    continue;
                }
                flow++;
                String name = quote("hand-off " + h.lock());
                events.add("{\"name\":" + name + ",\"cat\":\"step\",\"ph\":\"s\",\"id\":" + flow + ",\"pid\":"
                        + ids.pid(from.task()) + ",\"tid\":" + ids.tid(from.task()) + ",\"ts\":" + num(us(from.timeNs()))
                        + "}");
                events.add("{\"name\":" + name + ",\"cat\":\"step\",\"ph\":\"f\",\"bp\":\"e\",\"id\":" + flow
                        + ",\"pid\":" + ids.pid(to.task()) + ",\"tid\":" + ids.tid(to.task()) + ",\"ts\":"
                        + num(us(to.timeNs())) + "}");
            }
        }

        private Step firstStepOf(String task, long from) {
            for (long i = from; i <= m.lastStep(); i++) {
                Step s = byIndex.get(i);
                if (s != null && s.task().equals(task)) {
                    return s;
                }
            }
            return null;
        }

        /**
         * An instant on the thread that lost the CPU, at the first step of
         * the one that got it: every preemption (a thread that could have
         * gone on was stopped), and every other switch between threads.
         */
        private void switches() {
            for (TimelineModel.Preemption p : m.preemptions) {
                instant("preempted by " + p.to(), p.from(), p.step(), p.from(), p.to(), true);
            }
            for (TimelineModel.Switch s : m.switches) {
                if (!s.preempted()) {
                    instant("switch to " + s.to(), s.from(), s.step(), s.from(), s.to(), false);
                }
            }
        }

        private void instant(String name, String on, long step, String from, String to, boolean preempted) {
            String task = on.startsWith("thread ") ? "<timer>" : on;
            events.add("{\"name\":" + quote(name) + ",\"cat\":\"sched\",\"ph\":\"i\",\"s\":\"t\",\"pid\":"
                    + ids.pid(task) + ",\"tid\":" + ids.tid(task) + ",\"ts\":" + num(ts(step)) + ",\"args\":{\"step\":"
                    + step + ",\"from\":" + quote(from) + ",\"to\":" + quote(to) + ",\"preempted\":" + preempted + "}}");
        }

        private void reports() {
            for (TimelineModel.Report r : m.reports) {
                events.add("{\"name\":" + quote("report " + r.kind() + " " + r.function())
                        + ",\"cat\":\"report\",\"ph\":\"i\",\"s\":\"g\",\"pid\":" + REPORTS_PID + ",\"tid\":0,\"ts\":"
                        + num(ts(r.step())) + ",\"args\":{\"detail\":" + quote(names.decode(r.detail())) + ",\"step\":"
                        + r.step() + "}}");
            }
        }

        private List<String> metadata() {
            List<String> meta = new ArrayList<>();
            meta.add(processName(REPORTS_PID, "reports"));
            ids.processes.forEach((name, pid) -> meta.add(processName(pid, name)));
            ids.threads.forEach((name, tid) -> meta.add("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + ids.pid(name)
                    + ",\"tid\":" + tid + ",\"args\":{\"name\":" + quote(name) + "}}"));
            meta.add(processName(OBJECTS_PID, "objects (reference counts)"));
            return meta;
        }

        private static String processName(int pid, String name) {
            return "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + pid + ",\"tid\":0,\"args\":{\"name\":" + quote(name)
                    + "}}";
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

    private static double us(long ns) {
        return ns / 1000.0;
    }

    private static String complete(String name, String cat, int pid, int tid, double ts, double dur, String args) {
        return "{\"name\":" + quote(name) + ",\"cat\":\"" + cat + "\",\"ph\":\"X\",\"pid\":" + pid + ",\"tid\":" + tid
                + ",\"ts\":" + num(ts) + ",\"dur\":" + num(dur) + ",\"args\":{" + args + "}}";
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
