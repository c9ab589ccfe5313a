package dev.gemulator.bench;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.Race;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The client program of RaceBench's throughput figure: one process that
 * opens the device, waits for the start file (free-running: so that the
 * four programs start together; a seeded run starts when all have joined),
 * then creates and closes buffers for {@code CALLS} system calls, and prints
 * {@code churn START_NS END_NS CALLS} (System.nanoTime, comparable between
 * processes of one machine).
 */
public final class RaceChurn {
    private RaceChurn() {
    }

    public static void main(String[] args) throws Exception {
        int calls = Integer.parseInt(args[0]);
        Path start = args.length > 1 ? Path.of(args[1]) : null;
        try (Gemulator g = Race.connect()) {
            ClientProcess me = g.process(Race.processName());
            DrmFd fd = me.open("card0");
            while (start != null && !Files.exists(start)) {
                Thread.sleep(1);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < calls / 2; i++) {
                fd.gemClose(fd.createDumb(4, 4, 32).handle());
            }
            long t1 = System.nanoTime();
            System.out.println("churn " + t0 + " " + t1 + " " + (calls / 2 * 2));
        }
    }
}
