package dev.gemulator.check;

import dev.gemulator.kernel.KObject;
import dev.gemulator.kernel.KernelObserver;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.WaitQueue;
import dev.gemulator.kernel.dmabuf.DmaFence;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The checkers that watch the kernel model from outside, like KASAN,
 * refcount_t, WARN_ON and the hung task detector watch a real kernel: each
 * splat the model signals becomes a {@link Report} on the run, numbered with
 * the step at which it happened. Nothing here changes what the model does.
 *
 * <p>Identical findings (same kind, function and detail) are kept once; a
 * run that keeps hitting one bug reports it once with its first step.
 */
public final class Checkers implements KernelObserver {
    private final List<Report> reports = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();
    private final LinkedHashSet<DmaFence> liveFences = new LinkedHashSet<>();
    private long steps;
    /** lockdep's dependency graph over lock classes (lock names): an edge A to B means B was taken holding A. */
    private final Map<String, LinkedHashSet<String>> lockOrder = new LinkedHashMap<>();

    public List<Report> reports() {
        return Collections.unmodifiableList(reports);
    }

    /** Steps seen so far. */
    public long steps() {
        return steps;
    }

    /** Fences created and not yet freed, oldest first. */
    public Set<DmaFence> liveFences() {
        return Collections.unmodifiableSet(liveFences);
    }

    public void add(Report.Kind kind, String function, String detail) {
        if (seen.add(kind + "|" + function + "|" + detail)) {
            reports.add(new Report(kind, function, detail, steps));
        }
    }

    private static String describe(KObject o) {
        return o + " (refcount " + (o.refcount() == KObject.SATURATED ? "saturated" : String.valueOf(o.refcount())) + ")";
    }

    @Override
    public void step(Task task, String function, StepKind kind, Object subject) {
        steps++;
    }

    @Override
    public void useAfterFree(String function, KObject object, String access) {
        add(Report.Kind.USE_AFTER_FREE, function, access + " of freed " + object);
    }

    @Override
    public void refcountUnderflow(String function, KObject object) {
        add(Report.Kind.REFCOUNT_UNDERFLOW, function, "put of " + object + " whose count is already 0");
    }

    @Override
    public void refcountAddOnZero(String function, KObject object) {
        add(Report.Kind.USE_AFTER_FREE, function, "get of " + object + " whose count is 0 (addition on 0)");
    }

    @Override
    public void refcountOverflow(String function, KObject object) {
        add(Report.Kind.REFCOUNT_OVERFLOW, function, describe(object) + " saturated");
    }

    @Override
    public void warn(String function, String condition, Object... objects) {
        String detail = objects.length == 0 ? condition
                : condition + " [" + Arrays.stream(objects).map(String::valueOf).collect(Collectors.joining(", ")) + "]";
        add(Report.Kind.WARN, function, detail);
    }

    @Override
    public void lockMisuse(String function, Lock lock, String what) {
        add(Report.Kind.LOCK_MISUSE, function, what);
    }

    /**
     * lockdep: taking {@code lock} while holding others adds the edges
     * held -> lock; if {@code lock} already leads to a held one, the two
     * orders can deadlock, whether or not they did in this run.
     */
    @Override
    public void lockAcquired(Task task, Lock lock) {
        String b = lock.name();
        for (Lock heldLock : task.held()) {
            String a = heldLock.name();
            if (heldLock == lock || a.equals(b)) {
                continue;
            }
            if (reaches(b, a)) {
                add(Report.Kind.LOCK_ORDER, "lock_acquire", task + " takes " + b + " while holding " + a
                        + ", but " + a + " was taken while holding " + b + " before: possible circular locking");
            }
            lockOrder.computeIfAbsent(a, k -> new LinkedHashSet<>()).add(b);
        }
    }

    private boolean reaches(String from, String to) {
        ArrayDeque<String> todo = new ArrayDeque<>(List.of(from));
        Set<String> seenNodes = new HashSet<>();
        while (!todo.isEmpty()) {
            String n = todo.poll();
            if (n.equals(to)) {
                return true;
            }
            if (seenNodes.add(n)) {
                todo.addAll(lockOrder.getOrDefault(n, new LinkedHashSet<>()));
            }
        }
        return false;
    }

    @Override
    public void lockHeldAtSyscallExit(Task task, Lock lock) {
        add(Report.Kind.LOCK_MISUSE, "syscall_exit_to_user_mode",
                task + " returns to user space holding " + lock);
    }

    @Override
    public void hung(Task task, String function, Object waitingFor) {
        StringBuilder held = new StringBuilder();
        for (Lock l : task.held()) {
            held.append(held.length() == 0 ? "" : ", ").append(l);
        }
        Object on = waitingFor instanceof WaitQueue q && q.owner() != null ? q.owner() : waitingFor;
        String owner = on instanceof Lock l && l.owner() != null ? " held by " + l.owner() : "";
        add(Report.Kind.DEADLOCK, function, task + " blocked forever on " + on + owner
                + (held.length() == 0 ? "" : "; it holds " + held));
    }

    @Override
    public void created(KObject object) {
        if (object instanceof DmaFence f) {
            liveFences.add(f);
        }
    }

    @Override
    public void freed(String function, KObject object) {
        if (object instanceof DmaFence f) {
            liveFences.remove(f);
        }
    }
}
