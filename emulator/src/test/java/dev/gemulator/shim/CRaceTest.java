package dev.gemulator.shim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.check.FindingKey;
import dev.gemulator.kernel.Profile;
import dev.gemulator.race.RaceRunner;
import dev.gemulator.server.seeded.SeededReplay;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Seeded races of C programs through the shim (shim/tests/race_*.c), run by
 * the race runner as `gemulator race` runs them: the export-vs-gem_close
 * race as two threads of one program and as two forked processes sharing a
 * drm file and its flink names. The same seed gives the same trace whatever
 * the programs' real (random) pauses; other seeds interleave otherwise; the
 * 3.11 use-after-free is found within 200 seeds with POS and 6.x reports
 * nothing; clocks and sleeps are the run's virtual time. No assertion is
 * about real time.
 */
@Tag("slow")
class CRaceTest {
    private static final Path REPO = CBuild.REPO;
    private static final Path OUT = REPO.resolve("emulator/target/c-race");
    private static final FindingKey UAF = new FindingKey(FindingKey.Kind.USE_AFTER_FREE, "drm_gem_prime_handle_to_fd");
    private static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();

    @BeforeAll
    static void build() throws Exception {
        Path shim = CBuild.shim(OUT);
        CBuild.programs(OUT, List.of("race_threads", "race_fork", "race_time", "race_corners", "race_exec"), "-lpthread");
        System.setProperty("gemulator.shim", shim.toString());
    }

    private static RaceRunner runner(String program, String profile, long first, long last, int jobs, String... args) {
        List<String> cmd = new ArrayList<>(List.of(OUT.resolve(program).toString()));
        cmd.addAll(List.of(args));
        return new RaceRunner(new RaceRunner.Options(List.of(cmd), List.of(), Profile.byName(profile), Strategy.Name.POS, 3, 10_000,
                first, last, jobs, 120_000, 10_000, new PrintStream(LOG, true, StandardCharsets.UTF_8)));
    }

    /** The threads that made calls in a run, by the names the trace gives them. */
    private static Set<String> threads(RaceRunner.Outcome o) {
        Set<String> names = new TreeSet<>();
        o.trace().stream().filter(x -> x.hasRequest()).forEach(x -> names.add(x.getRequest().getThread()));
        return names;
    }

    /** Five runs of one seed (random real pauses in the programs) give one trace; seeds 6 and 7 others. */
    private static void sameSeedSameTrace(String program, Set<String> expectedThreads) {
        RaceRunner r = runner(program, "6.x", 1, 1, 1, "--max-sleep-us", "300");
        Set<String> hashes = new HashSet<>();
        int[] decisions = null;
        for (int i = 0; i < 5; i++) {
            RaceRunner.Outcome o = r.runOne(5, null);
            assertNull(o.problem(), o.problem() + "\n" + LOG.toString(StandardCharsets.UTF_8));
            assertEquals(List.of(), o.findingKeys(), "6.x: " + o.findingKeys() + " " + o.output());
            assertTrue(o.trace().size() > 300, "a real run: " + o.trace().size() + " records");
            assertEquals(expectedThreads, threads(o), "the threads and processes, named by the run");
            hashes.add(o.traceHash());
            int[] d = TraceRecorder.decisions(o.trace());
            if (decisions != null) {
                assertArrayEquals(decisions, d, "the same decisions");
            }
            decisions = d;
        }
        assertEquals(1, hashes.size(), "five runs of seed 5 with random real pauses, one trace: " + hashes);
        replaysWithoutTheProgram(r.runOne(5, null));
        for (long other : new long[] {6, 7}) {
            RaceRunner.Outcome o = r.runOne(other, null);
            assertNull(o.problem(), o.problem());
            assertFalse(java.util.Arrays.equals(decisions, TraceRecorder.decisions(o.trace())),
                    "seed " + other + " interleaves otherwise than seed 5");
            assertNotEquals(hashes.iterator().next(), o.traceHash());
        }
    }

    /**
     * The kernel side of a C program's run again, without the program: the
     * same trace; under another profile, or with one call of the trace
     * changed, the first record where it differs is named.
     */
    private static void replaysWithoutTheProgram(RaceRunner.Outcome o) {
        List<dev.gemulator.proto.v1.TraceRecord> trace = o.trace();
        try (var os = Files.newOutputStream(OUT.resolve("replayed-" + trace.size() + ".trace"))) {
            TraceRecorder.write(trace, os);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        var again = SeededReplay.rerun(trace);
        assertNull(again.problem(), again.problem());
        assertEquals(-1, Traces.firstDivergence(trace, again.records()), () -> "replay identical, but at "
                + Traces.firstDivergence(trace, again.records()) + ": " + show(trace, again.records()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(0, SeededReplay.replay(trace, ps, ps), out.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("replay identical: "), out.toString());
        out.reset();
        String other = trace.get(0).getHeader().getProfile().equals("6.x") ? "v3.11" : "6.x";
        assertEquals(1, SeededReplay.replay(trace, other, ps, ps), out.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("replay diverged at record "), out.toString());
        // the program's first create_dumb asks for another width: the run differs from that call on
        List<dev.gemulator.proto.v1.TraceRecord> edited = new ArrayList<>(trace);
        int at = -1;
        for (int i = 0; i < edited.size() && at < 0; i++) {
            var q = edited.get(i).getRequest();
            if (edited.get(i).hasRequest() && q.getOp().equals("create_dumb")) {
                at = i;
            }
        }
        assertTrue(at > 0, "the run makes a create_dumb");
        var q = edited.get(at).getRequest();
        try {
            var call = dev.gemulator.proto.v1.Syscall.parseFrom(q.getCall()).toBuilder();
            var io = call.getIoctlBuilder();
            for (int m = 0; m < io.getMemoryCount(); m++) {
                if (io.getMemory(m).getAddress() == io.getArg()) {
                    byte[] b = io.getMemory(m).getData().toByteArray();
                    b[4] = (byte) (b[4] + 1); // width
                    io.setMemory(m, io.getMemory(m).toBuilder().setData(com.google.protobuf.ByteString.copyFrom(b)));
                }
            }
            edited.set(at, edited.get(at).toBuilder().setRequest(q.toBuilder().setCall(call.build().toByteString()))
                    .build());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
        out.reset();
        assertEquals(1, SeededReplay.replay(edited, ps, ps), out.toString(StandardCharsets.UTF_8));
        String said = out.toString(StandardCharsets.UTF_8);
        assertTrue(said.startsWith("replay diverged at record "), said);
        int named = Integer.parseInt(said.substring("replay diverged at record ".length(), said.indexOf(':')));
        assertTrue(named >= at, "diverges at or after the edited call " + at + ": " + said);
    }

    private static String show(List<dev.gemulator.proto.v1.TraceRecord> a, List<dev.gemulator.proto.v1.TraceRecord> b) {
        int at = Traces.firstDivergence(a, b);
        return "expected " + (at < a.size() ? Traces.show(a.get(at)).strip() : "(end)") + "; actual "
                + (at < b.size() ? Traces.show(b.get(at)).strip() : "(end)");
    }

    @Test
    void twoThreadsGiveTheSameTraceForASeedOverFiveRunsAndOtherInterleavingsForOtherSeeds() {
        sameSeedSameTrace("race_threads", Set.of("A", "A.t1", "A.t2"));
    }

    @Test
    void twoForkedProcessesGiveTheSameTraceForASeedOverFiveRunsAndOtherInterleavingsForOtherSeeds() {
        sameSeedSameTrace("race_fork", Set.of("A", "A_1"));
    }

    /** The 3.11 race is found within 200 seeds, its first seed gives the same run again, 6.x reports nothing. */
    private static void foundAndNothingUnder6x(String program) {
        RaceRunner.Result old = runner(program, "v3.11", 1, 200, 2).runUntil(UAF);
        var found = old.findings().stream().filter(f -> f.key().equals(UAF)).findFirst();
        assertTrue(found.isPresent(), "3.11: " + old.findings());
        long seed = found.get().firstSeed();
        RaceRunner one = runner(program, "v3.11", seed, seed, 1);
        RaceRunner.Outcome first = one.runOne(seed, null);
        RaceRunner.Outcome again = one.runOne(seed, null);
        assertTrue(first.findingKeys().contains(UAF), "seed " + seed + " again: " + first.findingKeys());
        assertEquals(first.traceHash(), again.traceHash(), "seed " + seed + " gives the same run every time");
        replaysWithoutTheProgram(first);
        RaceRunner.Result modern = runner(program, "6.x", 1, 200, 2).run();
        assertEquals(List.of(), modern.findings(), "6.x reports nothing");
        assertEquals(200, modern.seeds());
    }

    @Test
    void theV311RaceOfTwoThreadsIsFoundWithin200SeedsWithPosAndNothingUnder6x() {
        foundAndNothingUnder6x("race_threads");
    }

    @Test
    void theV311RaceOfTwoForkedProcessesIsFoundWithin200SeedsWithPosAndNothingUnder6x() {
        foundAndNothingUnder6x("race_fork");
    }

    @Test
    void clocksAndSleepsFollowTheRunsVirtualClock() {
        RaceRunner r = runner("race_time", "6.x", 1, 1, 1);
        Set<String> outputs = new HashSet<>();
        for (long seed : new long[] {1, 1, 2}) {
            RaceRunner.Outcome o = r.runOne(seed, null);
            assertNull(o.problem(), o.problem());
            assertEquals(0, o.statuses().get("A"), o.output().toString());
            outputs.add(o.output().get("A").strip());
            var again = SeededReplay.rerun(o.trace());
            assertNull(again.problem(), again.problem());
            assertEquals(-1, Traces.firstDivergence(o.trace(), again.records()), () -> show(o.trace(), again.records()));
        }
        assertEquals(1, outputs.size(), "every run reads the same clocks: " + outputs);
        // 100 ms sleeps in a loop for five seconds: 50 turns exactly; then 2.5 + 10 + 1 + 0.3 + 0.2 s of sleeps;
        // CLOCK_REALTIME from the fixed epoch (2013-08-01) on
        assertTrue(outputs.iterator().next().matches(
                "race_time: 50 turns in five seconds; then 14\\.0\\d\\d s of sleeps; realtime 13753152\\d\\d"),
                outputs.toString());
    }

    /** A pthread_create that fails after the shim announced it: the run forgets the thread and goes on. */
    @Test
    void aThreadWhoseCreationFailedAfterItsAnnouncementEndsAtOnce() {
        RaceRunner r = runner("race_threads", "6.x", 1, 1, 1, "--fail-first", "--rounds", "3");
        for (long seed : new long[] {1, 2}) {
            RaceRunner.Outcome o = r.runOne(seed, null);
            assertNull(o.problem(), o.problem() + "\n" + LOG.toString(StandardCharsets.UTF_8));
            assertEquals(0, o.statuses().get("A"), o.output().toString());
            assertEquals(Set.of("A", "A.t1", "A.t2", "A.t3"), threads(o));
            List<String> ofT1 = o.trace().stream().filter(x -> x.hasRequest()
                    && x.getRequest().getThread().equals("A.t1")).map(x -> x.getRequest().getOp()).toList();
            assertEquals(List.of("thread_exit"), ofT1, "the thread that never ran only ends");
            var again = SeededReplay.rerun(o.trace());
            assertNull(again.problem(), again.problem());
            assertEquals(-1, Traces.firstDivergence(o.trace(), again.records()), () -> show(o.trace(), again.records()));
        }
    }

    /** Twelve threads: those beyond the eighth get descriptor ranges of their own, so a seed still repeats. */
    @Test
    void threadsBeyondTheEighthGiveTheSameTraceForASeed() {
        RaceRunner r = runner("race_threads", "6.x", 1, 1, 1, "--threads", "12", "--rounds", "3", "--max-sleep-us",
                "300");
        Set<String> hashes = new HashSet<>();
        RaceRunner.Outcome o = null;
        for (int i = 0; i < 3; i++) {
            o = r.runOne(3, null);
            assertNull(o.problem(), o.problem() + "\n" + LOG.toString(StandardCharsets.UTF_8));
            assertEquals(0, o.statuses().get("A"), o.output().toString());
            assertFalse(o.output().get("A").contains("may differ"), o.output().get("A"));
            hashes.add(o.traceHash());
        }
        assertTrue(threads(o).contains("A.t12"), threads(o).toString());
        assertEquals(1, hashes.size(), "three runs of seed 3 with random real pauses, one trace: " + hashes);
        RaceRunner.Outcome last = o;
        var again = SeededReplay.rerun(last.trace());
        assertNull(again.problem(), again.problem());
        assertEquals(-1, Traces.firstDivergence(last.trace(), again.records()), () -> show(last.trace(), again.records()));
    }

    /** What a run cannot make repeat is said, once per kind and process, in one line each. */
    @Test
    void theCornersTheRunCannotRepeatAreNamedOnceEach() {
        RaceRunner.Outcome o = runner("race_corners", "6.x", 1, 1, 1).runOne(1, null);
        assertNull(o.problem(), o.problem());
        String out = o.output().get("A");
        assertEquals(0, o.statuses().get("A"), out);
        for (String said : List.of("waits on emulated and real descriptors at once",
                "on real descriptors only waits in real time", "open real files")) {
            assertEquals(1, out.split(java.util.regex.Pattern.quote(said), -1).length - 1, said + " once in:\n" + out);
        }
        assertTrue(out.contains("race_corners: done"), out);
    }

    /**
     * exec in a seeded run: the process (and its forked child) goes on as
     * itself in the new program, with the emulated files it kept; a
     * posix_spawn child is a forked child that execs (one of a missing
     * program exits 127); the same seed gives the same trace, which replays
     * without the program.
     */
    @Test
    void aProcessThatExecsKeepsItsIdentityAndItsFiles() {
        RaceRunner r = runner("race_exec", "6.x", 1, 1, 1);
        Set<String> hashes = new HashSet<>();
        RaceRunner.Outcome o = null;
        for (int i = 0; i < 2; i++) {
            o = r.runOne(4, null);
            assertNull(o.problem(), o.problem() + "\n" + o.output() + LOG.toString(StandardCharsets.UTF_8));
            String out = o.output().get("A");
            assertEquals(0, o.statuses().get("A"), out);
            assertTrue(out.contains("race_exec: before: handle 1") && out.contains("the child after its exec: handle 2")
                    && out.contains("the child after its exec: handle 3")
                    && out.contains("posix_spawn of a missing program: exit status 127")
                    && out.contains("race_exec: after the exec: handle 4"), out);
            assertEquals(Set.of("A", "A_1", "A_2", "A_3"), threads(o), "a posix_spawn child is named like a forked one");
            assertEquals(List.of(new FindingKey(FindingKey.Kind.EXIT_STATUS, "A_3")), o.findingKeys());
            hashes.add(o.traceHash());
        }
        assertEquals(1, hashes.size(), "one trace for seed 4: " + hashes);
        RaceRunner.Outcome last = o;
        var again = SeededReplay.rerun(last.trace());
        assertNull(again.problem(), again.problem());
        assertEquals(-1, Traces.firstDivergence(last.trace(), again.records()), () -> show(last.trace(), again.records()));
    }
}
