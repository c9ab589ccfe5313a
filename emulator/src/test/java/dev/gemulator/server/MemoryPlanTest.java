package dev.gemulator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Main;
import dev.gemulator.transport.GemulatorServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The memory plan adds up what the limits let clients make the server hold
 * at worst and checks it against the heap before the server starts: too
 * much device memory for the heap refuses to start; "auto" takes what fits.
 */
class MemoryPlanTest {

    @Test
    void theDeviceMemoryIsCheckedAgainstTheHeapWithEveryOtherLimit() {
        long heap = 2L << 30;
        MemoryPlan plan = MemoryPlan.of(Limits.DEFAULT, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, heap);
        assertFalse(plan.fits(), "4 GiB of device memory does not fit a 2 GiB heap:\n" + plan.describe());
        long fits = plan.deviceMemoryThatFits();
        assertTrue(fits > (512L << 20) && fits < (2L << 30), "what fits beside the rest: " + fits + "\n" + plan.describe());
        MemoryPlan lowered = MemoryPlan.of(Limits.DEFAULT.withDeviceMemoryBytes(fits), GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
                heap);
        assertTrue(lowered.fits(), lowered.describe());
        assertTrue(lowered.worstCaseBytes() > heap - (16L << 20), "what fits fills the heap: " + lowered.describe());
        assertTrue(plan.describe().contains("--max-clients") && plan.describe().contains("--device-memory"),
                "the plan names the option of each term:\n" + plan.describe());
    }

    @Test
    void everyClientControlledQuantityIsATermOfThePlan() {
        Limits small = new Limits(8, 64, 1 << 20, 4, 16, 16).withThreads(4, 8).withFiles(32, 1024).withFences(4, 8, 16)
                .withMaps(4, 8);
        MemoryPlan plan = MemoryPlan.of(small, 4096, 1L << 40);
        long pages = (1 << 20) / 4096 * MemoryPlan.PAGE_BYTES_NUMERATOR;
        long expected = pages + 16 * MemoryPlan.OBJECT_BYTES + 32 * MemoryPlan.FILE_BYTES + 1024 * MemoryPlan.ID_SLOT_BYTES
                + 16 * MemoryPlan.FENCE_BYTES + 8 * MemoryPlan.THREAD_BYTES + 8 * MemoryPlan.MAP_BYTES
                + 8 * MemoryPlan.CONNECTION_BYTES + Limits.INBOX_BYTES + 2 * 4096 + MemoryPlan.RESERVE_BYTES;
        assertEquals(expected, plan.worstCaseBytes());
    }

    private static int serve(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "serve";
            System.arraycopy(args, 0, all, 1, args.length);
            return Main.execute(all);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    @Test
    void serveRefusesToStartWithLimitsTheHeapCannotHoldAndPrintsThePlan() {
        long heapGiB = Runtime.getRuntime().maxMemory() >> 30;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, serve(out, err, "--port", "0", "--device-memory", (heapGiB + 8) + "G"));
        String said = err.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("these limits let clients make the server hold more than its heap at worst"), said);
        assertTrue(said.contains("device memory (pages and their indexes)"), said);
        ByteArrayOutputStream plan = new ByteArrayOutputStream();
        assertEquals(0, serve(plan, err, "--memory-plan"), err.toString(StandardCharsets.UTF_8));
        assertTrue(plan.toString(StandardCharsets.UTF_8).contains("at worst"), plan.toString(StandardCharsets.UTF_8));
        assertEquals(2, serve(out, err, "--token", "sesame"), "a token on the command line is refused");
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("give it with --token-file FILE or in $GEMULATOR_TOKEN"));
    }
}
