package dev.gemulator.kernel;

/**
 * A wait queue head: tasks sleep on it until another step wakes it
 * (wait_event / wake_up_all). A mutex has one for its waiters; dma-fences
 * share one per kernel for everything that waits on fences.
 */
public final class WaitQueue {
    private final Kernel kernel;
    private final String name;
    private final Object owner;

    public WaitQueue(Kernel kernel, String name) {
        this(kernel, name, null);
    }

    /** A wait queue embedded in {@code owner} (a lock's waiters). */
    public WaitQueue(Kernel kernel, String name, Object owner) {
        this.kernel = kernel;
        this.name = name;
        this.owner = owner;
    }

    /** What the queue belongs to (the lock for a lock's waiters), or null. */
    public Object owner() {
        return owner;
    }

    /** wake_up_all. */
    public void wakeUpAll() {
        kernel.scheduler().wake(this);
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }
}
