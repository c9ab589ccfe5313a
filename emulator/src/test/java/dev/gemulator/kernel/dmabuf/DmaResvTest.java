package dev.gemulator.kernel.dmabuf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Kernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The reservation's counts of pending fences and its ordered free slots
 * (kept up as fences signal) answer exactly what the kernel's walk over
 * every slot answers: checked against that walk (the reservation as it was
 * written before, kept here) over random sequences of reserves, adds and
 * signals, fence for fence, reference for reference.
 */
class DmaResvTest {
    /** dma-resv.c walked as the kernel walks it: every query looks at every slot. */
    private static final class KernelWalk {
        private record Slot(DmaFence fence, DmaResv.Usage usage) {
        }

        private List<Slot> slots = new ArrayList<>();
        private int maxFences;

        void reserveFences(int num) {
            int max;
            boolean hadList = maxFences > 0;
            if (hadList) {
                if (slots.size() + num <= maxFences) {
                    return;
                }
                max = Math.max(slots.size() + num, maxFences * 2);
            } else {
                max = Math.max(4, num <= 1 ? 1 : Integer.highestOneBit(num - 1) << 1);
            }
            max = DmaResv.listCapacity(max);
            List<Slot> kept = new ArrayList<>();
            List<DmaFence> signalled = new ArrayList<>();
            for (Slot s : slots) {
                if (s.fence.isSignaled()) {
                    signalled.add(0, s.fence);
                } else {
                    kept.add(s);
                }
            }
            slots = kept;
            maxFences = max;
            if (hadList) {
                signalled.forEach(f -> f.fencePut("test"));
            }
        }

        void addFence(DmaFence fence, DmaResv.Usage usage) {
            fence.fenceGet("test");
            for (int i = 0; i < slots.size(); i++) {
                if (slots.get(i).fence.isSignaled()) {
                    DmaFence old = slots.get(i).fence;
                    slots.set(i, new Slot(fence, usage));
                    old.fencePut("test");
                    return;
                }
            }
            slots.add(new Slot(fence, usage));
        }

        boolean testSignaled(DmaResv.Usage u) {
            return unsignaled(u).isEmpty();
        }

        List<DmaFence> unsignaled(DmaResv.Usage u) {
            List<DmaFence> out = new ArrayList<>();
            for (Slot s : slots) {
                if (s.usage.compareTo(u) <= 0 && !s.fence.isSignaled()) {
                    out.add(s.fence);
                }
            }
            return out;
        }
    }

    @Test
    void theCountsAgreeWithAWalkOverEverySlotWhateverSignalsWhen() {
        Kernel k = new Machine().kernel();
        for (long seed = 0; seed < 40; seed++) {
            Random r = new Random(seed);
            DmaResv resv = new DmaResv(k);
            KernelWalk walk = new KernelWalk();
            List<DmaFence[]> fences = new ArrayList<>(); // [0] for the reservation, [1] for the walk
            for (int step = 0; step < 400; step++) {
                int what = r.nextInt(10);
                if (what < 5) {
                    DmaFence[] pair;
                    if (r.nextInt(6) == 0 && !fences.isEmpty()) {
                        pair = fences.get(r.nextInt(fences.size())); // a fence added twice
                    } else if (r.nextInt(8) == 0) {
                        pair = new DmaFence[] {DmaFence.stub(k), DmaFence.stub(k)};
                    } else {
                        pair = new DmaFence[] {new DmaFence(k, "test"), new DmaFence(k, "test")};
                    }
                    DmaResv.Usage u = DmaResv.Usage.values()[r.nextInt(4)];
                    int num = 1 + r.nextInt(2);
                    resv.reserveFences(num, "test");
                    walk.reserveFences(num);
                    resv.addFence(pair[0], u, "test");
                    walk.addFence(pair[1], u);
                    fences.add(pair);
                } else if (!fences.isEmpty()) {
                    DmaFence[] pair = fences.get(r.nextInt(fences.size()));
                    pair[0].signal("test");
                    pair[1].signal("test");
                }
                for (DmaResv.Usage u : DmaResv.Usage.values()) {
                    assertEquals(walk.testSignaled(u), resv.testSignaled(u), "seed " + seed + " step " + step + " " + u);
                    assertEquals(ids(walk.unsignaled(u), fences, 1), ids(resv.unsignaledFences(u), fences, 0),
                            "seed " + seed + " step " + step + " " + u);
                }
                assertEquals(walk.slots.size(), resv.slotCount(), "the same slots, seed " + seed + " step " + step);
                assertEquals(walk.unsignaled(DmaResv.Usage.BOOKKEEP).size(), resv.pendingFences());
                for (DmaFence[] pair : fences) {
                    assertEquals(pair[1].refcount(), pair[0].refcount(), "the same references taken and put");
                }
            }
        }
    }

    /** Which pair each fence of {@code list} belongs to. */
    private static List<Integer> ids(List<DmaFence> list, List<DmaFence[]> pairs, int side) {
        List<Integer> out = new ArrayList<>();
        for (DmaFence f : list) {
            for (int i = 0; i < pairs.size(); i++) {
                if (pairs.get(i)[side] == f) {
                    out.add(i);
                    break;
                }
            }
        }
        return out;
    }
}
