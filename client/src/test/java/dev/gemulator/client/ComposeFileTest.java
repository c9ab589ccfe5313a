package dev.gemulator.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Main;
import dev.gemulator.client.load.ClientMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;

/**
 * docker-compose.yml parses as YAML with the shape Compose wants, every
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

    private static Map<String, Object> yaml(String rel) throws Exception {
        Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(repo(rel)));
        return map(doc, rel);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String what) {
        return (Map<String, Object>) assertInstanceOf(Map.class, o, what + " is a mapping");
    }

    private static List<String> strings(Object o, String what) {
        List<?> list = assertInstanceOf(List.class, o, what + " is a list");
        List<String> out = new ArrayList<>();
        for (Object item : list) {
            out.add(assertInstanceOf(String.class, item, what + " holds strings: " + item));
        }
        return out;
    }

    private static Map<String, Object> services() throws Exception {
        return map(yaml("docker-compose.yml").get("services"), "services");
    }

    private static Map<String, Object> service(String name) throws Exception {
        return map(services().get(name), name);
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
        Map<String, Object> services = services();
        assertEquals(List.of("server", "client-a", "client-b", "free-server", "load", "prometheus"),
                List.copyOf(services.keySet()));
        assertEquals(List.of("client", "--host", "server", "--port", "7070", "--proc", "A",
                "scenarios/export_vs_gem_close_2proc.gem"), strings(service("client-a").get("command"), "command"));
        for (var e : services.entrySet()) {
            Map<String, Object> s = map(e.getValue(), e.getKey());
            assertTrue(s.containsKey("image"), e.getKey() + " names its image");
            if (s.containsKey("depends_on")) {
                for (String d : strings(s.get("depends_on"), e.getKey() + " depends_on")) {
                    assertTrue(services.containsKey(d), e.getKey() + " depends on a service: " + d);
                }
            }
            if (!"gemulator".equals(s.get("image"))) {
                continue;
            }
            List<String> command = strings(s.get("command"), e.getKey() + " command");
            parse(command);
            for (String arg : command) {
                if (arg.endsWith(".gem")) {
                    assertTrue(Files.isRegularFile(repo(arg)), e.getKey() + " names " + arg);
                }
            }
        }
        assertEquals(".", service("server").get("build"), "one service builds the image the others use");
        assertEquals("load", strings(service("load").get("command"), "load").getFirst());
        assertEquals(List.of("load"), strings(service("load").get("profiles"), "profiles"));
        assertEquals(List.of("metrics"), strings(service("prometheus").get("profiles"), "profiles"),
                "Prometheus is optional");
    }

    @Test
    void prometheusScrapesTheMetricsPortTheServerListensOnForOtherContainers() throws Exception {
        List<String> server = strings(service("free-server").get("command"), "free-server command");
        String metricsPort = server.get(server.indexOf("--metrics-port") + 1);
        assertEquals("0.0.0.0", server.get(server.indexOf("--metrics-bind") + 1), "reachable from the prometheus container");
        Map<String, Object> prometheus = service("prometheus");
        assertTrue(prometheus.get("image").toString().startsWith("prom/prometheus:v"), "a pinned Prometheus image");
        String mount = strings(prometheus.get("volumes"), "volumes").getFirst();
        assertTrue(mount.endsWith(":/etc/prometheus/prometheus.yml:ro"), mount);
        String config = mount.substring(0, mount.indexOf(':'));
        Map<String, Object> scrape = map(((List<?>) yaml(config).get("scrape_configs")).getFirst(), "scrape config");
        Map<String, Object> targets = map(((List<?>) scrape.get("static_configs")).getFirst(), "static config");
        assertEquals(List.of("free-server:" + metricsPort), strings(targets.get("targets"), "targets"));
        assertEquals(List.of("free-server"), strings(prometheus.get("depends_on"), "depends_on"));
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
