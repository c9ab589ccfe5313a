package dev.gemulator.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.ClientThread;
import dev.gemulator.client.DmaBufFd;
import dev.gemulator.client.DrmException;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Errno;
import dev.gemulator.client.Fd;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.Race;
import dev.gemulator.client.RaceTransport;
import dev.gemulator.client.VirtualClock;
import dev.gemulator.kernel.vgem.VgemFence;
import dev.gemulator.sched.Strategy;
import java.util.concurrent.atomic.AtomicReference;
import dev.gemulator.junit.examples.ExportVsGemClose;
import dev.gemulator.kernel.Profile;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.transport.SeededServer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The seeded server with the Java client in this JVM: the same seed is the same run, whatever the timing. */
class SeededServerTest {
    private SeededServer server;

    @BeforeEach
    void start() throws Exception {
        server = SeededServer.start("127.0.0.1", 0, null, 1 << 20, 64, System.err);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private SeededRun next(long seed, String profile) {
        return server.next(new SeededRun.Config(Profile.byName(profile), seed, Strategy.Name.POS, 3, 10_000, List.of("A"), 0,
                true, "SeededServerTest", null, 10_000, 1024));
    }

    private SeededRun.Result run(long seed, String profile, long jitterMicros) throws Exception {
        SeededRun run = next(seed, profile);
        try (Gemulator g = new Gemulator(new RaceTransport("127.0.0.1", server.port(), null, false))) {
            ExportVsGemClose.race(g.process("A"), 10, jitterMicros);
        }
        return run.finished().get(60, TimeUnit.SECONDS);
    }

    @Test
    void theSameSeedGivesTheSameTraceWhateverTheTiming() throws Exception {
        SeededRun.Result a = run(7, "6.x", 0);
        SeededRun.Result b = run(7, "6.x", 300);
        System.out.println(SeededRun.describe(a));
        assertTrue(a.calls() > 40, SeededRun.describe(a));
        assertEquals(a.traceHash(), b.traceHash());
        SeededRun.Result c = run(8, "6.x", 0);
        assertNotEquals(a.traceHash(), c.traceHash());
        assertEquals(List.of(), a.reports());
    }

    @Test
    void aThreadNotAnnouncedByItsParentIsRefusedWithAReason() throws Exception {
        SeededRun run = next(1, "6.x");
        AtomicReference<RuntimeException> error = new AtomicReference<>();
        try (Gemulator g = Gemulator.connect("127.0.0.1", server.port(), null)) { // the free-running transport
            ClientProcess a = g.process("A");
            a.open("card0");
            Thread other = new Thread(() -> {
                try {
                    a.open("card0"); // announced by itself on its first call, not by its parent
                } catch (RuntimeException e) {
                    error.set(e);
                }
            });
            other.start();
            other.join();
        }
        assertTrue(error.get() != null && error.get().getMessage().contains("announced by its parent before it runs"),
                String.valueOf(error.get()));
        SeededRun.Result r = run.finished().get(60, TimeUnit.SECONDS);
        assertEquals(SeededRun.KILLED, r.exitStatuses().get("A"), "refused, its connection closed: its process exits");
    }

    @Test
    void aJavaThreadThatIsNoThreadOfTheProcessIsToldToStartItWithClientThread() throws Exception {
        SeededRun run = next(1, "6.x");
        AtomicReference<RuntimeException> error = new AtomicReference<>();
        try (Gemulator g = new Gemulator(new RaceTransport("127.0.0.1", server.port(), null, false))) {
            ClientProcess a = g.process("A");
            DrmFd fd = a.open("card0");
            Thread other = new Thread(() -> {
                try {
                    fd.createDumb(4, 4, 32);
                } catch (RuntimeException e) {
                    error.set(e);
                }
            });
            other.start();
            other.join();
            ClientThread t = ClientThread.start(a, () -> fd.createDumb(4, 4, 32));
            t.join();
            assertEquals("A.t1", t.name());
        }
        assertTrue(error.get() instanceof IllegalStateException && error.get().getMessage().contains("ClientThread.start"),
                String.valueOf(error.get()));
        assertEquals(0, run.finished().get(60, TimeUnit.SECONDS).exitStatuses().get("A"));
    }

    @Test
    void aFenceExpiresAfterTenSecondsOfVirtualTimeAndAPollNothingCanEndIsInterrupted() throws Exception {
        SeededRun run = next(2, "6.x");
        long waited;
        Errno endless;
        try (Gemulator g = new Gemulator(new RaceTransport("127.0.0.1", server.port(), null, false))) {
            ClientProcess a = g.process("A");
            VirtualClock clock = VirtualClock.of(a);
            DrmFd fd = a.open("card0");
            DrmFd.Dumb bo = fd.createDumb(4, 4, 32);
            long t0 = clock.nanoTime();
            fd.fenceAttach(bo.handle(), true);
            DmaBufFd d = fd.primeHandleToFd(bo.handle(), DrmFd.RDWR);
            int events = d.poll(Fd.POLLOUT, -1); // until the unsignalled write fence expires
            waited = clock.nanoTime() - t0;
            assertEquals(Fd.POLLOUT, events & Fd.POLLOUT);
            endless = assertThrows(DrmException.class, () -> Race.drmFd(a, -1).poll(Fd.POLLIN, -1)).errno();
        }
        assertTrue(waited >= VgemFence.TIMEOUT_NANOS && waited < VgemFence.TIMEOUT_NANOS + 1_000_000,
                "the poll took the fence's ten seconds of virtual time: " + waited);
        assertEquals(Errno.EINTR, endless, "a poll nothing can end is interrupted, not a hang");
        assertEquals(List.of(), run.finished().get(60, TimeUnit.SECONDS).reports());
    }

    @Test
    void persistentClientsRunEverySeedAsAFreshRunOfItWould() throws Exception {
        List<String> fresh = new java.util.ArrayList<>();
        for (long seed = 3; seed <= 5; seed++) {
            fresh.add(run(seed, "6.x", 0).traceHash());
        }
        List<String> persistent = new java.util.ArrayList<>();
        SeededRun run = next(3, "6.x");
        AtomicReference<Integer> failed = new AtomicReference<>();
        Thread client = new Thread(() -> failed.set(Race.iterate("127.0.0.1", server.port(), null, "A",
                a -> ExportVsGemClose.race(a, 10, 100))));
        client.start();
        for (long seed = 3; seed <= 5; seed++) {
            persistent.add(run.finished().get(60, TimeUnit.SECONDS).traceHash());
            if (seed < 5) {
                run = next(seed + 1, "6.x");
            }
        }
        server.close(); // no more seeds: the client's iterate returns
        client.join();
        assertEquals(0, failed.get());
        assertEquals(fresh, persistent);
    }
}
