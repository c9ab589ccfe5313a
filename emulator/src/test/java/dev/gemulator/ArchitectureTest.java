package dev.gemulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The kernel model stays plain Java: no transport, serialization or metrics library, no wall clock, no randomness. */
class ArchitectureTest {
    private static final List<String> FORBIDDEN = List.of(
            "import io.netty", "import com.google.protobuf", "import io.micrometer", "import dev.gemulator.proto",
            "import dev.gemulator.server", "import dev.gemulator.cli", "import dev.gemulator.gemscript",
            "import dev.gemulator.client",
            "System.currentTimeMillis", "System.nanoTime", "java.util.Random", "Math.random", "ThreadLocalRandom",
            "parallelStream", "Instant.now");

    @Test
    void theKernelPackagesImportNoNettyProtobufOrMicrometerAndReadNoClock() throws IOException {
        Path kernel = Path.of(System.getProperty("gemulator.repo", ".."), "emulator/src/main/java/dev/gemulator/kernel");
        List<String> violations = new ArrayList<>();
        int files;
        try (Stream<Path> s = Files.walk(kernel)) {
            List<Path> sources = s.filter(p -> p.toString().endsWith(".java")).toList();
            files = sources.size();
            for (Path p : sources) {
                String text = Files.readString(p);
                for (String f : FORBIDDEN) {
                    if (text.contains(f)) {
                        violations.add(kernel.relativize(p) + ": " + f);
                    }
                }
            }
        }
        assertTrue(files > 20, "found only " + files + " kernel sources under " + kernel);
        assertEquals(List.of(), violations);
    }

    /** The client library is one other projects depend on: nothing of the emulator, no metrics or CLI library. */
    @Test
    void theClientLibraryUsesNothingOfTheEmulator() throws IOException {
        Path client = Path.of(System.getProperty("gemulator.repo", ".."), "client/src/main/java");
        List<String> violations = new ArrayList<>();
        int files;
        try (Stream<Path> s = Files.walk(client)) {
            List<Path> sources = s.filter(p -> p.toString().endsWith(".java")).toList();
            files = sources.size();
            for (Path p : sources) {
                for (String line : Files.readAllLines(p)) {
                    String l = line.strip();
                    boolean emulator = l.matches(".*\\bdev\\.gemulator\\.(?!client|proto)[a-z]+\\..*");
                    if (emulator || l.contains("io.micrometer") || l.contains("picocli") || l.contains("org.HdrHistogram")) {
                        violations.add(client.relativize(p) + ": " + l);
                    }
                }
            }
        }
        assertTrue(files >= 10, "found only " + files + " client sources under " + client);
        assertEquals(List.of(), violations);
    }
}
