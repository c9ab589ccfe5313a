package dev.gemulator.cli;

import static dev.gemulator.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Cli.Ran;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every command fed its common mistakes: each is told in one line on stderr
 * that names what is wrong (no stack trace, no usage dump), with exit
 * status 2; and --help gives every command's description whole.
 */
@Tag("slow")
class UsageErrorsTest {
    @TempDir
    Path dir;

    /** A mistake: the command line, and what its one line of complaint must say. */
    private record Mistake(List<String> args, String says) {
    }

    private static Mistake m(String says, String... args) {
        return new Mistake(List.of(args), says);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort(); // nobody listens there once closed
        }
    }

    @Test
    void everyCommandsCommonMistakesAreOneLineWithStatusTwo() throws Exception {
        Path gem = dir.resolve("t.gem");
        Files.writeString(gem, "A: open card0\n");
        Path notTrace = dir.resolve("not.trace");
        Files.write(notTrace, new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13});
        Path noReport = dir.resolve("clean.trace");
        assertEquals(0, run("run", gem.toString(), "--trace", noReport.toString()).status());
        String missing = dir.resolve("missing.gem").toString();
        String noDir = dir.resolve("no/such/dir/out.trace").toString();
        int nobody = freePort();
        List<Path> shards = new ArrayList<>();
        for (String[] shard : new String[][] {{"0/2", "4"}, {"1/2", "4"}, {"1/2", "6"}}) {
            Ran r = run("explore", gem.toString(), "--shard", shard[0], "--schedules", shard[1], "--json");
            assertEquals(0, r.status(), r.err());
            shards.add(Files.writeString(dir.resolve("shard-" + shards.size() + ".json"), r.out()));
        }
        List<Mistake> mistakes = new ArrayList<>(List.of(
                m("Unmatched argument", "frobnicate"),
                m("Missing required parameter", "run"),
                m("cannot read " + missing + ": no such file", "run", missing),
                m("cannot read " + dir + ": it is a directory", "run", dir.toString()),
                m("unknown kernel profile '2.6'", "run", "--profile", "2.6", gem.toString()),
                m("unknown strategy 'fair'", "run", "--strategy", "fair", gem.toString()),
                m("'x' is not a long", "run", "--seed", "x", gem.toString()),
                m("cannot write --trace " + noDir, "run", gem.toString(), "--trace", noDir),
                m("--pct-depth wants at least 1", "run", "--pct-depth", "0", gem.toString()),
                m("Unknown option: '--shrimk'", "explore", gem.toString(), "--shrimk"),
                m("--schedules wants at least 1, not -5", "explore", gem.toString(), "--schedules", "-5"),
                m("--jobs wants at least 1", "explore", gem.toString(), "--jobs", "0"),
                m("--preemptions wants 0 or more", "explore", gem.toString(), "--strategy", "dfs", "--preemptions", "-1"),
                m("unknown strategy 'bfs'", "explore", gem.toString(), "--strategy", "bfs"),
                m("cannot read " + missing, "explore", missing),
                m("--shard 4/4: wants 0 <= I < N", "explore", gem.toString(), "--shard", "4/4"),
                m("--shard wants I/N (0 <= I < N), not 'half'", "explore", gem.toString(), "--shard", "half"),
                m("the environment variable GEMULATOR_NO_SUCH_INDEX is not set", "explore", gem.toString(), "--shard",
                        "$(GEMULATOR_NO_SUCH_INDEX)/4"),
                m("--shrink does not go with --shard", "explore", gem.toString(), "--shard", "0/2", "--shrink"),
                m("--guided does not go with --shard", "explore", gem.toString(), "--shard", "0/2", "--guided"),
                m("--guided does not go with --strategy dfs", "explore", gem.toString(), "--strategy", "dfs", "--guided"),
                m("--shard 3/2: wants 0 <= I < N", "explore", gem.toString(), "--strategy", "dfs", "--shard", "3/2"),
                m("--shard splits --seeds: it does not go with --seed", "race", "--shard", "0/2", "--seed", "3", "--",
                        "true"),
                m("--shard wants I/N", "race", "--shard", "1-2", "--", "true"),
                m("Missing required parameter: 'RESULTS'", "merge"),
                m("cannot read " + missing + ": no such file", "merge", missing),
                m("no shard results in [" + gem + "]", "merge", gem.toString()),
                m("shard 1/2 is missing (1 of 2 shards given)", "merge", shards.get(0).toString()),
                m("shard 0/2 is there twice", "merge", shards.get(0).toString(), shards.get(0).toString()),
                m("shard 1 is of another run than shard 0: schedules is", "merge", shards.get(0).toString(),
                        shards.get(2).toString()),
                m("no such file", "replay", missing),
                m("is not a gemulator trace", "replay", notTrace.toString()),
                m("is not a gemulator trace", "trace", "show", notTrace.toString()),
                m("no such file", "trace", "perfetto", missing),
                m("--steps wants FROM-TO", "trace", "html", "--steps", "5", noReport.toString()),
                m("has no report to focus on", "trace", "html", "--focus", noReport.toString()),
                m("--port wants 0 (any free port) to 65535, not 99999", "serve", "--port", "99999"),
                m("--port wants 0 (any free port) to 65535, not -1", "serve", "--port", "-1"),
                m("--device-memory wants a number of bytes", "serve", "--port", "0", "--device-memory", "lots"),
                m("unknown kernel profile", "serve", "--port", "0", "--profile", "2.6"),
                m("cannot write --trace " + noDir, "serve", "--port", "0", "--trace", noDir),
                m("cannot read " + missing, "serve", "--port", "0", "--lockstep", missing),
                m("--iterations wants at least 1", "serve", "--lockstep", gem.toString(), "--iterations", "0"),
                m("--join-timeout wants at least 1 second", "serve", "--lockstep", gem.toString(), "--join-timeout", "0"),
                m("cannot listen on nosuchhost.invalid:0: no such address", "serve", "--port", "0", "--bind", "nosuchhost.invalid"),
                m("Missing required option: '--proc", "client", gem.toString()),
                m("cannot connect to 127.0.0.1:" + nobody + ": connection refused", "client", "--proc", "A",
                        "--port", String.valueOf(nobody), "--connect-timeout", "0", gem.toString()),
                m("--port wants 1 to 65535, not 0", "client", "--proc", "A", "--port", "0", gem.toString()),
                m("--end-thread wants THREAD:N", "client", "--proc", "A", "--end-thread", "A.t1", gem.toString()),
                m("cannot connect to 127.0.0.1:" + nobody + ": connection refused", "status", "--port",
                        String.valueOf(nobody)),
                m("--port wants 1 to 65535, not 70000", "status", "--port", "70000"),
                m("--duration wants more than 0", "load", "--duration", "0"),
                m("--threads wants 1 to 64: 0", "load", "--threads", "0"),
                m("--port wants 1 to 65535: 99999", "load", "--port", "99999"),
                m("cannot connect to 127.0.0.1:" + nobody, "load", "--port", String.valueOf(nobody), "--duration", "1",
                        "--connect-timeout", "0"),
                m("'fast' is not a double", "load", "--rate", "fast"),
                m("--runs wants at least 1", "soak", "--runs", "0"),
                m("unknown strategy 'fair'", "soak", "--runs", "1", "--strategy", "fair"),
                m("no scenario directory", "soak", "--runs", "1", "--dir", missing),
                m("Unmatched argument", "demo", "now"),
                m("--statements wants MIN-MAX with 1 <= MIN <= MAX (not '250-100')", "difftest", "--statements",
                        "250-100"),
                m("--scenarios and --jobs at least 1", "difftest", "--scenarios", "0"),
                m("difftest needs the real kernel: no oracle at " + missing, "difftest", "--oracle", missing),
                m("is not executable", "difftest", "--batch-oracle", gem.toString()),
                m("cannot read the corpus " + missing, "difftest", "--corpus", missing)));
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            mistakes.add(m("address already in use (another server runs there: stop it, or choose another --port)",
                    "serve", "--port", String.valueOf(taken.getLocalPort())));
            mistakes.add(m("cannot serve metrics on 127.0.0.1:" + taken.getLocalPort(), "serve", "--port", "0",
                    "--metrics-port", String.valueOf(taken.getLocalPort())));
            for (Mistake mistake : mistakes) {
                Ran r = run(mistake.args().toArray(String[]::new));
                String what = String.join(" ", mistake.args()) + "\n--- stderr:\n" + r.err() + "--- stdout:\n" + r.out();
                assertEquals(2, r.status(), what);
                assertEquals(1, r.err().lines().count(), "one line: " + what);
                assertTrue(r.err().contains(mistake.says()), what);
                assertFalse(r.err().contains("\tat ") || r.err().contains("Exception") || r.err().contains("Usage:"),
                        "no stack trace, no usage dump: " + what);
                assertTrue(r.err().startsWith("gemulator"), "says who complains: " + what);
            }
        }
    }

    @Test
    void helpListsEveryCommandWithItsWholeSummaryAndTheLaunchersOwn() {
        Ran r = run("--help");
        assertEquals(0, r.status());
        CommandLine cl = Main.commandLine();
        for (var e : cl.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue; // picocli's own
            }
            String[] description = e.getValue().getCommandSpec().usageMessage().description();
            assertTrue(description.length > 0, e.getKey() + " has a description");
            String summary = description[0];
            assertTrue(summary.endsWith("."), e.getKey() + "'s summary is a whole sentence: " + summary);
            // the listing wraps the summary, but every word of it is there, in order
            String flat = r.out().replaceAll("\\s+", " ");
            assertTrue(flat.contains(summary.replaceAll("\\s+", " ")), e.getKey() + ": " + summary + " in\n" + r.out());
            Ran own = run(e.getKey(), "--help");
            assertEquals(0, own.status(), e.getKey());
            for (String paragraph : description) {
                assertTrue(own.out().replaceAll("\\s+", " ").contains(paragraph.replaceAll("\\s+", " ")),
                        e.getKey() + " --help shows all of: " + paragraph);
            }
        }
        for (String launcher : List.of("load", "test", "build", "bench", "completion")) {
            assertTrue(r.out().contains(launcher), launcher + " in\n" + r.out());
        }
    }

    @Test
    void theCompletionScriptCoversEveryCommandAndTheLaunchersOwn() {
        Ran r = run("completion");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("complete -F _complete_gemulator"), r.out());
        for (String command : List.of("run", "explore", "replay", "trace", "serve", "client", "status", "load", "soak",
                "demo", "test", "build", "bench")) {
            assertTrue(r.out().contains(command), command);
        }
        assertTrue(r.out().contains("--lockstep") && r.out().contains("--join-timeout"), "options are completed");
    }
}
