package dev.gemulator.kernel;

/** struct mutex: a sleeping lock, never recursive. */
public final class Mutex extends Lock {

    public Mutex(Kernel kernel, String name) {
        super(kernel, name);
    }

    /** mutex_lock: sleeps while another task holds it; a task that holds it already waits forever. */
    @Override
    public void lock(String function) {
        acquire(function, StepKind.LOCK);
    }

    /** mutex_unlock. */
    @Override
    public void unlock(String function) {
        release(function, StepKind.UNLOCK);
    }
}
