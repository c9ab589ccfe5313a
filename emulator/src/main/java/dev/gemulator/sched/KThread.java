package dev.gemulator.sched;

import dev.gemulator.kernel.Clock;
import dev.gemulator.kernel.SpinLock;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.WaitQueue;
import java.util.concurrent.Semaphore;

/**
 * A user thread of a concurrent run, executed by a Java virtual thread that
 * runs only while it holds the baton. It is always in one of three states:
 * runnable (parked at a preemption point, or not started), sleeping on a wait
 * queue (with an optional deadline), or done.
 */
public final class KThread {
    enum State { RUNNABLE, SLEEPING, DONE }

    private final int index;
    private final String name;
    private final Task task;
    private final Runnable body;
    private final Semaphore baton = new Semaphore(0);
    State state = State.RUNNABLE;
    WaitQueue sleepingOn;
    long deadlineNanos = Clock.NEVER;
    boolean timedOut;
    /** The step this thread will run next (announced at its last preemption point). */
    String nextFunction = "start";
    StepKind nextKind = StepKind.SYSCALL_ENTER;
    Object nextSubject;
    /** Scheduling priority for the strategies that use one. */
    double priority;
    /** The decision of its next point was taken ahead, in user space (InterleavingScheduler.pointAhead). */
    boolean decidedAhead;
    /** A fatal signal is pending: its interruptible sleeps end with SleepInterrupted. */
    boolean signalPending;
    /** Its current sleep was ended by a signal or as an endless sleep (not by a wake-up or its deadline). */
    boolean interrupted;

    KThread(int index, String name, Task task, Runnable body) {
        this.index = index;
        this.name = name;
        this.task = task;
        this.body = body;
    }

    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    public Task task() {
        return task;
    }

    Runnable body() {
        return body;
    }

    /** Whether its task holds a spinlock, which keeps preemption off. */
    boolean preemptionDisabled() {
        if (task.preemptDisabled()) {
            return true;
        }
        for (var l : task.held()) {
            if (l instanceof SpinLock) {
                return true;
            }
        }
        return false;
    }

    void pass() {
        baton.release();
    }

    void await() {
        baton.acquireUninterruptibly();
    }

    @Override
    public String toString() {
        return name;
    }
}
