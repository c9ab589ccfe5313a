package dev.gemulator.kernel;

/**
 * A kernel lock of the model. Taking and dropping it are steps, so the
 * scheduler can interleave other tasks at exactly those points. The model
 * records the owner to let the checkers see misuse; a contended lock puts the
 * taker to sleep on the lock's wait queue.
 */
public abstract sealed class Lock permits Mutex, SpinLock {
    protected final Kernel kernel;
    private final String name;
    private final WaitQueue waiters;
    private Task owner;

    protected Lock(Kernel kernel, String name) {
        this.kernel = kernel;
        this.name = name;
        this.waiters = new WaitQueue(kernel, name, this);
    }

    public final String name() {
        return name;
    }

    /** The task holding it, or null. */
    public final Task owner() {
        return owner;
    }

    /** Takes the lock (mutex_lock or spin_lock). */
    public abstract void lock(String function);

    /** Releases it. */
    public abstract void unlock(String function);

    public final boolean isLocked() {
        return owner != null;
    }

    /** Whether the current task holds it (lockdep_is_held). */
    public final boolean heldByCurrent() {
        return owner != null && owner == kernel.current();
    }

    protected final void acquire(String function, StepKind kind) {
        kernel.point(function, kind, this);
        Task me = kernel.current();
        while (owner != null) {
            kernel.scheduler().sleep(waiters, Clock.NEVER);
        }
        owner = me;
        if (me != null) {
            me.lockTaken(this);
            kernel.observer().lockAcquired(me, this);
        }
    }

    protected final void release(String function, StepKind kind) {
        kernel.point(function, kind, this);
        Task me = kernel.current();
        if (owner == null) {
            kernel.observer().lockMisuse(function, this, "unlock of " + name + ", which is not locked");
            return;
        }
        if (owner != me) {
            kernel.observer().lockMisuse(function, this,
                    "unlock of " + name + ", which " + owner + " holds, by " + me);
        }
        owner.lockReleased(this);
        owner = null;
        waiters.wakeUpAll();
    }

    @Override
    public final String toString() {
        return name;
    }
}
