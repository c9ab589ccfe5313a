package dev.gemulator.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.explore.Explorer;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.sched.Strategy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Traces: written, read back, replayed to the same bytes; different schedules differ. */
@Tag("slow")
class TraceTest {

    private static String text() throws Exception {
        return Files.readString(Path.of(System.getProperty("gemulator.repo", ".."), "scenarios/export_vs_gem_close.gem"));
    }

    @Test
    void aTraceReadsBackAndItsReplayIsRecordForRecordTheSame() throws Exception {
        String text = text();
        Script s = Parser.parse("export_vs_gem_close.gem", text);
        Runner.RunOptions o = new Runner.RunOptions(11, Strategy.Name.POS, 3, 1000);
        Traces.Recorded rec = Traces.run(s, Traces.header("export_vs_gem_close.gem", text, Profile.V3_11, o), Profile.V3_11, o);
        assertEquals(3, rec.exitStatus(), "seed 11 hits the 3.11 use-after-free");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TraceRecorder.write(rec.records(), bytes);
        List<TraceRecord> read = TraceRecorder.read(new ByteArrayInputStream(bytes.toByteArray()));
        assertEquals(rec.records(), read);
        assertTrue(read.stream().anyMatch(r -> r.hasReport() && r.getReport().getKind().equals("use-after-free")));
        assertTrue(read.stream().filter(TraceRecord::hasStep).count() > 500);

        Traces.Recorded again = Traces.run(s, read.get(0).getHeader(), Profile.V3_11, Traces.replayOptions(read));
        assertEquals(-1, Traces.firstDivergence(read, again.records()));
        assertEquals(rec.hash(), again.hash());
    }

    @Test
    void anotherSeedGivesAnotherTraceAndTheDivergenceIsNamed() throws Exception {
        String text = text();
        Script s = Parser.parse("e.gem", text);
        Runner.RunOptions a = new Runner.RunOptions(1, Strategy.Name.RANDOM, 3, 1000);
        Runner.RunOptions b = new Runner.RunOptions(2, Strategy.Name.RANDOM, 3, 1000);
        var ra = Traces.run(s, Traces.header("e.gem", text, Profile.MODERN, a), Profile.MODERN, a);
        var rb = Traces.run(s, Traces.header("e.gem", text, Profile.MODERN, a), Profile.MODERN, b);
        assertNotEquals(ra.hash(), rb.hash());
        int at = Traces.firstDivergence(ra.records(), rb.records());
        assertTrue(at > 0, "the header and the first steps agree, then they part: " + at);
    }

    @Test
    void everyProfileRunsEverySchedulesTwiceToTheSameTrace() throws Exception {
        Script s = Parser.parse("e.gem", text());
        for (Profile p : Profile.ALL) {
            for (String strategy : List.of("random", "pct", "pos")) {
                Explorer.explore(s, new Explorer.Config(p, new Runner.RunOptions(1, Strategy.Name.parse(strategy), 3, 800), 1, 20, 2, true));
            }
        }
    }

    @Test
    void aStreamedTraceHashesLikeItsRecordsAndACutOffOneReadsBackToItsLastFlush() throws Exception {
        var machine = new dev.gemulator.Machine();
        var bytes = new ByteArrayOutputStream();
        var header = dev.gemulator.proto.v1.TraceHeader.newBuilder().setScenarioPath("streamed").build();
        TraceRecorder streamed = new TraceRecorder(machine.kernel(), header, bytes);
        machine.observe(streamed);
        var task = machine.sys().spawn("A").mainTask();
        machine.sys().open(task, "card0");
        streamed.line("1 A open ok 3");
        streamed.flush();
        int flushedBytes = bytes.size();
        List<TraceRecord> flushed = TraceRecorder.read(new ByteArrayInputStream(bytes.toByteArray()));
        machine.sys().open(task, "card0");
        streamed.line("2 A open ok 4");
        streamed.end(0);
        List<TraceRecord> records = TraceRecorder.read(new ByteArrayInputStream(bytes.toByteArray()));
        assertEquals(TraceRecorder.hash(records), streamed.streamedHash());
        assertTrue(records.size() > flushed.size() + 2 && records.getLast().hasEnd());

        byte[] whole = bytes.toByteArray();
        for (int cutAt = flushedBytes; cutAt < whole.length; cutAt += 7) {
            TraceRecorder.ReadBack back = TraceRecorder.readCutOff(new ByteArrayInputStream(java.util.Arrays.copyOf(whole, cutAt)));
            assertEquals(cutAt > flushedBytes, back.torn(), "cut at byte " + cutAt);
            assertEquals(null, back.corruption(), "a cut is no corruption, at byte " + cutAt);
            assertEquals(flushed, back.records(), "every record up to the last flush, cut at byte " + cutAt);
            assertTrue(!back.ended());
        }
        TraceRecorder.ReadBack all = TraceRecorder.readCutOff(new ByteArrayInputStream(whole));
        assertTrue(!all.torn() && all.ended() && all.corruption() == null);
    }

    @Test
    void aByteChangedAnywhereInATraceIsCorruptionNeverACut() throws Exception {
        String text = text();
        Script s = Parser.parse("export_vs_gem_close.gem", text);
        Runner.RunOptions o = new Runner.RunOptions(31, Strategy.Name.POS, 3, 1000);
        var rec = Traces.run(s, Traces.header("export_vs_gem_close.gem", text, Profile.V3_11, o), Profile.V3_11, o);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TraceRecorder.write(rec.records(), bytes);
        byte[] whole = bytes.toByteArray();
        assertTrue(whole.length > 3 * TraceFile.BLOCK_BYTES, "several blocks: " + whole.length);
        java.util.Random random = new java.util.Random(16);
        for (int i = 0; i < 300; i++) {
            byte[] damaged = whole.clone();
            int at = TraceFile.MAGIC.length + random.nextInt(whole.length - TraceFile.MAGIC.length);
            damaged[at] ^= (byte) (1 << random.nextInt(8));
            TraceRecorder.ReadBack back = TraceRecorder.readCutOff(new ByteArrayInputStream(damaged));
            assertTrue(back.corruption() != null && !back.torn(), "a flipped bit at byte " + at + " is found");
            assertEquals(rec.records().subList(0, back.records().size()), back.records(), "what is kept is good");
            assertThrows(TraceFile.DamagedException.class, () -> TraceRecorder.read(new ByteArrayInputStream(damaged)));
        }
    }

    @Test
    void aTraceInTheFirstFormatWithoutChecksumsStillReads() throws Exception {
        String text = text();
        Script s = Parser.parse("e.gem", text);
        Runner.RunOptions o = new Runner.RunOptions(3, Strategy.Name.RANDOM, 3, 1000);
        var rec = Traces.run(s, Traces.header("e.gem", text, Profile.MODERN, o), Profile.MODERN, o);
        ByteArrayOutputStream old = new ByteArrayOutputStream();
        for (TraceRecord r : rec.records()) {
            r.writeDelimitedTo(old);
        }
        assertEquals(rec.records(), TraceRecorder.read(new ByteArrayInputStream(old.toByteArray())));
        byte[] cut = java.util.Arrays.copyOf(old.toByteArray(), old.size() - 3);
        assertTrue(TraceRecorder.readCutOff(new ByteArrayInputStream(cut)).torn());
    }

    @Test
    void namesThatCouldBreakALineAreEscapedInTheTextTimeline() {
        String forged = "A.t1\n    12.000 us      9  B            PUT          forged\u001b[2J\u202e\\";
        var step = TraceRecord.newBuilder().setStep(dev.gemulator.proto.v1.TraceStep.newBuilder().setIndex(1)
                .setTask(forged).setKind("GET").setFunction("f").setSubject("gem#1")).build();
        var line = TraceRecord.newBuilder().setLine(dev.gemulator.proto.v1.TraceLine.newBuilder()
                .setText("1 " + forged + " open ok 3")).build();
        for (TraceRecord r : List.of(step, line)) {
            String shown = Traces.show(r);
            assertEquals(1, shown.lines().count(), shown);
            assertTrue(shown.contains("A.t1\\x0a") && shown.contains("\\x1b[2J") && shown.contains("\\u202e")
                    && shown.contains("\\\\"), shown);
        }
        assertEquals("A.t1 plain-name_0 \u00e9t\u00e9 \ud83d\ude00", Traces.escape("A.t1 plain-name_0 \u00e9t\u00e9 \ud83d\ude00"));
    }
}
