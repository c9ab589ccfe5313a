package dev.gemulator.junit.examples;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.ClientThread;
import dev.gemulator.client.DmaBufFd;
import dev.gemulator.client.DrmException;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Race;

/**
 * IGT's export-vs-gem_close race as a Java program: two threads of one
 * process share a drm file; each loops create (handle 1 when free), export
 * handle 1, close handle 1, close the dma-buf fd. On Linux 3.11 this could
 * use a freed dma-buf; on 6.x every step is safe. Failures of single calls
 * (the other thread closed the handle first) are part of the race.
 *
 * <p>Run under a seeded server: {@code gemulator race -- java ... ExportVsGemClose}
 * (a launch per seed), or with {@code --iterate} as a persistent client.
 */
public final class ExportVsGemClose {
    private ExportVsGemClose() {
    }

    /** One round of the race in process {@code a}: two threads, {@code rounds} loops each. */
    public static void race(ClientProcess a, int rounds, long maxSleepMicros) {
        DrmFd fd = a.open("card0");
        Runnable loop = () -> {
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
                    // the other thread closed or replaced handle 1 first: part of the race
                }
            }
        };
        ClientThread t1 = ClientThread.start(a, loop);
        ClientThread t2 = ClientThread.start(a, loop);
        t1.join();
        t2.join();
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

    /** {@code [--iterate] [--rounds N] [--max-sleep-us U]}. */
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
            System.exit(Race.iterate(a -> race(a, r, s)) == 0 ? 0 : 1);
        }
        try (var g = Race.connect()) {
            race(g.process(Race.processName()), r, s);
        }
    }
}
