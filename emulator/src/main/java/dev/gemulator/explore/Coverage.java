package dev.gemulator.explore;

import dev.gemulator.kernel.KernelObserver;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;
import java.util.Arrays;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The interleaving coverage of one schedule, seen as the kernel model runs
 * it: for every two consecutive steps of different tasks on the same object
 * (a lock, GEM object, file, dma-buf...), the pair (kind and function of the
 * earlier step, kind and function of the later, the object's class: a lock's
 * name, else its Java class). Two schedules that order the same racing steps
 * the same way have the same pairs; one that lets gem_close's idr remove run
 * between export's lookup and its reference has a pair the others lack.
 *
 * <p>Pairs are 64-bit hashes of their parts (String hashes, so the same in
 * every JVM). The observer only looks objects up by identity, never walks
 * them. Nothing is written anywhere: it costs a map lookup per step.
 */
public final class Coverage implements KernelObserver {

    /** The task and step that last touched an object. */
    private record Last(Task task, long step) {
    }

    private final Map<Object, Last> last = new IdentityHashMap<>();
    private final Set<Long> pairs = new HashSet<>();

    @Override
    public void step(Task task, String function, StepKind kind, Object subject) {
        if (subject == null || task == null) {
            return;
        }
        long code = function.hashCode() * 31L + kind.ordinal();
        Last before = last.get(subject);
        if (before != null && before.task() != task) {
            pairs.add(pair(before.step(), code, subject));
        }
        last.put(subject, new Last(task, code));
    }

    /** The class an object counts as: a lock's name ("file->prime.lock"), else its class ("DmaBuf"). */
    private static int classOf(Object subject) {
        return subject instanceof Lock l ? l.name().hashCode() : subject.getClass().getName().hashCode();
    }

    private static long pair(long earlier, long later, Object subject) {
        long h = earlier * 0x9E3779B97F4A7C15L + later;
        h = h * 0xC2B2AE3D27D4EB4FL + classOf(subject);
        return mix(h);
    }

    /** A 64-bit finaliser (SplitMix64's), so that nearby codes spread. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The pairs this schedule ordered, sorted. */
    public long[] pairs() {
        long[] out = new long[pairs.size()];
        int i = 0;
        for (long p : pairs) {
            out[i++] = p;
        }
        Arrays.sort(out);
        return out;
    }

    /** The fingerprint of a schedule: one hash of its sorted pairs. */
    public static long fingerprint(long[] sortedPairs) {
        long h = sortedPairs.length;
        for (long p : sortedPairs) {
            h = mix(h * 31 + p);
        }
        return h;
    }
}
