package dev.gemulator.kernel.dmabuf;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * struct dma_resv: the fences that guard one buffer, each with a usage.
 * A slot owns a reference on its fence. The object and every dma-buf
 * exported from it share one reservation object.
 *
 * <p>Adding a fence and testing for conflicts take O(log n) time however
 * many fences the object holds: the reservation counts its unsignalled
 * fences per usage and keeps the slots whose fence has signalled (the ones
 * a new fence may take) in order, both kept up by a watcher on each fence
 * ({@link DmaFence#watch}), so they always agree with the walk over every
 * slot that the kernel does.
 */
public final class DmaResv {
    /** enum dma_resv_usage, in the kernel's order: a query for one usage sees every usage up to it. */
    public enum Usage { KERNEL, WRITE, READ, BOOKKEEP }

    private record Slot(DmaFence fence, Usage usage) {
    }

    private final List<Slot> slots = new ArrayList<>(2);
    /** Unsignalled fences in the slots, by usage. */
    private final int[] pending = new int[Usage.values().length];
    /** The slots whose fence has signalled, lowest first (created when first needed). */
    private TreeSet<Integer> signaled;
    private boolean finished;

    /**
     * dma_resv_usage_rw: what a reader or writer must wait for. A write waits
     * for every fence (READ usage and below); a read only for writers.
     */
    public static Usage usageRw(boolean write) {
        return write ? Usage.READ : Usage.WRITE;
    }

    /**
     * dma_resv_reserve_fences: makes room for {@code count} more fences, in
     * slots whose fence has signalled or new ones, as long as the object
     * holds at most {@code limitSlots} slots; false (the kernel's -ENOMEM,
     * its fence list cannot grow) otherwise.
     */
    public boolean reserveFences(int count, int limitSlots) {
        int free = signaled == null ? 0 : signaled.size();
        return count <= free || slots.size() + (count - free) <= limitSlots;
    }

    /**
     * dma_resv_add_fence: takes a reference. The first slot whose fence has
     * signalled is reused, as the kernel replaces it.
     */
    public void addFence(DmaFence fence, Usage usage, String function) {
        fence.get(function);
        Integer reuse = signaled == null ? null : signaled.pollFirst();
        int index;
        if (reuse != null) {
            index = reuse;
            Slot old = slots.set(index, new Slot(fence, usage));
            old.fence.fencePut(function);
        } else {
            index = slots.size();
            slots.add(new Slot(fence, usage));
        }
        watch(index, fence, usage);
    }

    /** Counts the fence as pending until it signals, when its slot becomes free to reuse. */
    private void watch(int index, DmaFence fence, Usage usage) {
        pending[usage.ordinal()]++;
        if (!fence.watch(() -> signalled(index, usage))) {
            signalled(index, usage);
        }
    }

    private void signalled(int index, Usage usage) {
        if (finished) {
            return;
        }
        pending[usage.ordinal()]--;
        if (signaled == null) {
            signaled = new TreeSet<>();
        }
        signaled.add(index);
    }

    /** dma_resv_test_signaled: every fence of {@code usage} or below has signalled. */
    public boolean testSignaled(Usage usage) {
        for (int u = 0; u <= usage.ordinal(); u++) {
            if (pending[u] != 0) {
                return false;
            }
        }
        return true;
    }

    /** How many slots the reservation holds (signalled fences whose slot was not reused yet included). */
    public int slotCount() {
        return slots.size();
    }

    /** dma_resv_get_fences (unlocked walk): the unsignalled fences of {@code usage} or below. */
    public List<DmaFence> unsignaledFences(Usage usage) {
        List<DmaFence> out = new ArrayList<>();
        if (testSignaled(usage)) {
            return out;
        }
        for (Slot s : slots) {
            if (s.usage.compareTo(usage) <= 0 && !s.fence.isSignaled()) {
                out.add(s.fence);
            }
        }
        return out;
    }

    /** dma_resv_fini: drops every slot's reference. */
    public void fini(String function) {
        finished = true;
        for (Slot s : slots) {
            s.fence.fencePut(function);
        }
        slots.clear();
        signaled = null;
    }
}
