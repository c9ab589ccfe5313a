package dev.gemulator.explore;

import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.Traces;
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

    private final Script script;
    private final Profile profile;
    private final Runner.RunOptions original;
    private final TraceHeader header;
    private final String findingKey;
    private int runs;

    private Shrinker(Script script, Profile profile, Runner.RunOptions original, TraceHeader header, String findingKey) {
        this.script = script;
        this.profile = profile;
        this.original = original;
        this.header = header;
        this.findingKey = findingKey;
    }

    /** Shrinks the schedule of {@code original} (seed and strategy) that shows the finding {@code kind function}. */
    public static Outcome shrink(Script script, Profile profile, Runner.RunOptions original, TraceHeader header,
            String findingKey) {
        return new Shrinker(script, profile, original, header, findingKey).run();
    }

    private Traces.Recorded record(int[] decisions) {
        runs++;
        Runner.RunOptions o = new Runner.RunOptions(original.seed(), original.strategy(), original.pctDepth(),
                original.pctMaxSteps(), decisions);
        try {
            return Traces.run(script, header, profile, o);
        } catch (IllegalStateException e) {
            return null;
        }
    }

    private boolean fails(Traces.Recorded r) {
        return r != null && r.records().stream().anyMatch(x -> x.hasReport()
                && (x.getReport().getKind() + " " + x.getReport().getFunction()).equals(findingKey)
                || x.hasLine() && findingKey.startsWith("expectation ") && x.getLine().getText().startsWith("expectations: ")
                        && !x.getLine().getText().endsWith(" 0 failed"));
    }

    private Outcome run() {
        Traces.Recorded base = Traces.run(script, header, profile, original);
        runs++;
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
        Traces.Recorded current = record(d);
        if (!fails(current)) {
            d = decisionsOf(base.records());
            current = base;
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            List<Integer> preempting = preemptionIndexes(current, d.length);
            // one preemption at a time, the latest first
            for (int k = preempting.size() - 1; k >= 0 && !changed; k--) {
                Traces.Recorded r = tryWithout(d, current, List.of(preempting.get(k)));
                if (r != null) {
                    d = trimTrailingNonPreemptive(decisionsOf(r.records(), d.length), r);
                    current = record(d);
                    changed = true;
                }
            }
            // a switch away and the switch back together keep the threads aligned
            for (int k = preempting.size() - 1; k > 0 && !changed; k--) {
                for (int j = k - 1; j >= 0 && !changed; j--) {
                    Traces.Recorded r = tryWithout(d, current, List.of(preempting.get(j), preempting.get(k)));
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
    private static List<Integer> preemptionIndexes(Traces.Recorded run, int limit) {
        List<TraceRecord> decisions = run.records().stream().filter(TraceRecord::hasDecision).toList();
        List<Integer> out = new java.util.ArrayList<>();
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
    private Traces.Recorded tryWithout(int[] d, Traces.Recorded current, List<Integer> indexes) {
        List<TraceRecord> decisions = current.records().stream().filter(TraceRecord::hasDecision).toList();
        int[] candidate = d.clone();
        for (int i : indexes) {
            candidate[i] = decisions.get(i).getDecision().getRunning();
        }
        Traces.Recorded r = record(candidate);
        return fails(r) ? r : null;
    }

    /** The first {@code length} decisions a run actually took. */
    private static int[] decisionsOf(List<TraceRecord> records, int length) {
        int[] all = decisionsOf(records);
        return Arrays.copyOf(all, Math.min(length, all.length));
    }

    /** Drops trailing decisions that only let the running thread go on (the replay does that anyway). */
    private static int[] trimTrailingNonPreemptive(int[] d, Traces.Recorded r) {
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
