package dev.gemulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * docker-compose.yml parses (in the block style it is written in) and every
 * command it gives the gemulator image is one the command line accepts,
 * with the scenario files it names present; the Dockerfile copies only what
 * exists. Docker itself is not needed.
 */
class ComposeFileTest {
    private static Path repo(String rel) {
        return Path.of(System.getProperty("gemulator.repo", "..")).resolve(rel);
    }

    /** service name to its keys (the value text of each key on the service's own lines). */
    private static Map<String, Map<String, String>> services(List<String> lines) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        boolean inServices = false;
        String service = null;
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
                out.get(service).put(m.group(1), m.group(2));
            }
        }
        return out;
    }

    private static List<String> flowList(String text) {
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

    @Test
    void everyCommandInTheComposeFileIsOneGemulatorAccepts() throws Exception {
        var services = services(Files.readAllLines(repo("docker-compose.yml")));
        assertTrue(services.keySet().containsAll(List.of("server", "client-a", "client-b")), services.keySet().toString());
        assertEquals(List.of("client", "--host", "server", "--port", "7070", "--proc", "A",
                "scenarios/export_vs_gem_close_2proc.gem"), flowList(services.get("client-a").get("command")));
        for (var e : services.entrySet()) {
            var keys = e.getValue();
            assertTrue(keys.containsKey("image") || keys.containsKey("build"), e.getKey() + " has an image");
            List<String> command = flowList(keys.get("command"));
            assertTrue(command.size() >= 2, e.getKey() + ": " + command);
            new CommandLine(new Main()).parseArgs(command.toArray(String[]::new)); // throws on an unknown option
            for (String arg : command) {
                if (arg.endsWith(".gem")) {
                    assertTrue(Files.isRegularFile(repo(arg)), e.getKey() + " names " + arg);
                }
            }
            if (keys.containsKey("depends_on")) {
                for (String d : keys.get("depends_on").replaceAll("[\\[\\]\\s]", "").split(",")) {
                    assertTrue(services.containsKey(d), e.getKey() + " depends on a service: " + d);
                }
            }
        }
    }

    @Test
    void theDockerfileCopiesOnlyWhatExistsAndRunsTheEmulatorJar() throws Exception {
        List<String> lines = Files.readAllLines(repo("Dockerfile"));
        for (String l : lines) {
            if (l.startsWith("COPY ") && !l.contains("--from=")) {
                String source = l.split("\\s+")[1];
                assertTrue(Files.exists(repo(source)), "COPY " + source);
            }
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("FROM eclipse-temurin:21-jre")), "a JRE 21 base");
        assertTrue(lines.stream().anyMatch(l -> l.contains("emulator/target/gemulator.jar")));
    }
}
