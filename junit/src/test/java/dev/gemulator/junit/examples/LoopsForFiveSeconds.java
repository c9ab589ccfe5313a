package dev.gemulator.junit.examples;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.Race;
import dev.gemulator.client.VirtualClock;

/**
 * Creates and closes buffers "for five seconds" of the device's clock,
 * pausing ten virtual milliseconds after each, and prints how many it made:
 * under a seeded server the same number every run, however fast the
 * machine. A real pause between calls must not change it.
 */
public final class LoopsForFiveSeconds {
    private LoopsForFiveSeconds() {
    }

    public static void main(String[] args) throws InterruptedException {
        try (Gemulator g = Race.connect()) {
            ClientProcess me = g.process(Race.processName());
            VirtualClock clock = VirtualClock.of(me);
            DrmFd fd = me.open("card0");
            long end = clock.nanoTime() + 5_000_000_000L;
            int made = 0;
            java.util.Random jitter = new java.util.Random();
            while (clock.nanoTime() < end) {
                fd.gemClose(fd.createDumb(4, 4, 32).handle());
                made++;
                clock.sleep(10);
                if (jitter.nextInt(50) == 0) {
                    Thread.sleep(1); // real time: must not matter
                }
            }
            System.out.println("made " + made + " buffers in 5 s of virtual time");
        }
    }
}
