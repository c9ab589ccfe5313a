package dev.gemulator.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.explore.Shrinker;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.sched.Strategy;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The HTML timeline of a run, read back as XML: what it draws, where, and that it needs nothing from outside. */
@Tag("slow")
class TimelineTest {

    static List<TraceRecord> race() throws Exception {
        return run("scenarios/export_vs_gem_close.gem", Profile.V3_11, new Runner.RunOptions(11, Strategy.Name.POS, 3, 1000));
    }

    /** The records of one run of a scenario of the repository. */
    static List<TraceRecord> run(String rel, Profile profile, Runner.RunOptions o) throws Exception {
        String text = Files.readString(Path.of(System.getProperty("gemulator.repo", "..")).resolve(rel));
        return Traces.run(Parser.parse(rel, text), Traces.header(rel, text, profile, o), profile, o).records();
    }

    /** No two threads hold a lock of one name at once: each name is one lock. */
    static void assertNoTwoThreadsHoldOneLockAtOnce(List<TimelineModel.Held> holds) {
        for (TimelineModel.Held a : holds) {
            for (TimelineModel.Held b : holds) {
                if (a != b && a.lock().equals(b.lock()) && !a.task().equals(b.task())) {
                    assertTrue(a.to() < b.from() || b.to() < a.from(), "both hold " + a.lock() + ": " + a + " and " + b);
                }
            }
        }
    }

    static Document parse(String html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
    }

    static List<Element> groups(Document d, String cls) {
        NodeList all = d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g");
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (e.getAttribute("class").equals(cls)) {
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void theWholeRaceIsDrawnStepByStepWithEveryPreemptionAndReport() throws Exception {
        List<TraceRecord> records = race();
        Timeline.Window all = Timeline.defaultWindow(records);
        long steps = records.stream().filter(TraceRecord::hasStep).count();
        assertEquals(new Timeline.Window(1, steps), all, "a short trace is drawn whole");
        Document d = parse(Timeline.html(records, all));

        assertEquals(steps, groups(d, "step").size(), "a box per step");
        long calls = records.stream().filter(r -> r.hasStep() && r.getStep().getKind().equals("SYSCALL_ENTER")).count();
        assertEquals(calls, groups(d, "syscall").size(), "a box per system call");
        assertEquals(Shrinker.preemptions(records), groups(d, "preemption").size(), "every preemption, as the shrinker counts them");
        assertEquals(records.stream().filter(TraceRecord::hasReport).count(), groups(d, "report").size());
        List<String> lanes = groups(d, "lane").stream().map(e -> e.getAttribute("data-task")).toList();
        assertEquals(List.of("<timer>", "A", "A.t1", "A.t2"), lanes);
        long objects = records.stream().filter(r -> r.hasStep() && r.getStep().hasRefcount()).map(r -> r.getStep()
                .getSubject()).distinct().count();
        assertEquals(Math.min(objects, Timeline.MAX_OBJECTS), groups(d, "object").size(), "a lifeline per object, at most "
                + Timeline.MAX_OBJECTS);

        String firstReport = groups(d, "report").getFirst().getElementsByTagNameNS("*", "title").item(0).getTextContent();
        assertTrue(firstReport.contains("use-after-free drm_gem_prime_handle_to_fd"), firstReport);
        // a syscall box is labelled with its statement and result, decoded
        assertTrue(groups(d, "syscall").stream().anyMatch(g -> g.getTextContent()
                .contains("handle_to_fd(fd 3, handle 1, DRM_CLOEXEC) \u2192 fd ")), "decoded labels");
        assertTrue(groups(d, "syscall").stream().anyMatch(g -> g.getTextContent()
                .contains("gem_close(fd 3, handle 1) \u2192 EINVAL (invalid argument)")), "errnos spelled out");
        // locks held: the prime lock appears as a bar in a lane of the threads that took it
        assertTrue(groups(d, "held").stream().anyMatch(g -> g.getTextContent().contains("A.t1 holds file->prime.lock")));
    }

    @Test
    void thePageReadsWithoutHoveringObjectsByNameLifelinesWholeLabelsAndOnlyTheWindowsOutput() throws Exception {
        List<TraceRecord> records = race();
        Timeline t = Timeline.of(records);
        Timeline.Window w = t.focus();
        String html = t.html(w, "out/race.trace");
        Document d = parse(html);
        // labels are whole: nothing is cut with an ellipsis
        for (String cls : List.of("syscall", "held", "wait", "object")) {
            for (Element g : groups(d, cls)) {
                NodeList texts = g.getElementsByTagNameNS("http://www.w3.org/2000/svg", "text");
                for (int i = 0; i < texts.getLength(); i++) {
                    assertFalse(texts.item(i).getTextContent().contains("\u2026"), cls + " label cut: " + g.getTextContent());
                }
            }
        }
        // a lifeline per object the window gets or puts, named by what it is and how user space knows it
        List<String> objects = groups(d, "object").stream().map(g -> g.getElementsByTagNameNS("*", "text").item(0)
                .getTextContent()).toList();
        assertTrue(objects.stream().anyMatch(o -> o.matches("dma-buf file #\\d+ \\(fd \\d+ in A, export of handle 1\\)")),
                objects.toString());
        assertTrue(objects.stream().anyMatch(o -> o.matches("GEM object #\\d+ \\(handle 1 in A\\)")), objects.toString());
        assertTrue(objects.stream().anyMatch(o -> o.matches("drm file #\\d+ \\(fd 3 in A\\)")), objects.toString());
        assertTrue(objects.stream().allMatch(o -> o.matches("(drm file|dma-buf file|GEM object|dma-buf|DRM master) #\\d+.*")),
                "only counted objects get a lifeline: " + objects);
        // the freed dma-buf's line says where its count reached 0
        assertTrue(html.contains(">freed</text>"), "where a count reaches 0");
        // the header counts the lanes drawn and gives the real replay command
        int lanes = groups(d, "lane").size();
        assertTrue(html.contains(lanes + " threads drawn (4 in the run)"), html.substring(0, 1200));
        assertTrue(html.contains("replay: <code>./gemulator replay out/race.trace</code>"));
        assertFalse(html.contains("replay TRACE"));
        // only the lines that came while the window's steps ran
        TimelineModel m = TimelineModel.read(records);
        String pre = html.substring(html.lastIndexOf("<pre>") + 5, html.lastIndexOf("</pre>"));
        long expected = m.lineSteps.stream().filter(s -> w.contains(s) || s == 0 && w.fromStep() == 1).count();
        assertEquals(expected, pre.lines().count(), pre);
        assertTrue(expected > 0 && expected < m.lines.size() / 4, expected + " of " + m.lines.size());
        // and the report's detail names the object as the lifeline does
        assertTrue(html.contains("get of dma-buf file #"), "report detail decoded");
    }

    @Test
    void aSequentialTraceAdvancesInVirtualTimeStepByStep() throws Exception {
        List<TraceRecord> records = run("conformance/prime.gem", Profile.MODERN, new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000));
        List<Long> times = records.stream().filter(TraceRecord::hasStep).filter(r -> !r.getStep().getTask().isEmpty())
                .map(r -> r.getStep().getTimeNs()).toList();
        for (int i = 1; i < times.size(); i++) {
            assertTrue(times.get(i) > times.get(i - 1), "step " + i + " at " + times.get(i) + " after " + times.get(i - 1));
        }
        String html = Timeline.html(records, new Timeline.Window(1, 40));
        assertTrue(html.contains("3.0us") || html.contains("2.9us"), "the axis shows time moving");
    }

    @Test
    void theReportLineStandsAtTheColumnOfTheStepWhereTheCheckerSawIt() throws Exception {
        List<TraceRecord> records = race();
        Timeline.Window w = Timeline.focus(records);
        assertNotNull(w);
        long at = records.stream().filter(TraceRecord::hasReport).findFirst().orElseThrow().getReport().getStep();
        assertTrue(w.contains(at) && w.fromStep() < at, w.toString());
        Document d = parse(Timeline.html(records, w));
        Element reportedStep = groups(d, "step").stream()
                .filter(g -> g.getTextContent().startsWith("step " + at + " ")).findFirst().orElseThrow();
        Element box = (Element) reportedStep.getElementsByTagNameNS("*", "rect").item(0);
        assertEquals(Timeline.REPORT_RED, box.getAttribute("stroke"), "the step of the report is outlined in red");
        assertEquals("step-" + at, reportedStep.getAttribute("id"), "the report table links to it");
        assertTrue(Timeline.html(records, w).contains("<a href=\"#step-" + at + "\">" + at + "</a>"));
        double boxMid = Double.parseDouble(box.getAttribute("x")) + Double.parseDouble(box.getAttribute("width")) / 2;
        Element line = (Element) groups(d, "report").getFirst().getElementsByTagNameNS("*", "line").item(0);
        assertEquals(boxMid, Double.parseDouble(line.getAttribute("x1")), 1.0);
        assertEquals(w.toStep() - w.fromStep() + 1, groups(d, "step").size());
        assertFalse(groups(d, "lane").stream().anyMatch(g -> g.getAttribute("data-task").equals("<timer>")),
                "threads with nothing in the window get no lane");
    }

    @Test
    void thePageIsSelfContained() throws Exception {
        String html = Timeline.html(race(), new Timeline.Window(1, 50));
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.contains("<link"), "no stylesheet from elsewhere");
        assertFalse(html.contains("src="), "no image or frame from elsewhere");
        assertFalse(html.replace("http://www.w3.org/2000/svg", "").contains("http"), "no address at all");
    }

    @Test
    void namesFromTheTraceAreEscaped() throws Exception {
        List<TraceRecord> records = new ArrayList<>(race());
        records.add(1, TraceRecord.newBuilder().setLine(dev.gemulator.proto.v1.TraceLine.newBuilder()
                .setText("<script>alert('x') & \"y\"</script>")).build());
        String html = Timeline.html(records, new Timeline.Window(1, 20));
        assertFalse(html.contains("<script>"));
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"));
        parse(html);
    }

    @Test
    void aWindowMustRunForward() {
        assertThrows(IllegalArgumentException.class, () -> new Timeline.Window(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new Timeline.Window(9, 5));
    }

    @Test
    void theCommandWritesThePageOrSaysWhatIsWrongWithItsWindow(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path trace = dir.resolve("race.trace");
        try (var out = Files.newOutputStream(trace)) {
            TraceRecorder.write(race(), out);
        }
        var stdout = new java.io.ByteArrayOutputStream();
        var stderr = new java.io.ByteArrayOutputStream();
        java.io.PrintStream oldOut = System.out;
        java.io.PrintStream oldErr = System.err;
        try {
            System.setOut(new java.io.PrintStream(stdout, true, StandardCharsets.UTF_8));
            System.setErr(new java.io.PrintStream(stderr, true, StandardCharsets.UTF_8));
            assertEquals(0, dev.gemulator.cli.Main.execute("trace", "html", "--focus", trace.toString()));
            assertEquals(2, dev.gemulator.cli.Main.execute("trace", "html", "--steps", "9-5", trace.toString()));
            assertEquals(2, dev.gemulator.cli.Main.execute("trace", "html", "--steps", "x", trace.toString()));
            assertEquals(2, dev.gemulator.cli.Main.execute("trace", "html", "--steps", "5000-6000", trace.toString()));
            Path garbage = Files.writeString(dir.resolve("garbage.trace"), "garbage");
            assertEquals(2, dev.gemulator.cli.Main.execute("trace", "html", garbage.toString()));
            assertEquals(2, dev.gemulator.cli.Main.execute("trace", "show", garbage.toString()));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        Document d = parse(stdout.toString(StandardCharsets.UTF_8));
        assertEquals(1, d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength());
        String err = stderr.toString(StandardCharsets.UTF_8);
        long last = Timeline.of(race()).lastStep();
        assertTrue(last < 5000, "the window past the end is past it: " + last);
        assertTrue(err.contains("9..5") && err.contains("--steps wants FROM-TO") && err.contains("has " + last + " steps")
                && err.contains("garbage.trace is not a gemulator trace"), err);
    }

    @Test
    void aThreadThatWaitsForALockIsDrawnWaitingAndNoTwoThreadsHoldOneLockAtOnce() throws Exception {
        List<TraceRecord> records = race();
        long waits = records.stream().filter(r -> r.hasLockWait() && !r.getLockWait().getGot()).count();
        assertTrue(waits > 0, "in the race the threads wait for the prime lock");
        TimelineModel m = TimelineModel.read(records);
        assertEquals(waits, m.held.stream().filter(TimelineModel.Held::waiting).count());
        // one drm file: each lock name is one lock, held by one thread at a time
        List<TimelineModel.Held> holds = m.held.stream().filter(h -> !h.waiting()).toList();
        assertNoTwoThreadsHoldOneLockAtOnce(holds);
        // a wait ends where the holder let go: the holder's unlock comes before the waiter's hold starts
        for (TimelineModel.Held w : m.held.stream().filter(TimelineModel.Held::waiting).toList()) {
            assertTrue(holds.stream().anyMatch(h -> h.task().equals(w.holder()) && h.lock().equals(w.lock())
                    && h.from() <= w.from() && h.to() <= w.to()), "the holder of " + w + " held it and let go");
        }
        Document d = parse(Timeline.html(records, Timeline.defaultWindow(records)));
        assertEquals(waits, groups(d, "wait").size());
        // every wait in the race ended when the other thread let the lock go: an arrow each, from that release
        long ended = m.held.stream().filter(h -> h.waiting() && h.ended()).count();
        assertEquals(ended, m.handOffs().size());
        assertEquals(ended, groups(d, "handoff").size());
        for (TimelineModel.HandOff h : m.handOffs()) {
            assertTrue(holds.stream().anyMatch(x -> x.task().equals(h.from()) && x.lock().equals(h.lock())
                    && x.to() == h.unlockStep()), "an arrow starts at a release: " + h);
            assertTrue(h.unlockStep() <= h.gotAfterStep(), h.toString());
        }
    }

    @Test
    void aSelfDeadlockShowsTheLockHeldAndWaitedForByTheSameThreadForever() throws Exception {
        List<TraceRecord> records = run("scenarios/seed/typo_deadlock.gem", Profile.SEED,
                new Runner.RunOptions(1, Strategy.Name.POS, 3, 1000));
        TimelineModel m = TimelineModel.read(records);
        TimelineModel.Held wait = m.held.stream().filter(h -> h.waiting() && !h.ended()).findFirst().orElseThrow();
        assertEquals(wait.task(), wait.holder(), "it waits for a lock it holds: " + wait);
        assertTrue(m.held.stream().anyMatch(h -> !h.waiting() && !h.ended() && h.task().equals(wait.task())
                && h.lock().equals(wait.lock()) && h.from() < wait.from()), "and holds it from before, never released");
        String json = Perfetto.json(records);
        assertTrue(json.contains("\"waits for " + wait.lock() + " (never gets it)\""), "Perfetto shows the wait too");
    }

    @Test
    void theLocksOfTwoFilesHaveTwoNamesInTheTrace() throws Exception {
        List<TraceRecord> records = run("conformance/processes.gem", Profile.MODERN,
                new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000));
        List<String> tableLocks = records.stream().filter(r -> r.hasStep() && r.getStep().getKind().equals("SPIN_LOCK")
                && r.getStep().getSubject().startsWith("file->table_lock")).map(r -> r.getStep().getSubject()).distinct()
                .toList();
        assertEquals(List.of("file->table_lock", "file->table_lock@2", "file->table_lock@3", "file->table_lock@4"),
                tableLocks, "one name per drm file, in order of first use");
        // and each name is one lock: no two threads hold it at once
        assertNoTwoThreadsHoldOneLockAtOnce(TimelineModel.read(records).held.stream().filter(h -> !h.waiting()).toList());
    }
}
