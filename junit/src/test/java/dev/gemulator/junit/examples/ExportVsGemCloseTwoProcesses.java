package dev.gemulator.junit.examples;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DmaBufFd;
import dev.gemulator.client.DrmException;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Errno;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.Race;
import dev.gemulator.client.VirtualClock;
import java.time.Duration;

/**
 * IGT's export-vs-gem_close race between two programs: process A opens the
 * device and passes its drm fd to process B, so that both use one drm file
 * (one handle table, one PRIME cache); each loops create (handle 1 when
 * free), export handle 1, close handle 1, close the dma-buf fd. Run one
 * copy as A and one as B ({@code gemulator race -- PROGRAM --- PROGRAM}:
 * GEMULATOR_PROCESS says which). B accepts fds from A and waits for the fd
 * in virtual time; A waits, in virtual time too, until B has accepted.
 */
public final class ExportVsGemCloseTwoProcesses {
    private ExportVsGemCloseTwoProcesses() {
    }

    /** One run of the race as {@code me} ("A" or "B"): {@code rounds} loops, real pauses of up to {@code maxSleepMicros}. */
    public static void race(ClientProcess me, int rounds, long maxSleepMicros) {
        DrmFd fd;
        VirtualClock clock = VirtualClock.of(me);
        if (me.name().equals("A")) {
            fd = me.open("card0");
            while (true) { // B has not accepted fds from A yet: wait a millisecond of virtual time
                try {
                    me.sendFd(fd, "B");
                    break;
                } catch (DrmException e) {
                    if (e.errno() != Errno.ENOTCONN && e.errno() != Errno.ESRCH) {
                        throw e;
                    }
                    clock.sleep(1);
                }
            }
        } else {
            me.acceptFdsFrom("A");
            while (true) { // A's fd is not there yet: wait a millisecond of virtual time
                try {
                    fd = (DrmFd) me.receiveFd(Duration.ZERO);
                    break;
                } catch (DrmException e) {
                    if (e.errno() != Errno.EAGAIN) {
                        throw e;
                    }
                    clock.sleep(1);
                }
            }
        }
        java.util.Random jitter = new java.util.Random(); // real, unseeded timing noise: it must not matter
        for (int i = 0; i < rounds; i++) {
            try {
                fd.createDumb(4, 4, 32);
                pause(jitter, maxSleepMicros);
                DmaBufFd d = fd.primeHandleToFd(1, DrmFd.CLOEXEC);
                pause(jitter, maxSleepMicros);
                fd.gemClose(1);
                d.close();
            } catch (DrmException e) {
                // the other process closed or replaced handle 1 first: part of the race
            }
        }
        fd.close();
    }

    static void pause(java.util.Random jitter, long maxMicros) {
        if (maxMicros <= 0) {
            return;
        }
        long us = jitter.nextLong(maxMicros + 1);
        try {
            Thread.sleep(us / 1000, (int) (us % 1000) * 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code [--iterate] [--rounds N] [--max-sleep-us U]}, as GEMULATOR_PROCESS (A or B). */
    public static void main(String[] args) {
        boolean iterate = false;
        int rounds = 10;
        long sleep = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--iterate" -> iterate = true;
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--max-sleep-us" -> sleep = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        int r = rounds;
        long s = sleep;
        if (iterate) {
            System.exit(Race.iterate(me -> race(me, r, s)) == 0 ? 0 : 1);
        }
        try (Gemulator g = Race.connect()) {
            race(g.process(Race.processName()), r, s);
        }
    }
}
