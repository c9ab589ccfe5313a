package dev.gemulator.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.transport.GemulatorServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The client as a dependency: a fresh project whose pom names
 * dev.gemulator:gemulator-client and nothing else (client/examples/share-buffer)
 * builds against what {@code mvn install} publishes, resolves the protobuf the
 * generated code needs and nothing of the emulator, and its program, run as
 * two JVMs (processes A and B), shares one buffer both ways through a passed
 * dma-buf fd.
 */
@Tag("slow")
class ConsumerProjectTest {

    /** Copies the example to target/ (a build of it never writes into the repository) and compiles it there. */
    static Path buildExample() throws Exception {
        LocalRepository.prepare();
        Path copy = Path.of("target/consumer/share-buffer").toAbsolutePath();
        copyTree(LocalRepository.repo("client/examples/share-buffer"), copy);
        LocalRepository.Ran r = LocalRepository.mvn(copy, false, "compile");
        assertEquals(0, r.status(), "the consumer project builds:\n" + r.output());
        return copy;
    }

    static void copyTree(Path from, Path to) throws Exception {
        if (Files.exists(to)) {
            try (Stream<Path> s = Files.walk(to)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                if (from.relativize(p).startsWith("target")) {
                    continue;
                }
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
    }

    @Test
    void aFreshProjectDependingOnTheClientAloneSharesABufferBetweenTwoJvms() throws Exception {
        Path project = buildExample();
        String classpath = Files.readString(project.resolve("target/classpath.txt")).strip();
        List<String> jars = Stream.of(classpath.split(java.io.File.pathSeparator))
                .map(j -> Path.of(j).getFileName().toString()).sorted().toList();
        assertTrue(jars.contains("protobuf-java-4.36.2.jar"), "the protobuf the generated code needs: " + jars);
        assertTrue(jars.contains("gemulator-client-" + LocalRepository.VERSION + ".jar")
                && jars.contains("gemulator-proto-" + LocalRepository.VERSION + ".jar"), jars.toString());
        for (String j : jars) {
            assertFalse(j.startsWith("gemulator-emulator") || j.startsWith("picocli") || j.startsWith("micrometer")
                    || j.contains("prometheus") || j.startsWith("HdrHistogram") || j.matches("protobuf-java-3\\..*"),
                    "the client brings nothing of the emulator: " + j + " in " + jars);
        }
        String cp = project.resolve("target/classes") + java.io.File.pathSeparator + classpath;
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 1024)) {
            String port = String.valueOf(server.port());
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder b = new ProcessBuilder(java, "-cp", cp, "ShareBuffer", "B", port).redirectErrorStream(true);
            ProcessBuilder a = new ProcessBuilder(java, "-cp", cp, "ShareBuffer", "A", port).redirectErrorStream(true);
            Process pb = b.start(); // B first: it waits for what A sends
            Process pa = a.start();
            String outB = new String(pb.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String outA = new String(pa.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(pa.waitFor(60, TimeUnit.SECONDS) && pb.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, pb.exitValue(), outB);
            assertEquals(0, pa.exitValue(), outA);
            assertEquals("B reads: hello from A (16384 bytes)\n", outB);
            assertEquals("A reads: hello from B, in the same pages\n"
                    + "A: B sent back handle 1 of card0, the buffer A made (1)\n", outA);
            System.out.println("consumer project: " + String.join(" ", jars));
            System.out.println("two JVMs:\n" + outB + outA);
        }
    }
}
