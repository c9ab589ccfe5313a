package dev.gemulator.gemscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.gemulator.Machine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario in conformance/ must print exactly what the real Linux 6.1
 * kernel printed for it (NAME.expected), byte for byte, and exit as the
 * harness did: 0 when the last line says "0 failed", 1 otherwise.
 */
class ConformanceTest {

    static Path conformanceDir() {
        return Path.of(System.getProperty("gemulator.repo", "..")).resolve("conformance");
    }

    static String runFile(Path gem, int[] exit) throws Exception {
        String text = Files.readString(gem, StandardCharsets.UTF_8);
        Script script = Parser.parse(gem.toString(), text);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            exit[0] = new Runner(new Machine(), out).run(script);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @TestFactory
    Stream<DynamicTest> everyRecordedScenarioPrintsTheKernelsOutputByteForByte() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(conformanceDir())) {
            files = s.filter(p -> p.toString().endsWith(".gem")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no scenarios in " + conformanceDir());
        return files.stream().map(gem -> DynamicTest.dynamicTest(gem.getFileName().toString(), () -> {
            Path expectedFile = Path.of(gem.toString().replaceAll("\\.gem$", ".expected"));
            String expected = Files.readString(expectedFile, StandardCharsets.UTF_8);
            int[] exit = new int[1];
            String actual = runFile(gem, exit);
            assertEquals(expected, actual, "output of " + gem.getFileName());
            String[] lines = expected.split("\n");
            int wantExit = lines[lines.length - 1].endsWith(", 0 failed") ? 0 : 1;
            assertEquals(wantExit, exit[0], "exit status of " + gem.getFileName());
        }));
    }
}
