package dev.gemulator.kernel;

/**
 * Decides which kernel task runs. The kernel model calls it at every
 * preemption point and whenever a task must sleep; the model never switches
 * tasks by itself.
 *
 * <p>The sequential scheduler runs each system call straight through; the
 * seeded schedulers of the sched package turn the same calls into switches.
 */
public interface Scheduler {

    /**
     * A preemption point of the current task, just before the step it names.
     *
     * @param function the modelled kernel function (its C name)
     * @param kind what the step does
     * @param subject the lock, object or file the step touches, or null
     */
    void point(String function, StepKind kind, Object subject);

    /**
     * Puts the current task to sleep on {@code queue} until it is woken or
     * virtual time reaches {@code deadlineNanos} ({@link Clock#NEVER} for no
     * deadline). The caller re-checks its condition after every return.
     *
     * @return true when woken (or when the condition may have changed), false on time-out
     */
    boolean sleep(WaitQueue queue, long deadlineNanos);

    /** Makes the tasks sleeping on {@code queue} runnable again. */
    void wake(WaitQueue queue);
}
