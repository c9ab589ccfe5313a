package dev.gemulator.explore;

import dev.gemulator.check.Report;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceDecision;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.Traces;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Systematic exploration for small scenarios: every schedule with at most
 * {@code maxPreemptions} preemptions, depth first (iterative context
 * bounding, as CHESS does). A schedule is a prefix of decisions; past it the
 * replay preempts no more. Each run branches, after its prefix, at every
 * decision to every other runnable thread whose choice stays within the
 * bound. A switch forced by a thread that cannot go on costs nothing.
 */
public final class Dfs {

    /** What the search found: findings keyed by kind and function, each with the trace of its first schedule. */
    public record Result(List<Explorer.Finding> findings, Map<String, List<TraceRecord>> traces, int schedules,
            boolean exhausted, double seconds) {
    }

    private Dfs() {
    }

    private static boolean preemption(TraceDecision d, int chosen) {
        return d.getRunning() >= 0 && d.getRunnableList().contains(d.getRunning()) && chosen != d.getRunning();
    }

    /** One schedule of the search: its number (1, 2, ...) and its recorded run. */
    public interface Visitor {
        void visit(int schedule, Traces.Recorded run);
    }

    public static Result explore(Script script, Profile profile, TraceHeader header, int maxPreemptions,
            int maxSchedules) {
        long start = System.nanoTime();
        Map<String, Explorer.Finding> findings = new LinkedHashMap<>();
        Map<String, List<TraceRecord>> traces = new LinkedHashMap<>();
        int[] count = new int[1];
        boolean exhausted = search(script, profile, header, maxPreemptions, maxSchedules, (schedules, run) -> {
            count[0] = schedules;
            if (run.failedLine() > 0) {
                String key = "expectation line " + run.failedLine();
                Explorer.Finding f = findings.get(key);
                if (f == null) {
                    findings.put(key, new Explorer.Finding(Report.Kind.EXPECTATION, "line " + run.failedLine(),
                            run.failure(), schedules, 1));
                    traces.put(key, run.records());
                } else {
                    findings.put(key, new Explorer.Finding(f.kind(), f.function(), f.detail(), f.firstSeed(),
                            f.schedules() + 1));
                }
            }
            for (Report r : reports(run.records())) {
                String key = r.kind().label() + " " + r.function();
                Explorer.Finding f = findings.get(key);
                if (f == null) {
                    findings.put(key, new Explorer.Finding(r.kind(), r.function(), r.detail(), schedules, 1));
                    traces.put(key, run.records());
                } else if (f.firstSeed() != schedules) {
                    findings.put(key, new Explorer.Finding(f.kind(), f.function(), f.detail(), f.firstSeed(),
                            f.schedules() + 1));
                }
            }
        });
        return new Result(List.copyOf(findings.values()), traces, count[0], exhausted,
                (System.nanoTime() - start) / 1e9);
    }

    /** The output lines a trace recorded, each ending in a newline. */
    public static String output(List<TraceRecord> records) {
        StringBuilder b = new StringBuilder();
        for (TraceRecord r : records) {
            if (r.hasLine()) {
                b.append(r.getLine().getText()).append('\n');
            }
        }
        return b.toString();
    }

    /** The checkers' reports a trace recorded, in order. */
    public static List<Report> reports(List<TraceRecord> records) {
        List<Report> out = new ArrayList<>();
        for (TraceRecord r : records) {
            if (r.hasReport()) {
                Report.Kind kind = Arrays.stream(Report.Kind.values())
                        .filter(k -> k.label().equals(r.getReport().getKind())).findFirst().orElseThrow();
                out.add(new Report(kind, r.getReport().getFunction(), r.getReport().getDetail(), r.getReport().getStep()));
            }
        }
        return out;
    }

    /**
     * The search itself: runs schedules depth first and shows each to
     * {@code visitor}. Returns whether every schedule within the bound was
     * run (false when {@code maxSchedules} stopped it).
     */
    public static boolean search(Script script, Profile profile, TraceHeader header, int maxPreemptions,
            int maxSchedules, Visitor visitor) {
        Deque<int[]> stack = new ArrayDeque<>();
        stack.push(new int[0]);
        int schedules = 0;
        while (!stack.isEmpty() && schedules < maxSchedules) {
            int[] prefix = stack.pop();
            Runner.RunOptions o = new Runner.RunOptions(0, "random", 3, 1000, prefix);
            Traces.Recorded run = Traces.run(script, header, profile, o);
            schedules++;
            visitor.visit(schedules, run);
            List<TraceDecision> decisions = run.records().stream().filter(TraceRecord::hasDecision)
                    .map(TraceRecord::getDecision).toList();
            List<int[]> children = new ArrayList<>();
            int used = 0;
            for (int i = 0; i < decisions.size(); i++) {
                TraceDecision d = decisions.get(i);
                if (i >= prefix.length) {
                    for (int alt : d.getRunnableList()) {
                        if (alt != d.getThread() && used + (preemption(d, alt) ? 1 : 0) <= maxPreemptions) {
                            int[] child = new int[i + 1];
                            for (int j = 0; j < i; j++) {
                                child[j] = decisions.get(j).getThread();
                            }
                            child[i] = alt;
                            children.add(child);
                        }
                    }
                }
                if (preemption(d, d.getThread())) {
                    used++;
                }
            }
            for (int c = children.size() - 1; c >= 0; c--) {
                stack.push(children.get(c));
            }
        }
        return stack.isEmpty();
    }
}
