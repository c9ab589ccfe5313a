package dev.gemulator.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.explore.Shrinker;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.sched.Strategy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Perfetto (Chrome trace-event) JSON of the 3.11 race and of a
 * sequential scenario, read back twice: with a JSON reader of its own that
 * checks nesting, flow binding and counters event by event, and with Chrome
 * DevTools' trace engine from the npm registry, which must bind every flow
 * at both ends and build slice trees two deep (a system call, its steps).
 */
@Tag("slow")
class PerfettoTest {

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> events(String json) {
        return (List<Map<String, Object>>) ((Map<String, Object>) new Json(json).value()).get("traceEvents");
    }

    private static double num(Object o) {
        return ((Number) o).doubleValue();
    }

    @Test
    void theRaceBecomesTracksOfSyscallsStepsAndLocksWithReportsHandOffsSwitchesAndRefcounts() throws Exception {
        List<TraceRecord> records = TimelineTest.race();
        List<Map<String, Object>> events = events(Perfetto.json(records));

        Map<String, Object> threadNames = events.stream().filter(e -> "thread_name".equals(e.get("name")))
                .collect(Collectors.toMap(e -> e.get("pid") + "/" + e.get("tid"),
                        e -> ((Map<?, ?>) e.get("args")).get("name"), (a, b) -> a, LinkedHashMap::new));
        assertTrue(threadNames.values().containsAll(List.of("A", "A.t1", "A.t2")), threadNames.toString());

        long enters = records.stream().filter(r -> r.hasStep() && r.getStep().getKind().equals("SYSCALL_ENTER"))
                .count();
        List<Map<String, Object>> syscalls = events.stream().filter(e -> "syscall".equals(e.get("cat"))).toList();
        assertEquals(enters, syscalls.size(), "a slice per syscall");
        assertTrue(syscalls.stream().anyMatch(e -> e.get("name").toString()
                .startsWith("handle_to_fd(fd 3, handle 1, DRM_CLOEXEC) \u2192 ")), "decoded: " + syscalls.get(3));
        assertEquals(records.stream().filter(r -> r.hasStep()).count(),
                events.stream().filter(e -> "step".equals(e.get("cat")) && "X".equals(e.get("ph"))).count(),
                "a slice per step");
        List<Map<String, Object>> reports = events.stream().filter(e -> "report".equals(e.get("cat"))).toList();
        assertEquals(records.stream().filter(r -> r.hasReport()).count(), reports.size());
        assertTrue(reports.getFirst().get("name").toString().startsWith("report use-after-free drm_gem_prime_handle_to_fd"));

        // every step takes virtual time: no two slices of one thread start at the same instant
        Map<String, List<Double>> starts = new java.util.HashMap<>();
        events.stream().filter(e -> "step".equals(e.get("cat")) && "X".equals(e.get("ph")))
                .forEach(e -> starts.computeIfAbsent(e.get("pid") + "/" + e.get("tid"), k -> new ArrayList<>())
                        .add(num(e.get("ts"))));
        starts.values().forEach(ts -> assertEquals(ts.size(), ts.stream().distinct().count(), "distinct times"));

        // hand-offs: flows bound to a slice of their category that starts at their time, on their thread
        Map<Object, List<Map<String, Object>>> flows = events.stream().filter(e -> "s".equals(e.get("ph"))
                || "f".equals(e.get("ph"))).collect(Collectors.groupingBy(e -> e.get("id")));
        assertEquals(TimelineModel.read(records).handOffs().size(), flows.size(), "a flow per hand-off");
        assertTrue(flows.size() > 2, "lock hand-offs between the two threads: " + flows.size());
        flows.values().forEach(pair -> {
            assertEquals(List.of("s", "f"), pair.stream().map(e -> e.get("ph")).toList());
            assertNotEquals(pair.get(0).get("tid"), pair.get(1).get("tid"), "a hand-off goes to another thread");
            assertTrue(num(pair.get(0).get("ts")) <= num(pair.get(1).get("ts")));
            for (var f : pair) {
                assertTrue(events.stream().anyMatch(e -> "X".equals(e.get("ph")) && e.get("cat").equals(f.get("cat"))
                        && e.get("pid").equals(f.get("pid")) && e.get("tid").equals(f.get("tid"))
                        && num(e.get("ts")) == num(f.get("ts"))), "the flow binds to a slice: " + f);
            }
        });

        // preemptions and switches: an instant on the thread that lost the CPU
        List<Map<String, Object>> sched = events.stream().filter(e -> "sched".equals(e.get("cat"))).toList();
        long preempted = sched.stream().filter(e -> e.get("name").toString().startsWith("preempted by ")).count();
        assertEquals(Shrinker.preemptions(records), preempted, "every preemption, as the shrinker counts them");
        assertTrue(sched.size() > preempted, "switches too");

        // locks: async slices, begin before end, on the thread's process
        Map<Object, List<Map<String, Object>>> holds = events.stream().filter(e -> "lock".equals(e.get("cat")))
                .collect(Collectors.groupingBy(e -> e.get("id")));
        assertTrue(holds.values().stream().anyMatch(h -> h.get(0).get("name").equals("holds file->prime.lock")));
        holds.values().forEach(h -> {
            assertEquals(List.of("b", "e"), h.stream().map(e -> e.get("ph")).toList());
            assertTrue(num(h.get(0).get("ts")) < num(h.get(1).get("ts")));
        });

        // a counter track per object: its reference count, never below 0, and 0 once a dma-buf is released
        Map<Object, List<Map<String, Object>>> counters = events.stream().filter(e -> "C".equals(e.get("ph")))
                .collect(Collectors.groupingBy(e -> e.get("name")));
        assertTrue(counters.keySet().stream().anyMatch(n -> n.toString().startsWith("refcount GEM object #1")), counters.keySet().toString());
        assertTrue(counters.keySet().stream().anyMatch(n -> n.toString().startsWith("refcount dma-buf file #")));
        counters.values().forEach(c -> c.forEach(e -> assertTrue(num(((Map<?, ?>) e.get("args")).get("refcount")) >= 0)));

        nestsOnEveryTrack(events);
    }

    /** On each thread's track, slices nest: Perfetto and Chrome draw them as a stack. */
    static void nestsOnEveryTrack(List<Map<String, Object>> events) {
        Map<Object, List<Map<String, Object>>> byTrack = events.stream().filter(e -> "X".equals(e.get("ph")))
                .collect(Collectors.groupingBy(e -> e.get("pid") + "/" + e.get("tid")));
        for (var track : byTrack.values()) {
            List<double[]> spans = new ArrayList<>();
            for (var e : track) {
                double ts = num(e.get("ts"));
                double dur = num(e.get("dur"));
                assertTrue(dur > 0, "every slice lasts: " + e);
                spans.add(new double[] {ts, ts + dur});
            }
            spans.sort(Comparator.<double[]>comparingDouble(s -> s[0]).thenComparing(s -> -s[1]));
            for (int i = 0; i < spans.size(); i++) {
                for (int j = i + 1; j < spans.size() && spans.get(j)[0] < spans.get(i)[1] - 1e-9; j++) {
                    assertTrue(spans.get(j)[1] <= spans.get(i)[1] + 1e-9, "slices overlap without nesting");
                }
            }
        }
    }

    @Test
    void aSequentialScenarioIsStillASequenceInTime() throws Exception {
        List<TraceRecord> records = TimelineTest.run("conformance/prime.gem", Profile.MODERN, new dev.gemulator.gemscript.Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000));
        List<Map<String, Object>> events = events(Perfetto.json(records));
        double first = events.stream().filter(e -> "X".equals(e.get("ph"))).mapToDouble(e -> num(e.get("ts"))).min()
                .orElseThrow();
        double last = events.stream().filter(e -> "X".equals(e.get("ph"))).mapToDouble(e -> num(e.get("ts"))).max()
                .orElseThrow();
        long steps = records.stream().filter(TraceRecord::hasStep).count();
        assertEquals((steps - 1) * 0.1, last - first, 0.01, "each step 100 ns of virtual time after the one before");
        nestsOnEveryTrack(events);
    }

    /**
     * Chrome DevTools' trace engine (npm: @paulirish/trace_engine, pinned in
     * src/test/node/trace-check) reads both exports: every hand-off is a flow
     * bound at both ends, and no thread's slices nest deeper than a system
     * call over its steps. Needs node and npm (the registry for the first
     * install); skipped only with -Dgemulator.node=skip.
     */
    @Test
    void chromesTraceEngineBindsEveryFlowAndNestsTwoDeep() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse("skip".equals(System.getProperty("gemulator.node")),
                "-Dgemulator.node=skip");
        java.nio.file.Path dir = java.nio.file.Path.of("target/trace-check").toAbsolutePath();
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Path source = java.nio.file.Path.of(System.getProperty("gemulator.repo", ".."),
                "emulator/src/test/node/trace-check");
        for (String f : List.of("package.json", "package-lock.json", "check.mjs")) {
            java.nio.file.Files.copy(source.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        if (!java.nio.file.Files.isDirectory(dir.resolve("node_modules/@paulirish/trace_engine"))) {
            String out = run(dir, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
            assertTrue(java.nio.file.Files.isDirectory(dir.resolve("node_modules/@paulirish/trace_engine")), out);
        }
        List<TraceRecord> race = TimelineTest.race();
        long handOffs = events(Perfetto.json(race)).stream().filter(e -> "s".equals(e.get("ph"))).count();
        java.nio.file.Files.writeString(dir.resolve("race.json"), Perfetto.json(race));
        java.nio.file.Files.writeString(dir.resolve("prime.json"),
                Perfetto.json(TimelineTest.run("conformance/prime.gem", Profile.MODERN, new dev.gemulator.gemscript.Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000))));
        Map<String, Object> r = asMap(run(dir, "node", "check.mjs", "race.json"));
        assertEquals(handOffs, num(r.get("flows")), r.toString());
        assertEquals(handOffs, num(r.get("boundAtBothEnds")), "every flow bound to a slice at both ends: " + r);
        assertEquals(2.0, num(r.get("maxDepth")), "a system call over its steps: " + r);
        Map<String, Object> p = asMap(run(dir, "node", "check.mjs", "prime.json"));
        assertEquals(2.0, num(p.get("maxDepth")), "a sequential run nests two deep as well, not one tower: " + p);
        assertTrue(num(p.get("entries")) > 500, p.toString());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(String line) {
        return (Map<String, Object>) new Json(line.strip().lines().reduce((a, b) -> b).orElse("{}")).value();
    }

    private static String run(java.nio.file.Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    /** Just enough JSON to read the output back: objects, arrays, strings, numbers, true/false/null. */
    static final class Json {
        private final String s;
        private int at;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            skip();
            char c = s.charAt(at);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                at++;
                skip();
                if (s.charAt(at) == '}') {
                    at++;
                    return m;
                }
                while (true) {
                    skip();
                    String k = string();
                    skip();
                    expect(':');
                    m.put(k, value());
                    skip();
                    if (s.charAt(at++) == '}') {
                        return m;
                    }
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                at++;
                skip();
                if (s.charAt(at) == ']') {
                    at++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    skip();
                    if (s.charAt(at++) == ']') {
                        return l;
                    }
                }
            }
            if (c == '"') {
                return string();
            }
            for (String word : List.of("true", "false", "null")) {
                if (s.startsWith(word, at)) {
                    at += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word);
                }
            }
            int start = at;
            while (at < s.length() && "+-0123456789.eE".indexOf(s.charAt(at)) >= 0) {
                at++;
            }
            return Double.parseDouble(s.substring(start, at));
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (s.charAt(at) != '"') {
                char c = s.charAt(at++);
                if (c == '\\') {
                    char e = s.charAt(at++);
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                            at += 4;
                        }
                        default -> b.append(e);
                    }
                } else {
                    assertTrue(c >= 0x20, "a control character inside a JSON string");
                    b.append(c);
                }
            }
            at++;
            return b.toString();
        }

        private void expect(char c) {
            assertEquals(c, s.charAt(at), "JSON at " + at);
            at++;
        }

        private void skip() {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
                at++;
            }
        }
    }
}
