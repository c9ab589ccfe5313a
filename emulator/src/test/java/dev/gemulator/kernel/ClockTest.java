package dev.gemulator.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Timers fire in deadline order, ties in arming order; a cancelled one never fires and costs O(1) to cancel. */
class ClockTest {

    @Test
    void cancelledTimersNeverFireAndTheRestFireInOrder() {
        Clock c = new Clock();
        List<Integer> fired = new ArrayList<>();
        List<Clock.Timer> timers = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            int id = i;
            timers.add(c.addTimer(1_000 + (i % 7) * 10, () -> fired.add(id)));
        }
        for (int i = 0; i < timers.size(); i++) {
            if (i % 3 != 0) {
                assertTrue(c.cancel(timers.get(i)));
            }
        }
        assertFalse(c.cancel(timers.get(1)), "cancelled once");
        assertEquals(1_000, c.nextDeadlineNanos());
        c.advanceTo(2_000);
        assertEquals(33_334, fired.size());
        for (int i = 1; i < fired.size(); i++) {
            int a = fired.get(i - 1);
            int b = fired.get(i);
            assertTrue(a % 7 < b % 7 || (a % 7 == b % 7 && a < b), "deadline order, then arming order: " + a + " " + b);
        }
        assertTrue(fired.stream().allMatch(i -> i % 3 == 0), "no cancelled timer fired");
        assertEquals(Clock.NEVER, c.nextDeadlineNanos());
    }
}
