package dev.gemulator.explore;

import dev.gemulator.check.FindingKey;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.Traces;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shrinks a failing schedule: the fewest preemptions that still produce the
 * same finding (kind and kernel function), then the fewest switches. A
 * schedule is its list of decisions; past its end the replay preempts no
 * more. The shrinker first cuts the list to its shortest failing prefix,
 * then tries each remaining preemption as "let the running thread go on",
 * keeping every change that still fails, until nothing more can go.
 */
public final class Shrinker {

    /** The minimal schedule found, its trace and what it cost. */
    public record Outcome(int[] decisions, int preemptions, int switches, List<TraceRecord> trace, int runs) {
    }

    /**
     * Runs the schedule again: with {@code decisions} null as its seed and
     * strategy decide, else following those decisions (past their end the
     * running thread goes on). Returns the run's trace, or null when the
     * decisions could not be followed (the run diverged).
     */
    public interface Rerun {
        List<TraceRecord> run(int[] decisions);
    }

    /** A run as the shrinker keeps it: its trace. */
    private record Run(List<TraceRecord> records) {
    }

    private final Rerun rerun;
    private final FindingKey findingKey;
    private final int maxRuns;
    private int runs;

    private Shrinker(Rerun rerun, FindingKey findingKey, int maxRuns) {
        this.rerun = rerun;
        this.findingKey = findingKey;
        this.maxRuns = maxRuns;
    }

    /** Shrinks the schedule of {@code original} (seed and strategy) that shows the finding {@code kind function}. */
    public static Outcome shrink(Script script, Profile profile, Runner.RunOptions original, TraceHeader header,
            FindingKey findingKey) {
        Rerun rerun = decisions -> {
            Runner.RunOptions o = decisions == null ? original : new Runner.RunOptions(original.seed(),
                    original.strategy(), original.pctDepth(), original.pctMaxSteps(), decisions);
            try {
                return Traces.run(script, header, profile, o).records();
            } catch (IllegalStateException e) {
                return null;
            }
        };
        return shrink(rerun, findingKey);
    }

    /**
     * Shrinks any seeded run's schedule (a scenario's, a race of real
     * programs') that shows the finding {@code kind function}: every
     * candidate schedule is run again with {@code rerun}.
     */
    public static Outcome shrink(Rerun rerun, FindingKey findingKey) {
        return shrink(rerun, findingKey, Integer.MAX_VALUE);
    }

    /**
     * As above, trying at most about {@code maxRuns} schedules (runs of real
     * programs are slow): the fewest preemptions found by then.
     */
    public static Outcome shrink(Rerun rerun, FindingKey findingKey, int maxRuns) {
        return new Shrinker(rerun, findingKey, maxRuns).run();
    }

    /** Whether a run's trace shows the finding (a report of its kind and function, or for an expectation, a failed one). */
    public static boolean shows(List<TraceRecord> records, FindingKey findingKey) {
        return records.stream().anyMatch(x -> x.hasReport() && findingKey.matches(x.getReport())
                || x.hasLine() && findingKey.kind() == FindingKey.Kind.EXPECTATION
                        && x.getLine().getText().startsWith("expectations: ")
                        && !x.getLine().getText().endsWith(" 0 failed"));
    }

    private Run record(int[] decisions) {
        runs++;
        List<TraceRecord> r = rerun.run(decisions);
        return r == null ? null : new Run(r);
    }

    private boolean fails(Run r) {
        return r != null && shows(r.records(), findingKey);
    }

    private Outcome run() {
        Run base = record(null);
        if (base == null) {
            throw new IllegalArgumentException("the schedule cannot be run again");
        }
        if (!fails(base)) {
            throw new IllegalArgumentException("the schedule does not show " + findingKey);
        }
        int[] d = decisionsOf(base.records());
        // the shortest failing prefix
        int lo = 0;
        int hi = d.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (fails(record(Arrays.copyOf(d, mid)))) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        d = Arrays.copyOf(d, lo);
        Run current = record(d);
        if (!fails(current)) {
            d = decisionsOf(base.records());
            current = base;
        }
        boolean changed = true;
        while (changed && runs < maxRuns) {
            changed = false;
            List<Integer> preempting = preemptionIndexes(current, d.length);
            // one preemption at a time, the latest first
            for (int k = preempting.size() - 1; k >= 0 && !changed && runs < maxRuns; k--) {
                Run r = tryWithout(d, current, List.of(preempting.get(k)));
                if (r != null) {
                    d = trimTrailingNonPreemptive(decisionsOf(r.records(), d.length), r);
                    current = record(d);
                    changed = true;
                }
            }
            // a switch away and the switch back together keep the threads aligned
            for (int k = preempting.size() - 1; k > 0 && !changed && runs < maxRuns; k--) {
                for (int j = k - 1; j >= 0 && !changed && runs < maxRuns; j--) {
                    Run r = tryWithout(d, current, List.of(preempting.get(j), preempting.get(k)));
                    if (r != null) {
                        d = trimTrailingNonPreemptive(decisionsOf(r.records(), d.length), r);
                        current = record(d);
                        changed = true;
                    }
                }
            }
        }
        return new Outcome(d, preemptions(current.records()), switches(current.records()), current.records(), runs);
    }

    /** The indexes (below {@code limit}) of the decisions of a run that preempted a thread. */
    private static List<Integer> preemptionIndexes(Run run, int limit) {
        List<TraceRecord> decisions = run.records().stream().filter(TraceRecord::hasDecision).toList();
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < Math.min(limit, decisions.size()); i++) {
            var dec = decisions.get(i).getDecision();
            if (dec.getRunning() >= 0 && dec.getThread() != dec.getRunning()
                    && dec.getRunnableList().contains(dec.getRunning())) {
                out.add(i);
            }
        }
        return out;
    }

    /** The run with the given preemptions replaced by "the running thread goes on", if it still fails. */
    private Run tryWithout(int[] d, Run current, List<Integer> indexes) {
        List<TraceRecord> decisions = current.records().stream().filter(TraceRecord::hasDecision).toList();
        int[] candidate = d.clone();
        for (int i : indexes) {
            candidate[i] = decisions.get(i).getDecision().getRunning();
        }
        Run r = record(candidate);
        return fails(r) ? r : null;
    }

    /** The first {@code length} decisions a run actually took. */
    private static int[] decisionsOf(List<TraceRecord> records, int length) {
        int[] all = decisionsOf(records);
        return Arrays.copyOf(all, Math.min(length, all.length));
    }

    /** Drops trailing decisions that only let the running thread go on (the replay does that anyway). */
    private static int[] trimTrailingNonPreemptive(int[] d, Run r) {
        List<TraceRecord> decisions = r.records().stream().filter(TraceRecord::hasDecision).toList();
        int n = Math.min(d.length, decisions.size());
        while (n > 0) {
            var dec = decisions.get(n - 1).getDecision();
            boolean free = dec.getRunning() >= 0 && dec.getThread() == dec.getRunning();
            if (!free) {
                break;
            }
            n--;
        }
        return Arrays.copyOf(d, n);
    }

    static int[] decisionsOf(List<TraceRecord> records) {
        return records.stream().filter(TraceRecord::hasDecision).mapToInt(r -> r.getDecision().getThread()).toArray();
    }

    /** Decisions that took the CPU from a thread that could have gone on. */
    public static int preemptions(List<TraceRecord> records) {
        return (int) records.stream().filter(TraceRecord::hasDecision).map(TraceRecord::getDecision)
                .filter(d -> d.getRunning() >= 0 && d.getThread() != d.getRunning()
                        && d.getRunnableList().contains(d.getRunning()))
                .count();
    }

    /** Decisions after which another thread runs than the one that ran before. */
    public static int switches(List<TraceRecord> records) {
        int n = 0;
        int last = -1;
        for (TraceRecord r : records) {
            if (r.hasDecision()) {
                int t = r.getDecision().getThread();
                if (last >= 0 && t != last) {
                    n++;
                }
                last = t;
            }
        }
        return n;
    }
}
