package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.Kernel;
import java.util.List;

/**
 * struct dma_fence_array (dma-fence-array.c): one fence for several,
 * signalled when all of them are (signal_on_any false).
 *
 * <p>Lifetime: the array owns a reference on each member, dropped when the
 * array is freed. Nothing is installed on the members until signalling is
 * enabled (the first callback added to the array, as sync_file's poll
 * adds); then every member that has not signalled gets a callback, and each
 * such callback owns a reference on the array, dropped when it has run. The
 * array is signalled from the callback of its last member and that
 * callback's reference is dropped after the signal (the irq work). So the
 * holder of the array (a sync_file) may go at any time: pending callbacks
 * keep the array alive until the members are done.
 *
 * <p>Until signalling is enabled the array does not notice its members
 * signalling: dma_fence_array_signaled looks only at the count of pending
 * members, which only the callbacks decrease.
 */
public final class DmaFenceArray extends DmaFence {
    private final List<DmaFence> fences;
    private int numPending;

    /** dma_fence_array_create: takes over the callers' references on {@code fences}. */
    public DmaFenceArray(Kernel kernel, List<DmaFence> fences) {
        super(kernel, "array");
        this.fences = List.copyOf(fences);
        this.numPending = this.fences.size();
    }

    /**
     * dma_fence_array_enable_signaling: a callback on every member, each
     * holding a reference on the array; a member already signalled gives its
     * reference back at once. Returns false when no member is pending.
     */
    @Override
    protected boolean enableSignalingOp() {
        String fn = "dma_fence_array_enable_signaling";
        for (DmaFence f : fences) {
            fenceGet(fn);
            if (!f.addCallback(this::cbFunc)) {
                fencePut(fn);
                if (--numPending == 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * dma_fence_array_cb_func: a member signalled. The last one signals the
     * array (irq_dma_fence_array_work) and then drops its reference; the
     * others drop theirs at once.
     */
    private void cbFunc() {
        if (--numPending == 0) {
            signal("irq_dma_fence_array_work");
            fencePut("irq_dma_fence_array_work");
        } else {
            fencePut("dma_fence_array_cb_func");
        }
    }

    /** dma_fence_array_release: puts every member. */
    @Override
    protected void release(String function) {
        for (DmaFence f : fences) {
            f.fencePut("dma_fence_array_release");
        }
    }

    @Override
    public List<DmaFence> unwrap() {
        return fences;
    }
}
