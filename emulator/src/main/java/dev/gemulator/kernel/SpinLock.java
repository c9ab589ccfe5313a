package dev.gemulator.kernel;

/**
 * spinlock_t. The model never sleeps while holding one; the scheduler does
 * not switch away from a task that holds a spinlock (preemption is off).
 */
public final class SpinLock extends Lock {

    public SpinLock(Kernel kernel, String name) {
        super(kernel, name);
    }

    /** spin_lock. */
    @Override
    public void lock(String function) {
        acquire(function, StepKind.SPIN_LOCK);
    }

    /** spin_unlock. */
    @Override
    public void unlock(String function) {
        release(function, StepKind.SPIN_UNLOCK);
    }
}
