package dev.gemulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.client.wire.WireClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's token comes from a file or the environment, never the
 * command line (which every local user reads in /proc/PID/cmdline); the
 * commands that connect take it the same way.
 */
@Tag("slow")
class TokenTest {
    @TempDir
    Path dir;

    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    @Test
    void aServerTakesItsTokenFromTheEnvironmentAndClientsFromAFile() throws Exception {
        int port;
        try (var probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> command = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-cp", classPath(),
                "dev.gemulator.cli.Main", "serve", "--port", String.valueOf(port)));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put(Tokens.ENVIRONMENT, "open sesame");
        Process server = pb.start();
        var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try {
            BufferedReader said = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = said.readLine()) != null && !line.startsWith("gemulator serving")) {
                // wait until it listens
            }
            assertTrue(line != null && line.contains("token required"), String.valueOf(line));
            assertTrue(!ProcessHandle.of(server.pid()).orElseThrow().info().commandLine().orElse("").contains("sesame"),
                    "the token is not on the server's command line");
            WireClient wrong = new WireClient(group, "127.0.0.1", port, "W", "open sesam");
            assertEquals("refused: wrong token", assertThrows(WireClient.ConnectionLost.class, wrong::mode).getMessage());
            wrong.close();
            Path file = dir.resolve("token");
            Files.writeString(file, "open sesame\n");
            var out = new java.io.ByteArrayOutputStream();
            var saved = System.out;
            System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                assertEquals(0, Main.execute("status", "--port", String.valueOf(port), "--token-file", file.toString()));
                assertEquals(2, Main.execute("status", "--port", String.valueOf(port), "--token", "open sesame"),
                        "a token on the command line is refused");
                assertEquals(2, Main.execute("status", "--port", String.valueOf(port), "--token-file",
                        dir.resolve("missing").toString()));
            } finally {
                System.setOut(saved);
            }
            assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("mode free"), out.toString(StandardCharsets.UTF_8));
        } finally {
            server.destroy();
            server.waitFor(30, TimeUnit.SECONDS);
            group.shutdownGracefully();
        }
    }
}
