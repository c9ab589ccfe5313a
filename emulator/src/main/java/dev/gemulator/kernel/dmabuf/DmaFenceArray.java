package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.Kernel;
import java.util.List;

/**
 * struct dma_fence_array: one fence for several, signalled when all of them
 * are. It owns a reference on each member.
 */
public final class DmaFenceArray extends DmaFence {
    private final List<DmaFence> fences;
    private int pending;

    /** dma_fence_array_create with signal_on_any false; takes over the callers' references. */
    public DmaFenceArray(Kernel kernel, List<DmaFence> fences) {
        super(kernel, "array");
        this.fences = List.copyOf(fences);
        pending = fences.size();
        for (DmaFence f : this.fences) {
            if (!f.addCallback(this::memberSignaled)) {
                pending--;
            }
        }
        if (pending == 0) {
            signal("dma_fence_array_create");
        }
    }

    private void memberSignaled() {
        if (--pending == 0) {
            signal("dma_fence_array_cb_func");
        }
    }

    @Override
    protected void release(String function) {
        for (DmaFence f : fences) {
            f.fencePut(function);
        }
    }

    @Override
    public List<DmaFence> unwrap() {
        return fences;
    }
}
