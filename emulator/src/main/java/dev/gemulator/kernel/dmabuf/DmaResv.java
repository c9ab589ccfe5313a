package dev.gemulator.kernel.dmabuf;

import java.util.ArrayList;
import java.util.List;

/**
 * struct dma_resv: the fences that guard one buffer, each with a usage.
 * A slot owns a reference on its fence. The object and every dma-buf
 * exported from it share one reservation object.
 */
public final class DmaResv {
    /** enum dma_resv_usage, in the kernel's order: a query for one usage sees every usage up to it. */
    public enum Usage { KERNEL, WRITE, READ, BOOKKEEP }

    private record Slot(DmaFence fence, Usage usage) {
    }

    private final List<Slot> slots = new ArrayList<>(2);

    /**
     * dma_resv_usage_rw: what a reader or writer must wait for. A write waits
     * for every fence (READ usage and below); a read only for writers.
     */
    public static Usage usageRw(boolean write) {
        return write ? Usage.READ : Usage.WRITE;
    }

    /**
     * dma_resv_add_fence: takes a reference. A slot whose fence has signalled
     * is reused, as the kernel replaces it.
     */
    public void addFence(DmaFence fence, Usage usage, String function) {
        fence.get(function);
        for (int i = 0; i < slots.size(); i++) {
            Slot old = slots.get(i);
            if (old.fence.isSignaled()) {
                slots.set(i, new Slot(fence, usage));
                old.fence.fencePut(function);
                return;
            }
        }
        slots.add(new Slot(fence, usage));
    }

    /** dma_resv_test_signaled: every fence of {@code usage} or below has signalled. */
    public boolean testSignaled(Usage usage) {
        for (Slot s : slots) {
            if (s.usage.compareTo(usage) <= 0 && !s.fence.isSignaled()) {
                return false;
            }
        }
        return true;
    }

    /** dma_resv_get_fences (unlocked walk): the unsignalled fences of {@code usage} or below. */
    public List<DmaFence> unsignaledFences(Usage usage) {
        List<DmaFence> out = new ArrayList<>();
        for (Slot s : slots) {
            if (s.usage.compareTo(usage) <= 0 && !s.fence.isSignaled()) {
                out.add(s.fence);
            }
        }
        return out;
    }

    /** dma_resv_fini: drops every slot's reference. */
    public void fini(String function) {
        for (Slot s : slots) {
            s.fence.fencePut(function);
        }
        slots.clear();
    }
}
