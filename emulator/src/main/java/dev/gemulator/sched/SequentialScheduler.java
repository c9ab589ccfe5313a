package dev.gemulator.sched;

import dev.gemulator.kernel.Clock;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Scheduler;
import dev.gemulator.kernel.SleepInterrupted;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.WaitQueue;

/**
 * Runs every system call straight through, one after the other: preemption
 * points are counted and never switch, and each step takes
 * {@link InterleavingScheduler#STEP_NANOS} of virtual time, as it does when
 * threads interleave (timers that fall due meanwhile fire in timer context
 * between two steps). A task that sleeps can only be woken
 * by time, so sleeping moves virtual time to the next timer (or the task's
 * deadline); a sleep nothing can end is a hang, reported and unwound.
 */
public final class SequentialScheduler implements Scheduler {
    private Kernel kernel;
    private long steps;
    private boolean interruptEndlessSleeps;

    /**
     * Free-running servers: a task holding no lock whose sleep nothing can
     * end gets {@link SleepInterrupted} (its syscall returns EINTR) instead
     * of hanging.
     */
    public void interruptEndlessSleeps(boolean on) {
        this.interruptEndlessSleeps = on;
    }

    /** Binds the scheduler to its kernel (the kernel is built with it). */
    public void attach(Kernel kernel) {
        this.kernel = kernel;
    }

    public long steps() {
        return steps;
    }

    @Override
    public void point(String function, StepKind kind, Object subject) {
        steps++;
        if (kernel.current() == null) {
            return; // timer context: time stands at the timer's deadline while it runs
        }
        long now = kernel.clock().nowNanos();
        if (now > Clock.NEVER - 2 * InterleavingScheduler.STEP_NANOS) {
            return; // a sleep of centuries took time to its end: it stands there
        }
        long target = now + InterleavingScheduler.STEP_NANOS;
        if (kernel.clock().nextDeadlineNanos() > target) {
            kernel.clock().advanceTo(target);
        } else {
            fireTimersUntil(target);
        }
    }

    @Override
    public boolean sleep(WaitQueue queue, long deadlineNanos) {
        Clock clock = kernel.clock();
        long next = clock.nextDeadlineNanos();
        if (next != Clock.NEVER && next <= deadlineNanos) {
            fireTimersUntil(Math.max(next, clock.nowNanos()));
            return true;
        }
        if (deadlineNanos != Clock.NEVER) {
            fireTimersUntil(deadlineNanos);
            return false;
        }
        Task t = kernel.current();
        if (interruptEndlessSleeps && t != null && t.held().isEmpty()) {
            throw new SleepInterrupted(t + " would sleep on " + queue + " forever: nothing can wake it");
        }
        kernel.observer().hung(t, "schedule", queue);
        if (t != null) {
            t.markHung();
        }
        throw new TaskHungException(t, t + " sleeps on " + queue + " and nothing can wake it");
    }

    /** Moves time forward, running due timers in timer context (no current task). */
    private void fireTimersUntil(long targetNanos) {
        Task saved = kernel.current();
        kernel.setCurrent(null);
        try {
            kernel.clock().advanceTo(targetNanos);
        } finally {
            kernel.setCurrent(saved);
        }
    }

    private long wakes;

    @Override
    public void wake(WaitQueue queue) {
        wakes++;
    }

    /**
     * How many wake-ups happened so far (a fence signalled, a lock released):
     * a server that keeps callers waiting outside the kernel (poll) looks
     * again when this moved.
     */
    public long wakes() {
        return wakes;
    }

    /**
     * Moves virtual time to {@code targetNanos} if it is ahead, firing the
     * timers due by then in timer context: a free-running server's clock,
     * driven from outside.
     */
    public void advanceTo(long targetNanos) {
        if (targetNanos > kernel.clock().nowNanos()) {
            fireTimersUntil(targetNanos);
        }
    }
}
