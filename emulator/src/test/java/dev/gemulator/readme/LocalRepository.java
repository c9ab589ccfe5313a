package dev.gemulator.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private Maven local repository under target/ that holds this build's
 * gemulator-parent, gemulator-proto and gemulator-client exactly as
 * {@code mvn install} publishes them (their poms and jars), so that a
 * consumer project can be built against them without ~/.m2's copy of
 * dev.gemulator, which other builds on this machine write too. Everything
 * else (protobuf, Netty, Maven's plugins) comes from ~/.m2 read as a remote
 * repository with snapshots off, or from Maven Central when ~/.m2 lacks it.
 */
final class LocalRepository {
    static final String VERSION = "0.1.0-SNAPSHOT";

    /** The repository root (the module's surefire configuration names it). */
    static Path repo(String rel) {
        return Path.of(System.getProperty("gemulator.repo", "..")).toAbsolutePath().normalize().resolve(rel);
    }

    private static final Path TARGET = Path.of("target").toAbsolutePath();
    static final Path REPOSITORY = TARGET.resolve("consumer-repo");
    static final Path SETTINGS = TARGET.resolve("consumer-settings.xml");
    private static boolean prepared;

    private LocalRepository() {
    }

    /** Installs the artifacts once per test JVM (the jars the reactor built before this module's tests). */
    static synchronized void prepare() throws Exception {
        if (prepared) {
            return;
        }
        Path ours = REPOSITORY.resolve("dev/gemulator");
        if (Files.exists(ours)) {
            try (Stream<Path> s = Files.walk(ours)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(REPOSITORY);
        String m2 = Path.of(System.getProperty("user.home"), ".m2", "repository").toUri().toString();
        // ~/.m2 read as a remote, before Maven Central (the super-POM's, still there after it); snapshots off,
        // so dev.gemulator comes only from what is installed below
        String repo = "<id>home-m2</id><url>" + m2 + "</url><snapshots><enabled>false</enabled></snapshots>";
        Files.writeString(SETTINGS, """
                <settings>
                  <profiles><profile><id>private</id>
                    <repositories><repository>%s</repository></repositories>
                    <pluginRepositories><pluginRepository>%s</pluginRepository></pluginRepositories>
                  </profile></profiles>
                  <activeProfiles><activeProfile>private</activeProfile></activeProfiles>
                </settings>
                """.formatted(repo, repo));
        install(repo("pom.xml"), repo("pom.xml"));
        for (String module : List.of("proto", "client")) {
            Path jar = repo(module + "/target/gemulator-" + module + "-" + VERSION + ".jar");
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException(jar + " is missing: build the reactor (./gemulator test) so that "
                        + module + " is packaged before this test runs");
            }
            install(jar, repo(module + "/pom.xml"));
        }
        prepared = true;
    }

    private static void install(Path file, Path pom) throws Exception {
        Ran r = mvn(TARGET, false, "org.apache.maven.plugins:maven-install-plugin:3.1.3:install-file",
                "-Dfile=" + file, "-DpomFile=" + pom);
        assertEquals(0, r.status(), "installing " + file + ":\n" + r.output());
    }

    /** What a command printed (stdout and stderr together) and its exit status. */
    record Ran(int status, String output) {
    }

    /** The command line that runs Maven on the private repository (offline: nothing may be fetched). */
    static List<String> mvnCommand(boolean offline) {
        List<String> cmd = new ArrayList<>(List.of("mvn", "-B", "-q", "-ntp", "-s", SETTINGS.toString(),
                "-Dmaven.repo.local=" + REPOSITORY));
        if (offline) {
            cmd.add("-o");
        }
        return cmd;
    }

    static Ran mvn(Path dir, boolean offline, String... args) throws IOException, InterruptedException {
        List<String> cmd = mvnCommand(offline);
        cmd.addAll(List.of(args));
        return run(dir, cmd, 600);
    }

    /** Runs a command with this JVM's JDK first on PATH, as JAVA_HOME. */
    static Ran run(Path dir, List<String> cmd, long timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        environment(pb);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(cmd + " did not finish in " + timeoutSeconds + " s");
        }
        return new Ran(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** JAVA_HOME and PATH for a child: this JVM's JDK (21 or newer), Maven's own noise off. */
    static void environment(ProcessBuilder pb) {
        String home = System.getProperty("java.home");
        pb.environment().put("JAVA_HOME", home);
        pb.environment().put("PATH", home + "/bin:" + System.getenv("PATH"));
        if (Runtime.version().feature() >= 23) {
            pb.environment().put("MAVEN_OPTS", "--sun-misc-unsafe-memory-access=allow");
        }
    }
}
