package dev.gemulator.kernel;

import java.util.PriorityQueue;

/**
 * Virtual time. Nothing in the model reads a wall clock: time advances only
 * when the scheduler lets it (a sleeping task's deadline, a pending timer),
 * and timers fire in deadline order, ties in the order they were armed.
 */
public final class Clock {
    /** A deadline that never comes. */
    public static final long NEVER = Long.MAX_VALUE;

    /** A pending timer (struct timer_list). */
    public static final class Timer {
        private final long deadlineNanos;
        private final long sequence;
        private final Runnable action;
        private boolean pending = true;

        private Timer(long deadlineNanos, long sequence, Runnable action) {
            this.deadlineNanos = deadlineNanos;
            this.sequence = sequence;
            this.action = action;
        }

        public long deadlineNanos() {
            return deadlineNanos;
        }

        public boolean pending() {
            return pending;
        }
    }

    private final PriorityQueue<Timer> timers = new PriorityQueue<>((a, b) -> {
        int c = Long.compare(a.deadlineNanos, b.deadlineNanos);
        return c != 0 ? c : Long.compare(a.sequence, b.sequence);
    });
    private long nowNanos;
    private long armed;
    /** Cancelled timers still in the queue: dropped when they come up, or all at once when they are the most. */
    private int cancelled;

    public long nowNanos() {
        return nowNanos;
    }

    /** mod_timer: arms a new timer that runs {@code action} at {@code deadlineNanos}. */
    public Timer addTimer(long deadlineNanos, Runnable action) {
        Timer t = new Timer(deadlineNanos, armed++, action);
        timers.add(t);
        return t;
    }

    /**
     * del_timer: the timer will not fire. Returns whether it was still
     * pending. O(1) amortized: the timer stays queued, marked, until it
     * comes up or cancelled timers are more than half the queue.
     */
    public boolean cancel(Timer timer) {
        if (!timer.pending) {
            return false;
        }
        timer.pending = false;
        if (++cancelled > timers.size() / 2) {
            timers.removeIf(t -> !t.pending);
            cancelled = 0;
        }
        return true;
    }

    /** The next pending timer, dropping cancelled ones at the head; null when none. */
    private Timer head() {
        Timer t;
        while ((t = timers.peek()) != null && !t.pending) {
            timers.poll();
            cancelled--;
        }
        return t;
    }

    /** The deadline of the next pending timer, or {@link #NEVER}. */
    public long nextDeadlineNanos() {
        Timer t = head();
        return t == null ? NEVER : t.deadlineNanos;
    }

    /**
     * Moves time forward to {@code targetNanos}, firing every timer due by
     * then in order (time stands at each timer's deadline while it runs).
     */
    public void advanceTo(long targetNanos) {
        if (targetNanos < nowNanos) {
            throw new IllegalStateException("time cannot go back: " + targetNanos + " < " + nowNanos);
        }
        Timer t;
        while ((t = head()) != null && t.deadlineNanos <= targetNanos) {
            timers.poll();
            t.pending = false;
            nowNanos = Math.max(nowNanos, t.deadlineNanos);
            t.action.run();
        }
        nowNanos = targetNanos;
    }
}
