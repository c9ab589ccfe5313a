package dev.gemulator.gemscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * P22 (sequential part): a multi-process export/import/close churn generated
 * from a seed prints the same thing every time it runs — handles, names,
 * fds, errnos — and leaves nothing behind.
 */
class DeterminismTest {

    /** A scenario of {@code statements} random but valid-looking statements over three processes. */
    static String churn(long seed, int statements) {
        Random rnd = new Random(seed);
        String[] procs = {"A", "B", "C"};
        StringBuilder sb = new StringBuilder();
        for (String p : procs) {
            sb.append(p).append(": open card0\n");
        }
        for (int i = 0; i < statements; i++) {
            String p = procs[rnd.nextInt(3)];
            String q = procs[rnd.nextInt(3)];
            int h = 1 + rnd.nextInt(6);
            int fd = 3 + rnd.nextInt(8);
            String line = switch (rnd.nextInt(10)) {
                case 0, 1 -> "create_dumb 3 " + (1 + rnd.nextInt(64)) + " " + (1 + rnd.nextInt(64)) + " 32";
                case 2 -> "gem_close 3 " + h;
                case 3 -> "flink 3 " + h;
                case 4 -> "gem_open 3 " + (1 + rnd.nextInt(4));
                case 5 -> "handle_to_fd 3 " + h + " " + (rnd.nextBoolean() ? "RDWR" : "0");
                case 6 -> "fd_to_handle 3 " + fd;
                case 7 -> "close " + (4 + rnd.nextInt(7));
                case 8 -> "send_fd " + fd + " " + q;
                default -> "fence_attach 3 " + h + " " + (rnd.nextBoolean() ? "WRITE" : "0");
            };
            sb.append(p).append(": ").append(line).append(" !ok\n");
        }
        return sb.toString();
    }

    static String run(String text) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Machine m = new Machine();
        new Runner(m, new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(Parser.parse("churn.gem", text));
        assertTrue(m.checkers().reports().isEmpty(), m.checkers().reports().toString());
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theSameSeedPrintsTheSameRunAndLeavesNothingBehind() throws Exception {
        for (long seed = 1; seed <= 20; seed++) {
            System.out.println("seed " + seed);
            String script = churn(seed, 400);
            String first = run(script);
            assertEquals(first, run(script), "seed " + seed);
            assertTrue(first.contains(" ok "), "the churn does something: seed " + seed);
        }
    }
}
