package dev.gemulator.load;

import static dev.gemulator.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Cli.Ran;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load generator's command line: bad options and an unreachable server say why (exit 2); a short run writes its JSON. */
@Tag("slow")
class LoadCommandTest {

    @Test
    void badOptionsAreRefusedWithTheirReason() {
        Ran r = run("load", "--threads", "0");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--threads wants 1 to 64: 0"), r.err());
        assertEquals(2, run("load", "--rate", "fast").status());
        assertEquals(2, run("load", "--duration", "-1").status());
        assertEquals(2, run("load", "--no-such-option").status());
    }

    @Test
    void aServerThatIsNotThereIsNamed() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nobody listens there
        }
        Ran r = run("load", "--port", String.valueOf(port), "--duration", "1", "--connect-timeout", "0");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("cannot connect to 127.0.0.1:" + port + ": connection refused"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void aShortRunAgainstItsOwnServerReportsAndWritesItsJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("load.json");
        Ran r = run("load", "--host", "nowhere.invalid", "--processes", "1", "--threads", "1", "--duration", "0.5",
                "--json", json.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("leak check: the device holds nothing after the clients left"), r.out());
        assertTrue(Files.readString(json).contains("\"device_empty\":true"));
    }

    @Test
    void withForkEachClientProcessIsAJvmOfItsOwnAndTheirResultsAddUp(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("load.json");
        Ran r = run("load", "--fork", "--processes", "2", "--threads", "1", "--duration", "1", "--json", json.toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("gemulator load: 2 client JVMs (pids "), r.out());
        java.util.regex.Matcher pids = java.util.regex.Pattern.compile("pids (\\d+) (\\d+)\\)").matcher(r.out());
        assertTrue(pids.find());
        assertTrue(Long.parseLong(pids.group(1)) != ProcessHandle.current().pid(), "real OS processes");
        assertTrue(r.out().contains("leak check: the device holds nothing after the clients left"), r.out());
        String text = Files.readString(json);
        long ops = Long.parseLong(text.substring(text.indexOf("\"ops\":") + 6, text.indexOf(',')));
        assertTrue(ops > 0, text);
        // both JVMs' histograms were added: the per-op counts sum to the ops
        long counted = 0;
        java.util.regex.Matcher counts = java.util.regex.Pattern.compile("\"count\":(\\d+)").matcher(text);
        while (counts.find()) {
            counted += Long.parseLong(counts.group(1));
        }
        assertEquals(ops, counted, text);
    }

    @Test
    void aResultSurvivesItsTripThroughLines() throws Exception {
        var h = new org.HdrHistogram.Histogram(3);
        h.recordValue(1_000);
        h.recordValue(250_000);
        var one = new LoadGenerator.Result(new java.util.TreeMap<>(java.util.Map.of("create", h)),
                new java.util.TreeMap<>(java.util.Map.of("close EINVAL", 2L)), 2, 1.5, false, "");
        var merged = LoadGenerator.merge(java.util.List.of(LoadGenerator.toLines(one), LoadGenerator.toLines(one)), true,
                "0 objects");
        assertEquals(4, merged.ops());
        assertEquals(4, merged.latency().get("create").getTotalCount());
        assertEquals(h.getValueAtPercentile(99), merged.latency().get("create").getValueAtPercentile(99));
        assertEquals(4L, merged.errors().get("close EINVAL"));
        assertEquals(1.5, merged.seconds());
    }
}
