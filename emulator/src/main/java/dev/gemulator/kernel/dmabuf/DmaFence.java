package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.KObject;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;
import java.util.ArrayList;
import java.util.List;

/**
 * struct dma_fence: a point in time that some work will signal. Holders
 * (a reservation object's slot, a sync_file, a fence array, vgem's per-file
 * fence table, a poll callback in flight) own one reference each.
 *
 * <p>Signalling runs the callbacks added to the fence and wakes every task
 * sleeping on fences, which re-check their condition. Adding the first
 * callback enables signalling (dma_fence_enable_sw_signaling), which a fence
 * type may need before it can ever signal: a fence array installs its
 * callbacks on its members only then.
 */
public class DmaFence extends KObject {
    private final Kernel kernel;
    private final String driver;
    private boolean signaled;
    private boolean signalingEnabled;
    private long timestampNanos;
    private List<Runnable> callbacks;
    private List<Runnable> watchers;

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

    /** dma_fence_is_signaled (DMA_FENCE_FLAG_SIGNALED_BIT). */
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
        Task t = kernel.current();
        if (t != null) {
            t.preemptDisable();
        }
        try {
            return signalLocked();
        } finally {
            if (t != null) {
                t.preemptEnable();
            }
        }
    }

    /** dma_fence_signal_locked: inside a step the caller has started. */
    private boolean signalLocked() {
        if (signaled) {
            return false;
        }
        signaled = true;
        if (watchers != null) { // bookkeeping that must agree with isSignaled() before anything else runs
            List<Runnable> run = watchers;
            watchers = null;
            run.forEach(Runnable::run);
        }
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
     * dma_fence_add_callback: runs {@code callback} when the fence signals,
     * enabling signalling first. Returns false (-ENOENT) if it is signalled
     * already, or turns out to be while signalling is enabled; nothing is
     * added then.
     */
    public boolean addCallback(Runnable callback) {
        if (signaled) {
            return false;
        }
        Task t = kernel.current();
        if (t != null) {
            t.preemptDisable();
        }
        try {
            if (!enableSignaling()) {
                return false;
            }
        } finally {
            if (t != null) {
                t.preemptEnable();
            }
        }
        if (callbacks == null) {
            callbacks = new ArrayList<>(1);
        }
        callbacks.add(callback);
        return true;
    }

    /**
     * Not a kernel function: the model's own bookkeeping (a reservation
     * counting its pending fences) told at the instant the fence signals,
     * before any callback runs, so that it never disagrees with
     * {@link #isSignaled()}. Returns false, adding nothing, when the fence
     * has signalled already.
     */
    public boolean watch(Runnable watcher) {
        if (signaled) {
            return false;
        }
        if (watchers == null) {
            watchers = new ArrayList<>(1);
        }
        watchers.add(watcher);
        return true;
    }

    /**
     * dma_fence_remove_callback: takes back a callback that has not run.
     * Returns whether it was still pending.
     */
    public boolean removeCallback(Runnable callback) {
        if (callbacks == null) {
            return false;
        }
        for (int i = 0; i < callbacks.size(); i++) {
            if (callbacks.get(i) == callback) {
                callbacks.remove(i);
                return true;
            }
        }
        return false;
    }

    /**
     * __dma_fence_enable_signaling: the first call runs the fence type's
     * enable_signaling, and a fence that reports it is done is signalled.
     * Returns false when the fence is signalled.
     */
    private boolean enableSignaling() {
        boolean wasSet = signalingEnabled;
        signalingEnabled = true;
        if (signaled) {
            return false;
        }
        if (!wasSet && !enableSignalingOp()) {
            signalLocked();
            return false;
        }
        return true;
    }

    /**
     * ops->enable_signaling: false when the fence is already done and must be
     * signalled. Plain fences need nothing.
     */
    protected boolean enableSignalingOp() {
        return true;
    }

    /** dma_fence_get. */
    public void fenceGet(String function) {
        get(function);
    }

    /** dma_fence_put: frees the fence with its last reference. */
    public void fencePut(String function) {
        if (put(function)) {
            release(function);
            markFreed(function);
        }
    }

    /** What the fence's driver frees with it (a vgem fence stops its timer, an array puts its members). */
    protected void release(String function) {
    }

    /**
     * dma_fence_unwrap_for_each: the fences this one stands for (an array's
     * members, signalled or not; itself otherwise).
     */
    public List<DmaFence> unwrap() {
        return List.of(this);
    }
}
