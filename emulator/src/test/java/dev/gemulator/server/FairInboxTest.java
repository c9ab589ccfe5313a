package dev.gemulator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The simulation's inbox serves the least charged connection first, in order within each. */
class FairInboxTest {

    @Test
    void aCallArrivingBehindAFloodRunsAfterAtMostOneItemOfEachFlooder() throws Exception {
        FairInbox<String> inbox = new FairInbox<>(100_000, Long.MAX_VALUE);
        List<FairInbox<String>.Queue> flooders = new ArrayList<>();
        for (int f = 0; f < 3; f++) {
            FairInbox<String>.Queue q = inbox.newQueue();
            flooders.add(q);
            for (int i = 0; i < 1000; i++) {
                assertTrue(inbox.offer(q, "flood" + f + "-" + i, 64));
            }
        }
        FairInbox<String>.Queue good = inbox.newQueue();
        // the flooders run for a while, each item costing 5 ms of simulation time
        for (int i = 0; i < 300; i++) {
            var t = inbox.take(0);
            inbox.done(t.queue(), 5_000_000);
        }
        assertTrue(inbox.offer(good, "call", 64));
        int ahead = 0;
        while (true) {
            var t = inbox.take(0);
            if (t.item().equals("call")) {
                break;
            }
            ahead++;
            inbox.done(t.queue(), 5_000_000);
        }
        assertTrue(ahead <= flooders.size(), "ran ahead of the call: " + ahead);
    }

    @Test
    void itemsOfOneQueueRunInOrderAndTheInboxRefusesBeyondItsCapacity() throws Exception {
        FairInbox<Integer> inbox = new FairInbox<>(3, 100);
        var a = inbox.newQueue();
        var b = inbox.newQueue();
        assertTrue(inbox.offer(a, 1, 10));
        assertTrue(inbox.offer(b, 10, 10));
        assertTrue(inbox.offer(a, 2, 10));
        assertFalse(inbox.offer(b, 11, 10), "three items at most");
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            var t = inbox.take(0);
            order.add(t.item());
            inbox.done(t.queue(), 1000);
        }
        assertEquals(List.of(1, 10, 2), order, "a's items in order, b's between them");
        assertNull(inbox.take(0), "nothing left");
        assertTrue(inbox.offer(a, 3, 500), "one item bigger than the byte capacity fits alone");
        assertFalse(inbox.offer(b, 12, 1), "but nothing beside it");
        inbox.put(b, 13);
        assertEquals(13, inbox.take(0).item(), "b has used less of the simulation than a, so it goes first");
    }
}
