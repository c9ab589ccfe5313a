package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Mutex;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * struct dma_resv (dma-resv.c, Linux 6.1): the fences that guard one buffer,
 * each with a usage. The object and every dma-buf exported from it share one
 * reservation object.
 *
 * <p>Lifetime: a slot of the fence list owns a reference on its fence. The
 * list has a capacity (max_fences) that writers reserve under the lock
 * before adding: a list without room is replaced by a larger one that keeps
 * only the fences still pending, in their order, and the signalled ones are
 * put. Adding a fence reuses the first slot whose fence has signalled, else
 * appends. Readers that walk the list under the lock (poll's callbacks) see
 * slot order, so where a fence lands decides which one they pick.
 *
 * <p>Locks: the reservation lock (a ww_mutex) is held by writers and by
 * dma-buf poll; test and snapshot reads are unlocked (RCU).
 *
 * <p>The kernel finds the first signalled slot and tests for conflicts by
 * walking every slot; the model answers the same in O(log n) however many
 * fences the object holds: it counts the unsignalled fences per usage and
 * keeps the slots whose fence has signalled in order, both kept up by a
 * watcher on each fence ({@link DmaFence#watch}) that runs the instant it
 * signals, so they always agree with the walk.
 */
public final class DmaResv {
    /** enum dma_resv_usage, in the kernel's order: a query for one usage sees every usage up to it. */
    public enum Usage { KERNEL, WRITE, READ, BOOKKEEP }

    /** A slot of the fence list; its index moves when the list is replaced. */
    private static final class Slot {
        final DmaFence fence;
        final Usage usage;
        int index;

        Slot(DmaFence fence, Usage usage, int index) {
            this.fence = fence;
            this.usage = usage;
            this.index = index;
        }
    }

    private final Mutex lock;
    private List<Slot> slots = new ArrayList<>(2);
    /** Unsignalled fences in the slots, by usage. */
    private final int[] pending = new int[Usage.values().length];
    /** The indexes of the slots whose fence has signalled, lowest first. */
    private final TreeSet<Integer> signalledSlots = new TreeSet<>();
    private boolean finished;
    /** max_fences of the list; 0 while the object has no list yet. */
    private int maxFences;

    /** dma_resv_init: no fence list until the first reservation. */
    public DmaResv(Kernel kernel) {
        this.lock = new Mutex(kernel, "dma_resv->lock");
    }

    /** The reservation lock (dma_resv_lock / dma_resv_unlock). */
    public Mutex lock() {
        return lock;
    }

    /**
     * dma_resv_usage_rw: what a reader or writer must wait for. A write waits
     * for every fence (READ usage and below); a read only for writers.
     */
    public static Usage usageRw(boolean write) {
        return write ? Usage.READ : Usage.WRITE;
    }

    /**
     * dma_resv_reserve_fences: makes room for {@code num} more fences (the
     * lock is held). The first list asks for max(4, num rounded up to a power
     * of two) entries; a list without room is replaced by one that asks for
     * max(count + num, twice the capacity), keeps the pending fences in
     * order, and then puts the signalled ones, the last one found first.
     * Every list holds as many entries as its kmalloc bucket has room for
     * (dma_resv_list_alloc), so the first list holds 5, the next 13, 29, ...
     */
    public void reserveFences(int num, String function) {
        int max;
        boolean hadList = maxFences > 0;
        if (hadList) {
            if (slots.size() + num <= maxFences) {
                return;
            }
            max = Math.max(slots.size() + num, maxFences * 2);
        } else {
            max = Math.max(4, roundUpPowerOfTwo(num));
        }
        max = listCapacity(max);
        List<Slot> kept = new ArrayList<>(Math.min(max, slots.size() + num));
        List<DmaFence> signalled = new ArrayList<>();
        for (Slot s : slots) {
            if (s.fence.isSignaled()) {
                signalled.add(0, s.fence);
            } else {
                s.index = kept.size();
                kept.add(s);
            }
        }
        slots = kept;
        signalledSlots.clear();
        maxFences = max;
        if (!hadList) {
            return;
        }
        for (DmaFence f : signalled) {
            f.fencePut(function);
        }
    }

    /** The header of struct dma_resv_list (an rcu_head, num_fences, max_fences) and one table entry, in bytes. */
    private static final int LIST_HEADER_BYTES = 24;
    private static final int ENTRY_BYTES = 8;

    /**
     * dma_resv_list_alloc: the entries a list asked for {@code max} really
     * holds, once its size is rounded up to a kmalloc bucket (SLUB on x86-64:
     * 8 to 8192 bytes in the kmalloc-N caches, whole pages in powers of two
     * beyond).
     */
    static int listCapacity(int max) {
        long bytes = LIST_HEADER_BYTES + (long) ENTRY_BYTES * max;
        return (int) ((kmallocSizeRoundup(bytes) - LIST_HEADER_BYTES) / ENTRY_BYTES);
    }

    /** kmalloc_size_roundup. */
    static long kmallocSizeRoundup(long size) {
        long[] buckets = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
        for (long b : buckets) {
            if (size <= b) {
                return b;
            }
        }
        long pages = 4096;
        while (pages < size) {
            pages <<= 1;
        }
        return pages;
    }

    private static int roundUpPowerOfTwo(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    /**
     * dma_resv_add_fence: takes a reference and puts the fence in the first
     * slot whose fence has signalled (putting that one) or after the last.
     * The caller holds the lock and has reserved room.
     */
    public void addFence(DmaFence fence, Usage usage, String function) {
        fence.fenceGet(function);
        Integer free = signalledSlots.pollFirst();
        if (free != null) {
            Slot old = slots.get(free);
            Slot slot = new Slot(fence, usage, free);
            slots.set(free, slot);
            watch(slot);
            old.fence.fencePut(function);
            return;
        }
        if (slots.size() >= maxFences) {
            throw new IllegalStateException("dma_resv_add_fence without a reservation (BUG_ON)");
        }
        Slot slot = new Slot(fence, usage, slots.size());
        slots.add(slot);
        watch(slot);
    }

    /** Counts the slot's fence as pending until it signals, when the slot becomes one to reuse. */
    private void watch(Slot slot) {
        pending[slot.usage.ordinal()]++;
        if (!slot.fence.watch(() -> signalled(slot))) {
            signalled(slot);
        }
    }

    private void signalled(Slot slot) {
        if (finished || slot.index >= slots.size() || slots.get(slot.index) != slot) {
            return; // the list was finished, or replaced without it
        }
        pending[slot.usage.ordinal()]--;
        signalledSlots.add(slot.index);
    }

    /** How many fences of the reservation have not signalled. */
    public int pendingFences() {
        int n = 0;
        for (int p : pending) {
            n += p;
        }
        return n;
    }

    /** How many slots the fence list has (signalled fences not yet replaced included). */
    public int slotCount() {
        return slots.size();
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

    /** dma_resv_get_fences (unlocked walk): the unsignalled fences of {@code usage} or below, in slot order. */
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
        signalledSlots.clear();
    }
}
