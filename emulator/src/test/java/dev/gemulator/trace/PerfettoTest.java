package dev.gemulator.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.proto.v1.TraceRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The Perfetto (Chrome trace-event) JSON of the 3.11 race, read back with a JSON parser of its own. */
class PerfettoTest {

    @Test
    void theRaceBecomesTracksOfSyscallsStepsAndLocksWithReportsAndHandOffs() throws Exception {
        List<TraceRecord> records = TimelineTest.race();
        String json = Perfetto.json(records);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> events = (List<Map<String, Object>>) ((Map<String, Object>) new Json(json).value())
                .get("traceEvents");

        Map<String, Object> threadNames = events.stream().filter(e -> "thread_name".equals(e.get("name")))
                .collect(Collectors.toMap(e -> e.get("pid") + "/" + e.get("tid"),
                        e -> ((Map<?, ?>) e.get("args")).get("name"), (a, b) -> a, LinkedHashMap::new));
        assertTrue(threadNames.values().containsAll(List.of("A", "A.t1", "A.t2", "A.t1 locks")), threadNames.toString());

        long enters = records.stream().filter(r -> r.hasStep() && r.getStep().getKind().equals("SYSCALL_ENTER"))
                .count();
        assertEquals(enters, events.stream().filter(e -> "syscall".equals(e.get("cat"))).count(), "a slice per syscall");
        assertEquals(records.stream().filter(r -> r.hasStep()).count(),
                events.stream().filter(e -> "step".equals(e.get("cat"))).count(), "a slice per step");
        List<Map<String, Object>> reports = events.stream().filter(e -> "i".equals(e.get("ph"))).toList();
        assertEquals(records.stream().filter(r -> r.hasReport()).count(), reports.size());
        assertTrue(reports.getFirst().get("name").toString().startsWith("report use-after-free drm_gem_prime_handle_to_fd"));

        Map<Object, List<Map<String, Object>>> flows = events.stream().filter(e -> "lock".equals(e.get("cat"))
                && !"X".equals(e.get("ph"))).collect(Collectors.groupingBy(e -> e.get("id")));
        assertTrue(flows.size() > 5, "lock hand-offs between the two threads");
        flows.values().forEach(pair -> {
            assertEquals(List.of("s", "f"), pair.stream().map(e -> e.get("ph")).toList());
            assertNotEquals(pair.get(0).get("tid"), pair.get(1).get("tid"), "a hand-off goes to another thread");
            assertTrue(((Number) pair.get(0).get("ts")).doubleValue() <= ((Number) pair.get(1).get("ts")).doubleValue());
        });

        // on each thread's track, syscall and step slices nest (Perfetto draws them as a stack)
        Map<Object, List<Map<String, Object>>> byTrack = events.stream().filter(e -> "X".equals(e.get("ph"))
                && !"lock".equals(e.get("cat"))).collect(Collectors.groupingBy(e -> e.get("pid") + "/" + e.get("tid")));
        for (var track : byTrack.values()) {
            List<double[]> spans = new ArrayList<>();
            for (var e : track) {
                double ts = ((Number) e.get("ts")).doubleValue();
                double dur = ((Number) e.get("dur")).doubleValue();
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
