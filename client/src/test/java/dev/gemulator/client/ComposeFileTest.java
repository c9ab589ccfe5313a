package dev.gemulator.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Main;
import dev.gemulator.client.load.ClientMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docker-compose.yml parses (in the block style it is written in), every
 * command it gives the gemulator image is one the image's entry point
 * accepts (the emulator's command line, or the client jar's for
 * {@code load}), every file it names exists, and the Prometheus it may start
 * scrapes the port the server serves its metrics on. The Dockerfile copies
 * only what exists. Docker itself is not needed. This test lives in the
 * client module because only it sees both command lines.
 */
class ComposeFileTest {
    private static Path repo(String rel) {
        return Path.of(System.getProperty("gemulator.repo", "..")).resolve(rel);
    }

    /** A service's keys: the text after the key on its line, and the "- item" lines under it. */
    record Key(String value, List<String> items) {
    }

    /** service name to its keys. */
    static Map<String, Map<String, Key>> services(List<String> lines) {
        Map<String, Map<String, Key>> out = new LinkedHashMap<>();
        boolean inServices = false;
        String service = null;
        Key key = null;
        for (String raw : lines) {
            assertFalse(raw.contains("\t"), "YAML has no tabs: " + raw);
            String line = raw.replaceAll("\\s+#.*$", "");
            if (line.isBlank() || line.trim().startsWith("#")) {
                continue;
            }
            int indent = line.length() - line.stripLeading().length();
            assertEquals(0, indent % 2, "indentation by two: " + raw);
            if (indent == 0) {
                inServices = line.equals("services:");
                continue;
            }
            if (!inServices) {
                continue;
            }
            Matcher m = Pattern.compile("^\\s*([A-Za-z0-9_-]+):\\s*(.*)$").matcher(line);
            if (indent == 2) {
                assertTrue(m.matches() && m.group(2).isEmpty(), "a service name: " + raw);
                service = m.group(1);
                out.put(service, new LinkedHashMap<>());
            } else if (indent == 4) {
                assertTrue(m.matches(), "a key of " + service + ": " + raw);
                key = new Key(m.group(2), new ArrayList<>());
                out.get(service).put(m.group(1), key);
            } else {
                assertTrue(indent == 6 && line.trim().startsWith("- ") && key != null && key.value().isEmpty(),
                        "an item of a list of " + service + ": " + raw);
                key.items().add(unquote(line.trim().substring(2).trim()));
            }
        }
        return out;
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    static List<String> flowList(String text) {
        assertTrue(text.startsWith("[") && text.endsWith("]"), "a flow list: " + text);
        String inner = text.substring(1, text.length() - 1);
        Pattern quoted = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");
        assertTrue(quoted.matcher(inner).replaceAll("").matches("[\\s,]*"), "only quoted strings in " + text);
        List<String> items = new ArrayList<>();
        Matcher m = quoted.matcher(inner);
        while (m.find()) {
            items.add(m.group(1));
        }
        return items;
    }

    /** Parses a command as the image's entry point would run it; throws on an unknown command or option. */
    private static void parse(List<String> command) {
        String[] args = command.toArray(String[]::new);
        if (command.getFirst().equals("load")) {
            new CommandLine(new ClientMain()).parseArgs(args);
        } else {
            new CommandLine(new Main()).parseArgs(args);
        }
    }

    @Test
    void everyCommandInTheComposeFileIsOneTheImageAccepts() throws Exception {
        var services = services(Files.readAllLines(repo("docker-compose.yml")));
        assertTrue(services.keySet().containsAll(List.of("server", "client-a", "client-b", "free-server", "load",
                "prometheus")), services.keySet().toString());
        assertEquals(List.of("client", "--host", "server", "--port", "7070", "--proc", "A",
                "scenarios/export_vs_gem_close_2proc.gem"), flowList(services.get("client-a").get("command").value()));
        for (var e : services.entrySet()) {
            var keys = e.getValue();
            assertTrue(keys.containsKey("image") || keys.containsKey("build"), e.getKey() + " has an image");
            if (!keys.get("image").value().equals("gemulator")) {
                continue;
            }
            List<String> command = flowList(keys.get("command").value());
            assertTrue(command.size() >= 2, e.getKey() + ": " + command);
            parse(command);
            for (String arg : command) {
                if (arg.endsWith(".gem")) {
                    assertTrue(Files.isRegularFile(repo(arg)), e.getKey() + " names " + arg);
                }
            }
            if (keys.containsKey("depends_on")) {
                for (String d : keys.get("depends_on").value().replaceAll("[\\[\\]\\s]", "").split(",")) {
                    assertTrue(services.containsKey(d), e.getKey() + " depends on a service: " + d);
                }
            }
        }
        assertEquals("load", flowList(services.get("load").get("command").value()).getFirst());
    }

    @Test
    void prometheusScrapesTheMetricsPortTheServerListensOnForOtherContainers() throws Exception {
        var services = services(Files.readAllLines(repo("docker-compose.yml")));
        List<String> server = flowList(services.get("free-server").get("command").value());
        String metricsPort = server.get(server.indexOf("--metrics-port") + 1);
        assertEquals("0.0.0.0", server.get(server.indexOf("--metrics-bind") + 1), "reachable from the prometheus container");
        var prometheus = services.get("prometheus");
        assertTrue(prometheus.get("image").value().startsWith("prom/prometheus:"), "a pinned Prometheus image");
        String mount = prometheus.get("volumes").items().getFirst();
        String config = mount.substring(0, mount.indexOf(':'));
        assertTrue(mount.contains(":/etc/prometheus/prometheus.yml"), mount);
        String text = Files.readString(repo(config));
        assertTrue(text.contains("\"free-server:" + metricsPort + "\""), "scrapes free-server:" + metricsPort + ": " + text);
        assertTrue(services.get("prometheus").get("depends_on").value().contains("free-server"));
    }

    @Test
    void theDockerfileCopiesOnlyWhatExistsAndItsEntryPointRunsBothJars() throws Exception {
        List<String> lines = Files.readAllLines(repo("Dockerfile"));
        List<String> built = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("COPY ") && !l.contains("--from=")) {
                String source = l.split("\\s+")[1];
                assertTrue(Files.exists(repo(source)), "COPY " + source);
            } else if (l.startsWith("COPY --from=build ")) {
                built.add(l.split("\\s+")[2]);
            }
        }
        assertEquals(List.of("/src/emulator/target/gemulator.jar", "/src/client/target/gemulator-client.jar"), built);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("FROM eclipse-temurin:21-jre")), "a JRE 21 base");
        assertTrue(lines.contains("ENTRYPOINT [\"/app/gemulator\"]"));
        String entry = Files.readString(repo("docker/gemulator"));
        assertTrue(Files.isExecutable(repo("docker/gemulator")));
        assertTrue(entry.contains("load) exec java") && entry.contains("/app/gemulator-client.jar")
                && entry.contains("/app/gemulator.jar"), entry);
    }
}
