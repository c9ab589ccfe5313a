package dev.gemulator.junit.examples;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DrmException;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.Race;
import dev.gemulator.client.VirtualClock;

/**
 * Process A creates a buffer, names it (flink) and dies without closing
 * anything (the JVM halts, as if killed); process B opens the name, closes
 * its handle, and tries again every millisecond of virtual time. A's death
 * becomes its exit at the point where it would have made its next call, so
 * what B sees is the same in every run of a seed.
 */
public final class DiesMidway {
    private DiesMidway() {
    }

    public static void main(String[] args) {
        Gemulator g = Race.connect();
        ClientProcess me = g.process(Race.processName());
        if (me.name().equals("A")) {
            DrmFd fd = me.open("card0");
            int handle = fd.createDumb(4, 4, 32).handle();
            fd.flink(handle);
            System.out.println("A: named its buffer, halting");
            System.out.flush();
            Runtime.getRuntime().halt(9);
        }
        DrmFd fd = me.open("card0");
        VirtualClock clock = VirtualClock.of(me);
        int opened = 0;
        for (int i = 0; i < 20; i++) {
            try {
                fd.gemClose(fd.gemOpen(1).handle());
                opened++;
            } catch (DrmException e) {
                // not named yet, or gone with A
            }
            clock.sleep(1);
        }
        System.out.println("B: opened the name " + opened + " times");
        g.close();
    }
}
