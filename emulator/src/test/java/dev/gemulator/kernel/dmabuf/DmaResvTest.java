package dev.gemulator.kernel.dmabuf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Kernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The reservation's counts of pending fences and its free slots (kept up as
 * fences signal) answer exactly what the kernel's walk over every slot
 * answers, and reuse the same slot: checked against that walk over random
 * sequences of adds and signals.
 */
class DmaResvTest {
    /** The kernel's way: a list of slots, walked every time. */
    private static final class Walk {
        final List<DmaFence> fences = new ArrayList<>();
        final List<DmaResv.Usage> usages = new ArrayList<>();

        void add(DmaFence f, DmaResv.Usage u) {
            for (int i = 0; i < fences.size(); i++) {
                if (fences.get(i).isSignaled()) {
                    fences.set(i, f);
                    usages.set(i, u);
                    return;
                }
            }
            fences.add(f);
            usages.add(u);
        }

        boolean testSignaled(DmaResv.Usage u) {
            for (int i = 0; i < fences.size(); i++) {
                if (usages.get(i).compareTo(u) <= 0 && !fences.get(i).isSignaled()) {
                    return false;
                }
            }
            return true;
        }

        List<DmaFence> unsignaled(DmaResv.Usage u) {
            List<DmaFence> out = new ArrayList<>();
            for (int i = 0; i < fences.size(); i++) {
                if (usages.get(i).compareTo(u) <= 0 && !fences.get(i).isSignaled()) {
                    out.add(fences.get(i));
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
            DmaResv resv = new DmaResv();
            Walk walk = new Walk();
            List<DmaFence> live = new ArrayList<>();
            for (int step = 0; step < 400; step++) {
                int what = r.nextInt(10);
                if (what < 5) {
                    DmaFence f = r.nextInt(6) == 0 && !live.isEmpty() ? live.get(r.nextInt(live.size()))
                            : r.nextInt(8) == 0 ? DmaFence.stub(k) : new DmaFence(k, "test");
                    DmaResv.Usage u = DmaResv.Usage.values()[r.nextInt(4)];
                    resv.addFence(f, u, "test");
                    walk.add(f, u);
                    live.add(f);
                } else if (!live.isEmpty()) {
                    live.get(r.nextInt(live.size())).signal("test");
                }
                for (DmaResv.Usage u : DmaResv.Usage.values()) {
                    assertEquals(walk.testSignaled(u), resv.testSignaled(u), "seed " + seed + " step " + step + " " + u);
                    assertEquals(walk.unsignaled(u), resv.unsignaledFences(u), "seed " + seed + " step " + step + " " + u);
                }
                assertEquals(walk.fences.size(), resv.slotCount(), "the same slots reused, seed " + seed);
            }
        }
    }

    @Test
    void aReservationTakesNoMoreSlotsThanItsLimitButReusesSignalledOnes() {
        Kernel k = new Machine().kernel();
        DmaResv resv = new DmaResv();
        List<DmaFence> fences = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            assertTrue(resv.reserveFences(1, 3));
            DmaFence f = new DmaFence(k, "test");
            resv.addFence(f, DmaResv.Usage.READ, "test");
            fences.add(f);
        }
        assertEquals(false, resv.reserveFences(1, 3), "three slots, none free");
        fences.get(1).signal("test");
        assertTrue(resv.reserveFences(1, 3), "a signalled fence's slot is free");
        assertEquals(false, resv.reserveFences(2, 3), "but only one");
    }
}
