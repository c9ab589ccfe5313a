package dev.gemulator.race;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A race's command that names plain {@code java} runs the JDK gemulator runs
 * on (21 or newer, as the client library needs), not whatever java is first
 * on PATH; any other command runs as given.
 */
class ProgramCommandTest {

    @Test
    void plainJavaIsTheJdkThisRunsOn() {
        Path ours = Path.of(System.getProperty("java.home"), "bin", "java");
        assertEquals(List.of(ours.toString(), "-cp", "app.jar", "Main"),
                RaceRunner.Job.withOurJava(List.of("java", "-cp", "app.jar", "Main")));
    }

    @Test
    void otherCommandsRunAsGiven() {
        for (List<String> c : List.of(List.of("/usr/bin/java", "Main"), List.of("./race_threads"),
                List.of("sh", "-c", "java Main"), List.of("javac", "X.java"))) {
            assertEquals(c, RaceRunner.Job.withOurJava(c));
        }
    }
}
