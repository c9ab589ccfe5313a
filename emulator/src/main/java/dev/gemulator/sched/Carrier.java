package dev.gemulator.sched;

import java.lang.reflect.Constructor;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Runs the virtual threads of one interleaved run on the thread that started
 * the run. Only one of them runs at a time anyway, so a baton handoff then
 * never crosses OS threads, and runs started from different threads (the
 * jobs of explore) proceed in parallel on their own cores.
 *
 * <p>This needs the JDK's virtual thread builder with a scheduler, which is
 * not public: it is reached by reflection and needs
 * {@code --add-opens java.base/java.lang=ALL-UNNAMED} (the launcher and the
 * build pass it). Without it, or when the caller is itself a virtual thread,
 * runs use the default scheduler: the same results, only slower.
 */
final class Carrier implements Executor {
    private static final Constructor<?> BUILDER = find();
    private static final Runnable STOP = () -> { };

    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();

    private static Constructor<?> find() {
        try {
            Constructor<?> c = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder")
                    .getDeclaredConstructor(Executor.class);
            c.setAccessible(true);
            return c;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** A carrier for a run started on the current thread, or null when runs must use the default scheduler. */
    static Carrier forCurrentThread() {
        return BUILDER == null || Thread.currentThread().isVirtual() ? null : new Carrier();
    }

    /** A builder of virtual threads that run on this carrier. */
    Thread.Builder.OfVirtual builder() {
        try {
            return (Thread.Builder.OfVirtual) BUILDER.newInstance(this);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the virtual thread builder failed", e);
        }
    }

    @Override
    public void execute(Runnable task) {
        queue.add(task);
    }

    /** Runs what the virtual threads schedule, on the calling thread, until {@link #stop}. */
    void drain() {
        while (true) {
            Runnable r = queue.poll();
            if (r == null) {
                try {
                    r = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while running an interleaving", e);
                }
            }
            if (r == STOP) {
                return;
            }
            r.run();
        }
    }

    void stop() {
        queue.add(STOP);
    }
}
