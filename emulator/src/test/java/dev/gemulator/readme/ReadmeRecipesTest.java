package dev.gemulator.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The README's recipes, exactly as written: each block marked
 * {@code <!-- recipe: NAME -->} runs in bash, in a scratch directory laid out
 * like the repository, inside a network namespace of its own (so that port
 * 7070 is the recipe's, whatever else runs on this machine). There,
 * {@code ./gemulator} is this build's command line and {@code mvn} uses the
 * private repository of {@link LocalRepository}, offline. Whatever a recipe
 * leaves running in the background (a server) is stopped after it.
 */
@Tag("slow")
class ReadmeRecipesTest {
    private static Path sandbox;

    /** The README's blocks by recipe name. */
    static java.util.Map<String, String> recipes() throws Exception {
        String readme = Files.readString(LocalRepository.repo("README.md"));
        Matcher m = Pattern.compile("<!-- recipe: ([a-z-]+) -->\\n```\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        while (m.find()) {
            out.put(m.group(1), m.group(2));
        }
        return out;
    }

    @BeforeAll
    static void layOut() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "needs unshare (util-linux)");
        LocalRepository.Ran probe = LocalRepository.run(Path.of("."), List.of("unshare", "-n", "true"), 30);
        Assumptions.assumeTrue(probe.status() == 0, "needs a network namespace of its own (root): " + probe.output());
        sandbox = Path.of("target/readme-sandbox").toAbsolutePath();
        ConsumerProjectTest.copyTree(LocalRepository.repo("conformance"), sandbox.resolve("conformance"));
        ConsumerProjectTest.copyTree(LocalRepository.repo("scenarios"), sandbox.resolve("scenarios"));
        // the example, built once outside the namespace so that its dependencies are in the private repository
        ConsumerProjectTest.buildExample();
        ConsumerProjectTest.copyTree(LocalRepository.repo("client/examples"), sandbox.resolve("client/examples"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path bin = Files.createDirectories(sandbox.resolve(".bin"));
        Files.writeString(sandbox.resolve("gemulator"), "#!/bin/sh\nexec " + java
                + " --add-opens java.base/java.lang=ALL-UNNAMED -cp '" + System.getProperty("java.class.path")
                + "' dev.gemulator.cli.Main \"$@\"\n");
        Files.writeString(bin.resolve("mvn"), "#!/bin/sh\nexec /usr/bin/mvn "
                + String.join(" ", LocalRepository.mvnCommand(true).subList(1, LocalRepository.mvnCommand(true).size()))
                + " \"$@\"\n");
        for (Path p : List.of(sandbox.resolve("gemulator"), bin.resolve("mvn"))) {
            p.toFile().setExecutable(true);
        }
    }

    /** Runs a recipe in the sandbox's namespace; what it printed (both streams) and its exit status. */
    private static LocalRepository.Ran recipe(String name) throws Exception {
        String block = recipes().get(name);
        assertTrue(block != null, "the README has a recipe " + name);
        Path script = sandbox.resolve("recipe-" + name + ".sh");
        Files.writeString(script, block);
        String harness = "ip link set lo up || exit 90\ncd " + sandbox + "\nexport PATH=" + sandbox.resolve(".bin") + ":$PATH\n"
                + ". ./" + script.getFileName() + "\nstatus=$?\nkill $(jobs -p) 2>/dev/null\nwait\nexit $status\n";
        List<String> cmd = new ArrayList<>(List.of("unshare", "-n", "bash", "-c", harness));
        return LocalRepository.run(sandbox, cmd, 600);
    }

    @Test
    void theLockstepRecipeRunsAsWrittenWithClientsStartedBeforeTheServerListens() throws Exception {
        Files.deleteIfExists(sandbox.resolve("run.trace"));
        LocalRepository.Ran r = recipe("lockstep");
        assertEquals(0, r.status(), r.output());
        String expected = Files.readString(LocalRepository.repo("conformance/processes.expected"));
        String summary = expected.lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(r.output().contains(summary), "the server prints the run's summary: " + summary + "\n" + r.output());
        assertTrue(r.output().contains("gemulator: lockstep run done, trace sha256 "), r.output());
        assertTrue(Files.size(sandbox.resolve("run.trace")) > 1000, "the trace is written where the recipe says");
        for (String p : List.of("A", "B", "C", "D")) {
            assertTrue(r.output().lines().anyMatch(l -> l.matches("\\d+ " + p + " open ok \\d+")), p + " ran:\n" + r.output());
        }
    }

    @Test
    void theTwoJvmRecipeSharesOneBufferBothWays() throws Exception {
        LocalRepository.Ran r = recipe("share-buffer");
        assertEquals(0, r.status(), r.output());
        assertTrue(r.output().contains("B reads: hello from A (16384 bytes)\n"), r.output());
        assertTrue(r.output().contains("A reads: hello from B, in the same pages\n"
                + "A: B sent back handle 1 of card0, the buffer A made (1)\n"), r.output());
        String readme = Files.readString(LocalRepository.repo("README.md"));
        String program = Files.readString(LocalRepository.repo("client/examples/share-buffer/src/main/java/ShareBuffer.java"));
        assertTrue(readme.contains("```java\n" + program + "```"), "the README shows the program that runs, whole");
    }

    @Test
    void theLoadRecipeLeavesNothingBehindAndTheMetricsSaySo() throws Exception {
        LocalRepository.Ran r = recipe("load");
        assertEquals(0, r.status(), r.output());
        assertTrue(r.output().contains("leak check: the device holds nothing after the clients left"), r.output());
        assertTrue(r.output().contains("gemulator_device_objects{device=\"0\"} 0.0"), r.output());
        assertTrue(r.output().contains("gemulator_reports_total{kind=\"use-after-free\"} 0.0"), "counted from the start");
        assertTrue(r.output().contains("Total 0 objects"), "status --debugfs: " + r.output());
        assertTrue(Files.readString(sandbox.resolve("load.json")).contains("\"device_empty\":true"));
    }
}
