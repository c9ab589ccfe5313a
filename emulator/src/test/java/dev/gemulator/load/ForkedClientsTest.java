package dev.gemulator.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * load --fork waits for its client JVMs however long their clean-up takes,
 * says how many are done meanwhile, and reports what those that finished
 * well wrote, naming those that did not.
 */
@Tag("slow")
class ForkedClientsTest {
    @TempDir
    Path dir;

    private Process sh(String script) throws Exception {
        return new ProcessBuilder("sh", "-c", script).start();
    }

    @Test
    void slowClientsAreWaitedForWithProgressAndFailedOnesAreNamedNotFatal() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        Path c = dir.resolve("c");
        List<Process> clients = List.of(
                sh("echo 'ops 5' > " + a + "; echo 'seconds 1.0' >> " + a),
                sh("sleep 2; echo 'ops 7' > " + b + "; echo 'seconds 1.5' >> " + b),
                sh("sleep 1; exit 3"));
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        ForkedClients.Outcome out = ForkedClients.await(clients, List.of(a, b, c),
                new PrintStream(said, true, StandardCharsets.UTF_8), 300);
        String progress = said.toString(StandardCharsets.UTF_8);
        assertTrue(progress.contains("of 3 client JVMs done after"), progress);
        assertTrue(progress.contains("waiting for 1 (pid " + clients.get(1).pid() + ")"), progress);
        assertEquals(2, out.parts().size(), "the slow one is waited for");
        assertEquals(List.of("client JVM 2 (pid " + clients.get(2).pid() + ") failed with exit 3"), out.failures());
        LoadGenerator.Result merged = LoadGenerator.merge(out.parts(), true, "");
        assertEquals(12, merged.ops(), "what the others wrote is kept");
    }
}
