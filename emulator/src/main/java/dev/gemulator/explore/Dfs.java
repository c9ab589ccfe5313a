package dev.gemulator.explore;

import dev.gemulator.check.FindingKey;
import dev.gemulator.check.Report;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceDecision;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.sched.Strategy;
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
    public record Result(List<Explorer.Finding> findings, Map<FindingKey, List<TraceRecord>> traces, int schedules,
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
        Gather g = new Gather();
        int[] count = new int[1];
        boolean exhausted = search(script, profile, header, maxPreemptions, maxSchedules, (schedules, run) -> {
            count[0] = schedules;
            g.add(schedules, run, null);
        });
        return new Result(List.copyOf(g.findings.values()), g.traces, count[0], exhausted,
                (System.nanoTime() - start) / 1e9);
    }

    /** Gathers the distinct findings of schedules shown in order, each with its first schedule's trace and prefix. */
    private static final class Gather {
        final Map<FindingKey, Explorer.Finding> findings = new LinkedHashMap<>();
        final Map<FindingKey, List<TraceRecord>> traces = new LinkedHashMap<>();
        final Map<FindingKey, int[]> prefixes = new LinkedHashMap<>();

        void add(int schedule, Traces.Recorded run, int[] prefix) {
            if (run.failedLine() > 0) {
                FindingKey key = new FindingKey(FindingKey.Kind.EXPECTATION, "line " + run.failedLine());
                Explorer.Finding f = findings.get(key);
                if (f == null) {
                    findings.put(key, new Explorer.Finding(Report.Kind.EXPECTATION, "line " + run.failedLine(),
                            run.failure(), schedule, 1));
                    keep(key, run, prefix);
                } else {
                    findings.put(key, new Explorer.Finding(f.kind(), f.function(), f.detail(), f.firstSeed(),
                            f.schedules() + 1));
                }
            }
            List<FindingKey> seenHere = new ArrayList<>();
            for (Report r : reports(run.records())) {
                FindingKey key = FindingKey.of(r);
                if (seenHere.contains(key)) {
                    continue; // a schedule counts once per finding
                }
                seenHere.add(key);
                Explorer.Finding f = findings.get(key);
                if (f == null) {
                    findings.put(key, new Explorer.Finding(r.kind(), r.function(), r.detail(), schedule, 1));
                    keep(key, run, prefix);
                } else {
                    findings.put(key, new Explorer.Finding(f.kind(), f.function(), f.detail(), f.firstSeed(),
                            f.schedules() + 1));
                }
            }
        }

        private void keep(FindingKey key, Traces.Recorded run, int[] prefix) {
            if (prefix == null) {
                traces.put(key, run.records());
            } else {
                prefixes.put(key, prefix);
            }
        }
    }

    /**
     * One part of a sharded search: a subtree under the first schedule (its
     * number among that schedule's branches; -1 is the first schedule
     * itself), how many schedules it held, whether it was run to its end, its
     * findings (first schedule counted from 1 within the part) and the
     * prefix that runs each finding's first schedule again.
     */
    public record Part(int subtree, int schedules, boolean exhausted, List<Explorer.Finding> findings,
            Map<FindingKey, int[]> prefixes) {
    }

    /** A shard's parts, and how many branches the first schedule has (the parts of all shards). */
    public record Sharded(int branches, List<Part> parts, double seconds) {
    }

    /**
     * Shard {@code shard} of the search: every shard runs the first schedule
     * and takes the subtrees under its branches round robin (branch j to
     * shard j mod N); shard 0 also keeps the first schedule. Run in the
     * whole search's order, the parts are the whole search: the schedule
     * numbers follow from the parts' sizes. At most {@code maxSchedules} per shard.
     */
    public static Sharded explorePart(Script script, Profile profile, TraceHeader header, int maxPreemptions,
            int maxSchedules, Shard shard) {
        long start = System.nanoTime();
        int[] none = new int[0];
        Traces.Recorded root = Traces.run(script, header, profile, options(none));
        List<Part> parts = new ArrayList<>();
        int budget = maxSchedules;
        if (shard.index() == 0) {
            Gather g = new Gather();
            g.add(1, root, none);
            parts.add(new Part(-1, 1, true, List.copyOf(g.findings.values()), g.prefixes));
            budget--;
        }
        List<int[]> branches = children(none, root, maxPreemptions);
        for (int j = shard.index(); j < branches.size(); j += shard.count()) {
            Gather g = new Gather();
            Deque<int[]> stack = new ArrayDeque<>();
            stack.push(branches.get(j));
            int n = 0;
            while (!stack.isEmpty() && budget > 0) {
                int[] prefix = stack.pop();
                Traces.Recorded run = Traces.run(script, header, profile, options(prefix));
                budget--;
                g.add(++n, run, prefix);
                List<int[]> children = children(prefix, run, maxPreemptions);
                for (int c = children.size() - 1; c >= 0; c--) {
                    stack.push(children.get(c));
                }
            }
            parts.add(new Part(j, n, stack.isEmpty(), List.copyOf(g.findings.values()), g.prefixes));
            if (budget <= 0 && !stack.isEmpty()) {
                break;
            }
        }
        return new Sharded(branches.size(), parts, (System.nanoTime() - start) / 1e9);
    }

    /** The run options that replay {@code prefix} and preempt no more past it. */
    public static Runner.RunOptions options(int[] prefix) {
        return new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000, prefix);
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
            Traces.Recorded run = Traces.run(script, header, profile, options(prefix));
            schedules++;
            visitor.visit(schedules, run);
            List<int[]> children = children(prefix, run, maxPreemptions);
            for (int c = children.size() - 1; c >= 0; c--) {
                stack.push(children.get(c));
            }
        }
        return stack.isEmpty();
    }

    /**
     * The branches of a run of {@code prefix}: past the prefix, at every
     * decision, each other runnable thread whose choice stays within the bound.
     */
    private static List<int[]> children(int[] prefix, Traces.Recorded run, int maxPreemptions) {
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
        return children;
    }
}
