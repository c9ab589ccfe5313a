package dev.gemulator.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The client JVMs of {@code load --fork}: the parent waits for every one
 * of them as long as it takes (their clean-up after a long run closes
 * thousands of handles one call at a time), saying every
 * {@code progressMillis} how many are done, and then hands over what each
 * wrote, with the ones that failed named instead of throwing their
 * results away.
 */
final class ForkedClients {
    /** What the clients left: the result lines of each that finished well, and why each other did not. */
    record Outcome(List<List<String>> parts, List<String> failures) {
    }

    private ForkedClients() {
    }

    /**
     * Waits for every client ({@code outs.get(i)} is where client i writes
     * its result) and reads their results.
     */
    static Outcome await(List<Process> clients, List<Path> outs, PrintStream progress, long progressMillis)
            throws InterruptedException {
        long t0 = System.nanoTime();
        long nextSay = progressMillis;
        while (true) {
            int done = 0;
            for (Process c : clients) {
                if (!c.isAlive()) {
                    done++;
                }
            }
            if (done == clients.size()) {
                break;
            }
            long waited = (System.nanoTime() - t0) / 1_000_000;
            if (waited >= nextSay) {
                List<String> running = new ArrayList<>();
                for (int i = 0; i < clients.size(); i++) {
                    if (clients.get(i).isAlive()) {
                        running.add(i + " (pid " + clients.get(i).pid() + ")");
                    }
                }
                progress.printf(Locale.ROOT, "gemulator load: %d of %d client JVMs done after %.0f s; waiting for %s%n",
                        done, clients.size(), waited / 1000.0, String.join(", ", running));
                progress.flush();
                nextSay += progressMillis;
            }
            clients.stream().filter(Process::isAlive).findFirst().ifPresent(c -> {
                try {
                    c.waitFor(Math.min(200, progressMillis), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
        }
        List<List<String>> parts = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++) {
            Process c = clients.get(i);
            String who = "client JVM " + i + " (pid " + c.pid() + ")";
            if (c.exitValue() != 0) {
                failures.add(who + " failed with exit " + c.exitValue());
                continue;
            }
            try {
                parts.add(Files.readAllLines(outs.get(i)));
            } catch (IOException e) {
                failures.add(who + " left no result: " + e.getMessage());
            }
        }
        return new Outcome(parts, failures);
    }
}
