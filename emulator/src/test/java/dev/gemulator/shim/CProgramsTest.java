package dev.gemulator.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.server.ServerMetrics;
import dev.gemulator.server.Simulation;
import dev.gemulator.transport.GemulatorServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The project's C programs (shim/tests) on Debian's libdrm, each several
 * real processes, run through the C shim against a server in this JVM;
 * Debian's drmdevice and IGT's vgem_mmap benchmark too. Every program must
 * exit 0 having printed its checks, and the device must be empty once its
 * processes are gone (the last close anywhere released everything).
 *
 * <p>The setup builds the shim and the programs with the machine's gcc
 * (./gemulator test installs gcc, libdrm-dev, libdrm-tests and
 * intel-gpu-tools on Debian when they are missing).
 */
@Tag("slow")
class CProgramsTest {
    private static final Path REPO = CBuild.REPO;
    private static final Path OUT = REPO.resolve("emulator/target/c-tests");
    private static final List<String> PROGRAMS = List.of("flink_share", "prime_scm", "fork_master", "dup_exec",
            "mmap_coherence", "lazy_2g", "emfile", "fence_poll", "seed_emfile", "sigbus", "module", "../examples/share");
    private static Path shim;

    @TempDir
    Path dir;

    @BeforeAll
    static void build() throws Exception {
        shim = CBuild.shim(OUT);
        CBuild.programs(OUT, PROGRAMS, "-ldl");
    }

    /** What a program printed and how it ended. */
    private record Run(int exit, String output) {
        long oks() {
            return output.lines().filter(l -> l.startsWith("ok ")).count();
        }
    }

    /** A server with a Unix socket in the test's directory, the checkers' log kept. */
    private final class Server implements AutoCloseable {
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        final ByteArrayOutputStream trace = new ByteArrayOutputStream();
        final ServerMetrics metrics = new ServerMetrics();
        final Simulation simulation;
        final GemulatorServer server;
        final Path socket = dir.resolve("s.sock");

        Server(Profile profile) throws Exception {
            this(profile, dev.gemulator.server.Limits.DEFAULT, null);
        }

        /** With {@code limits} on the device and its pages in {@code shm} (null: a fresh directory under /dev/shm). */
        Server(Profile profile, dev.gemulator.server.Limits limits, Path shm) throws Exception {
            simulation = new Simulation(profile, 4096, trace, new PrintStream(log, true, StandardCharsets.UTF_8), limits);
            simulation.metrics(metrics);
            server = GemulatorServer.start("127.0.0.1", 0, simulation, GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null);
            server.listenUnix(socket, shm);
        }

        /** Runs a command with the shim preloaded; a program that hangs is killed with its children. */
        Run run(String... command) throws Exception {
            ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).directory(OUT.toFile());
            b.environment().put("GEMULATOR_SOCKET", socket.toString());
            b.environment().put("LD_PRELOAD", shim.toString());
            b.environment().put("GEMULATOR_SHIM_DEBUG", "1");
            Process p = b.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "(output lost: " + e + ")";
                }
            });
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
                throw new AssertionError(String.join(" ", command) + " did not finish in 120 s:\n" + out.get());
            }
            return new Run(p.exitValue(), out.get(10, TimeUnit.SECONDS));
        }

        /** The device's debugfs views, from the simulation thread. */
        String debugfs() throws Exception {
            CompletableFuture<String> text = new CompletableFuture<>();
            assertTrue(simulation.debugfs(text::complete));
            return text.get(10, TimeUnit.SECONDS);
        }

        /** Waits until the device holds no object, drm file or dma-buf (the processes' exits are in). */
        void assertEmpty() throws Exception {
            String d = "";
            for (int i = 0; i < 100; i++) {
                d = debugfs();
                if (d.contains("0 objects, 0 bytes, 0 bytes resident, 0 flink names, 0 clients")
                        && d.contains("Total 0 objects, 0 bytes")) {
                    return;
                }
                Thread.sleep(50);
            }
            throw new AssertionError("the device is not empty after the program:\n" + d);
        }

        @Override
        public void close() {
            server.close();
            metrics.close();
        }
    }

    /** Runs one of the project's programs on a fresh 6.x server and checks it and the device afterwards. */
    private Run program(String name, int oks) throws Exception {
        try (Server s = new Server(Profile.MODERN)) {
            Run r = s.run(OUT.resolve(name).toString());
            assertEquals(0, r.exit(), name + ":\n" + r.output());
            assertFalse(r.output().contains("FAIL"), r.output());
            assertEquals(oks, r.oks(), name + " prints " + oks + " checks:\n" + r.output());
            s.assertEmpty();
            assertTrue(s.simulation.findings().isEmpty(), "no report on 6.x: " + s.simulation.findings());
            return r;
        }
    }

    @Test
    void twoProcessesShareABufferByFlink() throws Exception {
        program("flink_share", 4);
    }

    @Test
    void aDmaBufPassedBySCMRightsIsImportedByAProcessThatSharesNoFile() throws Exception {
        program("prime_scm", 5);
    }

    @Test
    void aForkedChildWithTheInheritedDrmFdIsAnotherProcessForTheMaster() throws Exception {
        program("fork_master", 4);
    }

    @Test
    void dup2Dup3AndExecKeepTheFileAndCloseWhatIsCloseOnExec() throws Exception {
        program("dup_exec", 5);
    }

    @Test
    void storesAreLoadsAcrossThreeProcessesThroughBothKindsOfMapping() throws Exception {
        program("mmap_coherence", 4);
    }

    @Test
    void aTwoGibObjectCostsOnlyTheTouchedPages() throws Exception {
        program("lazy_2g", 3);
    }

    /** IGT's vgem_basic unload, in small: libkmod's unload of vgem sees the module's references. */
    @Test
    void theModuleUnloadsOnlyWithoutReferencesAndTheDeviceGoesWithIt() throws Exception {
        program("module", 3);
    }

    @Test
    void emfileComesWhenTheRealTableIsFull() throws Exception {
        program("emfile", 3);
    }

    /** Takes vgem's 10 s: a fence nobody signals expires under poll on the server's clock. */
    @Test
    void fencesWakePollersAndOneNobodySignalsExpiresAfterTenSeconds() throws Exception {
        program("fence_poll", 6);
    }

    @Test
    void debiansDrmdeviceFindsThePlatformDeviceWithBothNodes() throws Exception {
        try (Server s = new Server(Profile.MODERN)) {
            Run r = s.run("drmdevice");
            assertEquals(0, r.exit(), r.output());
            assertTrue(r.output().contains("--- Devices reported 1 ---"), r.output());
            assertTrue(r.output().contains("nodes[0] /dev/dri/card0") && r.output().contains("nodes[2] /dev/dri/renderD128"),
                    r.output());
            assertTrue(r.output().contains("fullname\tvgem"), r.output());
            s.assertEmpty();
        }
    }

    @Test
    void igtsVgemMmapBenchmarkRunsInEveryMode() throws Exception {
        Path bench = Path.of("/usr/libexec/igt-gpu-tools/benchmarks/vgem_mmap");
        assertTrue(Files.isExecutable(bench), bench + " is missing (Debian's intel-gpu-tools; ./gemulator test installs it)");
        try (Server s = new Server(Profile.MODERN)) {
            for (String mode : List.of("read", "write", "clear", "fault")) {
                Run r = s.run(bench.toString(), "-d", mode, "-r", "1");
                assertEquals(0, r.exit(), mode + ": " + r.output());
                assertTrue(Pattern.compile("(?m)^ *[0-9]+\\.[0-9]{3}$").matcher(r.output()).find(),
                        mode + " prints its MB/s: " + r.output());
            }
            s.assertEmpty();
        }
    }

    /** The README's example, as ./gemulator exec runs it (the launcher builds the shim itself). */
    @Test
    void theLauncherRunsTheReadmesExampleAgainstAServer() throws Exception {
        try (Server s = new Server(Profile.MODERN)) {
            ProcessBuilder b = new ProcessBuilder(REPO.resolve("gemulator").toString(), "exec", "--socket",
                    s.socket.toString(), "--", OUT.resolve("share").toString()).redirectErrorStream(true);
            Process p = b.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            assertTrue(out.contains("the other process wrote 42"), out);
            s.assertEmpty();
        }
        String example = Files.readString(REPO.resolve("shim/examples/share.c"));
        assertTrue(Files.readString(REPO.resolve("README.md")).contains(example.substring(example.indexOf("int main(void)"))),
                "the README shows shim/examples/share.c as it is");
    }

    /**
     * The device's memory limit at fault time: with the pages in a tmpfs as
     * large as the limit (1 MiB here; ./gemulator serve mounts one of the
     * device's size when run as root), a store that needs a page past it
     * gets SIGBUS, as shmem does. Root only: the tmpfs is mounted (and
     * unmounted) under this test's directory.
     */
    @Test
    void aStorePastTheDeviceMemoryGetsSigbus() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("0".equals(CBuild.command(List.of("id", "-u")).trim()), "needs root to mount a tmpfs");
        Path shm = Files.createDirectories(dir.resolve("shm"));
        CBuild.command(List.of("mount", "-t", "tmpfs", "-o", "size=1M,mode=0711", "gemulator-test", shm.toString()));
        try {
            var limits = new dev.gemulator.server.Limits(1024, 1024, 1 << 20, 64, 1 << 20, 1 << 20);
            try (Server s = new Server(Profile.MODERN, limits, shm)) {
                Run r = s.run(OUT.resolve("sigbus").toString());
                assertEquals(0, r.exit(), r.output());
                var m = Pattern.compile("SIGBUS after ([0-9]+) pages").matcher(r.output());
                assertTrue(m.find(), r.output());
                int pages = Integer.parseInt(m.group(1));
                assertTrue(pages > 200 && pages <= 256, "about 1 MiB of pages before SIGBUS: " + pages);
                s.assertEmpty();
            }
        } finally {
            CBuild.command(List.of("umount", shm.toString()));
        }
    }

    /**
     * A kernel bug met by a C program is reported as for any client: the
     * server's log and findings (status), the trace, the metrics.
     */
    @Test
    void checkerReportsFromAProgramBehindTheShimReachStatusTraceAndMetrics() throws Exception {
        try (Server s = new Server(Profile.byName("seed"))) {
            Run r = s.run(OUT.resolve("seed_emfile").toString());
            assertEquals(0, r.exit(), r.output());
            assertEquals(2, r.oks(), r.output());
            String findings = "";
            for (int i = 0; i < 100 && !findings.contains("refcount-underflow"); i++) {
                findings = s.simulation.findings().stream().map(Object::toString).collect(java.util.stream.Collectors.joining(", "));
                Thread.sleep(50);
            }
            assertTrue(findings.contains("refcount-underflow"), "the seed profile's S-6 underflow: " + findings);
            String log = s.log.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("REFCOUNT_UNDERFLOW") && log.contains("drm_gem_dmabuf_release"), log);
            assertTrue(s.metrics.scrape().contains("gemulator_reports_total{kind=\"refcount-underflow\"}"), s.metrics.scrape());
            s.server.close();
            String trace = s.trace.toString(StandardCharsets.ISO_8859_1);
            assertTrue(trace.contains("refcount-underflow") && trace.contains("seed_emfile"), "the trace has the report");
        }
        try (Server s = new Server(Profile.MODERN)) {
            Run r = s.run(OUT.resolve("seed_emfile").toString());
            assertEquals(0, r.exit(), r.output());
            s.assertEmpty();
            assertTrue(s.simulation.findings().isEmpty(), "6.x reports nothing: " + s.simulation.findings());
        }
    }
}
