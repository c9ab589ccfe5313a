package dev.gemulator.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The token check's rules, on a clock of the test's own. */
class HelloGuardTest {
    private static final String A = "127.0.0.1";

    private static String other() {
        return "uid 1000";
    }

    @Test
    void theTokenMatchesOnlyItselfWhateverItsLength() {
        HelloGuard g = new HelloGuard("sesame");
        assertTrue(g.matches("sesame"));
        assertFalse(g.matches("sesam"));
        assertFalse(g.matches("sesame "));
        assertFalse(g.matches(""));
        assertFalse(g.matches("x".repeat(10_000)));
        assertTrue(new HelloGuard(null).matches("anything"), "no token wanted");
    }

    @Test
    void eachFailureDoublesTheWaitOfItsSourceUpToTheMostAndQuietTimeHalvesIt() throws Exception {
        HelloGuard g = new HelloGuard("sesame");
        long now = 1_000_000;
        assertEquals(0, g.waitMillis(A, now), "never failed: no wait");
        long[] penalties = {100, 200, 400, 800, 1600, 2000, 2000};
        for (long p : penalties) {
            g.failed(A, now);
            long wait = g.waitMillis(A, now);
            assertEquals(p, wait, "after a failure the next turn is a penalty away");
            now += wait; // that Hello's turn came, and it failed again
        }
        assertEquals(0, g.waitMillis(other(), now), "other sources are not slowed");
        now += 4000 + HelloGuard.DECAY_MILLIS; // past the turns taken above, and quiet for a while
        assertEquals(0, g.waitMillis(A, now), "its turn has come");
        assertEquals(1000, g.waitMillis(A, now), "the penalty halved; the next Hello at once waits a turn");
    }

    @Test
    void helloesOfOneSourceArrivingTogetherTakeTurnsOnePenaltyApart() {
        HelloGuard g = new HelloGuard("sesame");
        long now = 5_000;
        g.failed(A, now);
        g.failed(A, now);
        // penalty 200 ms: turns 200, 400, 600 ms away
        long first = g.waitMillis(A, now);
        long second = g.waitMillis(A, now);
        long third = g.waitMillis(A, now);
        assertEquals(200, first);
        assertEquals(400, second);
        assertEquals(600, third, "a guesser opening many connections gets no more turns");
        assertEquals(0, new HelloGuard(null).waitMillis(A, now), "a server without a token never waits");
    }
}
