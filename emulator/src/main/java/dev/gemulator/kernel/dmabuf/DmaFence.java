package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.KObject;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.StepKind;
import java.util.ArrayList;
import java.util.List;

/**
 * struct dma_fence: a point in time that some work will signal. Holders
 * (a reservation object's slot, a sync_file, a fence array, vgem's per-file
 * fence table) own one reference each.
 *
 * <p>Signalling runs the callbacks added to the fence (fence arrays count
 * down) and wakes every task sleeping on fences, which re-check their
 * condition.
 */
public class DmaFence extends KObject {
    private final Kernel kernel;
    private final String driver;
    private boolean signaled;
    private long timestampNanos;
    private List<Runnable> callbacks;

    protected DmaFence(Kernel kernel, String driver) {
        super(kernel.nextId(Kernel.IdKind.FENCE));
        this.kernel = kernel;
        this.driver = driver;
        kernel.observer().created(this);
    }

    /** dma_fence_get_stub: a fence that is signalled from the start. */
    public static DmaFence stub(Kernel kernel) {
        DmaFence f = new DmaFence(kernel, "stub");
        f.signaled = true;
        return f;
    }

    @Override
    protected Kernel kernel() {
        return kernel;
    }

    @Override
    public String kind() {
        return "fence";
    }

    /** The driver that created it ("vgem", "stub", "array"). */
    public String driver() {
        return driver;
    }

    /** fence->timestamp: when it signalled (virtual time), 0 before. */
    public long timestampNanos() {
        return timestampNanos;
    }

    /** dma_fence_is_signaled. */
    public boolean isSignaled() {
        return signaled;
    }

    /**
     * dma_fence_signal: returns false (the kernel's -EINVAL) when it was
     * signalled already.
     */
    public boolean signal(String function) {
        kernel.point(function, StepKind.WRITE, this);
        use(function, "signal");
        if (signaled) {
            return false;
        }
        signaled = true;
        timestampNanos = kernel.clock().nowNanos();
        if (callbacks != null) {
            List<Runnable> run = callbacks;
            callbacks = null;
            for (Runnable r : run) {
                r.run();
            }
        }
        kernel.fenceWait().wakeUpAll();
        return true;
    }

    /**
     * dma_fence_add_callback: runs {@code callback} when the fence signals.
     * Returns false (-ENOENT) if it is signalled already; nothing is added.
     */
    public boolean addCallback(Runnable callback) {
        if (signaled) {
            return false;
        }
        if (callbacks == null) {
            callbacks = new ArrayList<>(1);
        }
        callbacks.add(callback);
        return true;
    }

    /** dma_fence_put: frees the fence with its last reference. */
    public void fencePut(String function) {
        if (put(function)) {
            release(function);
            markFreed(function);
        }
    }

    /** What the fence's driver frees with it (a vgem fence stops its timer). */
    protected void release(String function) {
    }

    /** The fences this one stands for (an array's members; itself otherwise). */
    public List<DmaFence> unwrap() {
        return List.of(this);
    }
}
