package dev.gemulator.difftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
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
 * The emulator's side of differential testing, for CI (the oracle needs
 * qemu): every generated scenario recorded in conformance/diff/ must print
 * exactly what the real Linux 6.1 kernel printed for it (NAME.expected, as
 * {@code gemulator difftest --record} wrote it), byte for byte, with no
 * checker report.
 */
class DiffCorpusTest {

    static Path corpus() {
        return Path.of(System.getProperty("gemulator.repo", "..")).resolve("conformance").resolve("diff");
    }

    @TestFactory
    Stream<DynamicTest> everyRecordedScenarioPrintsTheKernelsOutputByteForByte() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(corpus())) {
            files = s.filter(p -> p.toString().endsWith(".gem")).sorted().toList();
        }
        assertTrue(files.size() >= 20, "the corpus " + corpus() + " holds " + files.size() + " scenarios");
        return files.stream().map(gem -> DynamicTest.dynamicTest(gem.getFileName().toString(), () -> {
            String text = Files.readString(gem, StandardCharsets.UTF_8);
            String expected = Files.readString(Path.of(gem.toString().replaceAll("\\.gem$", ".expected")),
                    StandardCharsets.UTF_8);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
                new Runner(new Machine(), out).run(Parser.parse(gem.toString(), text));
            }
            assertEquals(expected, bytes.toString(StandardCharsets.UTF_8), "output of " + gem.getFileName());
        }));
    }
}
