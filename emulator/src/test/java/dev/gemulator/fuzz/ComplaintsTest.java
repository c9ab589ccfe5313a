package dev.gemulator.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ComplaintsTest {

    @Test
    void anUncaughtExceptionIsRecordedAndStillHandedToTheHandlerBeforeWhichCloseRestores() throws Exception {
        Thread.UncaughtExceptionHandler saved = Thread.getDefaultUncaughtExceptionHandler();
        List<String> earlier = new ArrayList<>();
        Thread.UncaughtExceptionHandler mine = (t, e) -> earlier.add(e.getMessage());
        Thread.setDefaultUncaughtExceptionHandler(mine);
        try {
            try (Complaints c = new Complaints()) {
                Thread t = new Thread(() -> {
                    throw new IllegalStateException("boom");
                });
                t.start();
                t.join();
                assertEquals(1, c.seen().size(), c.seen().toString());
                assertTrue(c.seen().get(0).contains("boom"));
                assertEquals(List.of("boom"), earlier, "the earlier handler still hears of it");
            }
            assertSame(mine, Thread.getDefaultUncaughtExceptionHandler(), "close puts the earlier handler back");
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(saved);
        }
    }

    @Test
    void closingOutOfOrderLeavesTheLaterOneInstalledAndRecordsNothingMore() throws Exception {
        Thread.UncaughtExceptionHandler saved = Thread.getDefaultUncaughtExceptionHandler();
        try {
            Complaints first = new Complaints();
            Complaints second = new Complaints();
            first.close();
            assertSame(second, Thread.getDefaultUncaughtExceptionHandler(), "the later one is still open");
            Thread t = new Thread(() -> {
                throw new IllegalStateException("late");
            });
            t.start();
            t.join();
            assertEquals(1, second.seen().size());
            assertEquals(List.of(), first.seen(), "a closed one records nothing");
            second.close();
            assertSame(first, Thread.getDefaultUncaughtExceptionHandler(), "the second restores what it found");
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(saved);
        }
    }
}
