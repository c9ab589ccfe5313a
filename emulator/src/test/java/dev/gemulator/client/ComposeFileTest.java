package dev.gemulator.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;

/**
 * docker-compose.yml parses as YAML with the shape Compose wants, Debian's
 * docker-compose accepts it ({@code config}), every service is built from
 * the Dockerfile or pulled by a pinned public name, servers have
 * healthchecks that clients wait for, traces go to a volume, every command
 * it gives the gemulator image is one the image's entry point accepts,
 * every file it names exists, and the Prometheus it may start scrapes the
 * port the server serves its metrics on. The Dockerfile copies only what
 * exists and .dockerignore keeps build output out of the context. Docker's
 * engine is not needed.
 */
@Tag("slow")
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
        new CommandLine(new Main()).parseArgs(command.toArray(String[]::new));
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
            boolean ours = "gemulator:local".equals(s.get("image"));
            assertTrue(ours ? ".".equals(s.get("build")) : s.get("image").toString().matches("[a-z/]+:v[0-9.]+"),
                    e.getKey() + ": every gemulator service builds the image, every other pulls a pinned one: " + s);
            if (ours) {
                assertTrue(strings(s.get("volumes"), "volumes").contains("./gemulator-out:/out"), e.getKey() + " writes to ./gemulator-out");
            }
            if (s.containsKey("depends_on")) {
                for (var d : map(s.get("depends_on"), e.getKey() + " depends_on").entrySet()) {
                    assertTrue(services.containsKey(d.getKey()), e.getKey() + " depends on a service: " + d);
                    assertEquals(Map.of("condition", "service_healthy"), d.getValue(), e.getKey() + " waits for health");
                    assertTrue(map(services.get(d.getKey()), d.getKey()).containsKey("healthcheck"),
                            d.getKey() + " has a healthcheck");
                }
            }
            if (s.containsKey("healthcheck")) {
                List<String> test = strings(map(s.get("healthcheck"), "healthcheck").get("test"), "test");
                assertEquals("CMD", test.getFirst());
                assertEquals("/app/gemulator", test.get(1));
                parse(test.subList(2, test.size()));
                List<String> command = strings(s.get("command"), "command");
                assertEquals(command.get(command.indexOf("--port") + 1), test.get(test.indexOf("--port") + 1),
                        e.getKey() + "'s healthcheck asks the port it serves");
            }
            if (!ours) {
                continue;
            }
            List<String> command = strings(s.get("command"), e.getKey() + " command");
            parse(command);
            for (String arg : command) {
                if (arg.endsWith(".gem")) {
                    assertTrue(Files.isRegularFile(repo(arg)), e.getKey() + " names " + arg);
                }
                if (arg.endsWith(".trace") || arg.endsWith(".json")) {
                    assertTrue(arg.startsWith("/out/"), e.getKey() + " writes " + arg + " to the volume");
                }
            }
        }
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
        assertEquals(java.util.Set.of("free-server"), map(prometheus.get("depends_on"), "depends_on").keySet());
    }

    @Test
    void theDockerfileCopiesOnlyWhatExistsAndItsEntryPointRunsTheEmulatorsJar() throws Exception {
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
        assertEquals(List.of("/src/emulator/target/gemulator.jar"), built);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("FROM eclipse-temurin:21-jre")), "a JRE 21 base");
        assertTrue(lines.contains("ENTRYPOINT [\"/app/gemulator\"]"));
        String entry = Files.readString(repo("docker/gemulator"));
        assertTrue(Files.isExecutable(repo("docker/gemulator")));
        assertTrue(entry.contains("exec java") && entry.contains("/app/gemulator.jar"), entry);
        List<String> ignored = Files.readAllLines(repo(".dockerignore"));
        assertTrue(ignored.contains("**/target/") && ignored.contains(".git/") && ignored.contains("gemulator-out/"), ignored.toString());
    }

    /**
     * Debian's docker-compose (1.29) reads the file as Compose would and
     * prints it resolved; the launcher's {@code test} installs it. Skipped
     * only with {@code -Dgemulator.compose=skip}.
     */
    @Test
    void debiansDockerComposeAcceptsTheFile() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse("skip".equals(System.getProperty("gemulator.compose")),
                "-Dgemulator.compose=skip");
        Path compose = Path.of("/usr/bin/docker-compose");
        assertTrue(Files.isExecutable(compose), "docker-compose is not installed: ./gemulator test installs Debian's"
                + " (apt-get install docker-compose), or pass -Dgemulator.compose=skip");
        Process p = new ProcessBuilder(compose.toString(), "-f", repo("docker-compose.yml").toString(), "config")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        for (String service : List.of("server:", "client-a:", "client-b:", "free-server:", "load:", "prometheus:")) {
            assertTrue(out.contains("  " + service), service + " in\n" + out);
        }
        assertTrue(out.contains("condition: service_healthy") && out.contains("image: gemulator:local"), out);
    }
}
