package dev.gemulator.bench;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Gemulator;
import dev.gemulator.kernel.Profile;
import dev.gemulator.server.Simulation;
import dev.gemulator.transport.GemulatorServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The C shim's benchmarks (issue 11), every ratio between figures measured
 * in the same run:
 *
 * <ul>
 * <li>memory: IGT's vgem_mmap (read, write) and the project's copy loop
 * through a dumb mapping of an object, against the same memcpy on malloc'd
 * memory (goal: 0.9 or more, the pages are real shared memory; vgem_mmap's
 * write copies from a malloc'd buffer it never wrote, so its baseline does
 * too);
 * <li>an ioctl round trip (GET_CAP) through the shim, p50 and p99, against
 * the Java client's over TCP and a plain C echo of a message of the same
 * size over a Unix socketpair;
 * <li>MAP_DUMB + mmap + munmap per second, and CREATE_DUMB + GEM_CLOSE per
 * second against the real kernel's figure in ../shared/oracle/README.md.
 * </ul>
 *
 * <p>The shim and bench/c/shim_bench.c are built with the machine's gcc
 * into bench/target/shim-bench; the server runs in this JVM. Usage:
 * {@code ./gemulator bench shim [--seconds S] [--ioctls N]}.
 */
public final class ShimBench {
    /** The real kernel's create_dumb 64x64x32 + gem_close (TCG, ns/op, low end), ../shared/oracle/README.md. */
    private static final double KERNEL_CREATE_CLOSE_NS = 37000;
    /** The real kernel's GET_CAP (the ioctl floor, TCG, ns/op, low end). */
    private static final double KERNEL_IOCTL_FLOOR_NS = 1320;

    private ShimBench() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = 1;
        int ioctls = 20_000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                case "--ioctls" -> ioctls = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path repo = Path.of(System.getProperty("gemulator.repo", ".")).toAbsolutePath().normalize();
        Path out = repo.resolve("bench/target/shim-bench");
        Files.createDirectories(out);
        Path shim = out.resolve("libgemulator.so");
        Path bench = out.resolve("shim_bench");
        build(repo, shim, bench);
        Path dir = Files.createTempDirectory("gemulator-shim-bench");
        Path socket = dir.resolve("s.sock");
        Simulation sim = new Simulation(Profile.MODERN, 4096, null, System.err);
        Map<String, Double> f = new LinkedHashMap<>();
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, sim, GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
                null)) {
            server.listenUnix(socket);
            f.putAll(run(socket, shim, bench.toString(), "copy", Double.toString(seconds)));
            Path igt = Path.of("/usr/libexec/igt-gpu-tools/benchmarks/vgem_mmap");
            if (Files.isExecutable(igt)) {
                for (String mode : List.of("read", "write")) {
                    String text = runText(socket, shim, igt.toString(), "-d", mode, "-r", "3");
                    double[] v = text.lines().map(String::trim).filter(l -> l.matches("[0-9.]+"))
                            .mapToDouble(Double::parseDouble).sorted().toArray();
                    if (v.length > 0) {
                        f.put("igt_" + mode, v[v.length / 2]);
                    }
                }
            }
            f.putAll(run(socket, shim, bench.toString(), "ioctl", Integer.toString(ioctls)));
            f.putAll(run(null, null, bench.toString(), "echo", Integer.toString(ioctls)));
            f.putAll(javaClient(server.port(), ioctls));
            f.putAll(run(socket, shim, bench.toString(), "mapcycle", Integer.toString(ioctls / 4)));
            f.putAll(run(socket, shim, bench.toString(), "createclose", Integer.toString(ioctls)));
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        print(f);
    }

    private static void print(Map<String, Double> f) {
        System.out.println("| measurement | value | against | ratio |");
        System.out.println("| --- | --- | --- | --- |");
        row("vgem_mmap -d read (IGT), MB/s", f.get("igt_read"), "memcpy from malloc'd memory", f.get("malloc_read"));
        row("vgem_mmap -d write (IGT), MB/s", f.get("igt_write"), "its copy (from a never-written malloc'd buffer) to malloc'd memory",
                f.get("malloc_write_untouched"));
        row("memcpy from a dumb mapping, MB/s", f.get("map_read"), "the same from malloc'd memory", f.get("malloc_read"));
        row("memcpy to a dumb mapping, MB/s", f.get("map_write"), "the same to malloc'd memory", f.get("malloc_write"));
        rowInverse("GET_CAP through the shim, p50 ns", f.get("ioctl_p50"), "the Java client's (TCP)", f.get("java_p50"));
        rowInverse("GET_CAP through the shim, p99 ns", f.get("ioctl_p99"), "the Java client's (TCP)", f.get("java_p99"));
        rowInverse("GET_CAP through the shim, p50 ns", f.get("ioctl_p50"), "a C echo over a socketpair", f.get("echo_p50"));
        rowInverse("GET_CAP through the shim, p99 ns", f.get("ioctl_p99"), "a C echo over a socketpair", f.get("echo_p99"));
        rowInverse("GET_CAP through the shim, p50 ns", f.get("ioctl_p50"), "the real kernel's (TCG, oracle)",
                KERNEL_IOCTL_FLOOR_NS);
        row("MAP_DUMB + mmap + munmap, per second", f.get("mapcycle"), "", null);
        row("CREATE_DUMB + GEM_CLOSE, per second", f.get("createclose"), "the real kernel's (TCG, oracle)",
                1e9 / KERNEL_CREATE_CLOSE_NS);
    }

    private static void row(String what, Double v, String against, Double base) {
        if (v == null) {
            return;
        }
        System.out.printf(Locale.ROOT, "| %s | %.0f | %s%s | %s |%n", what, v, against,
                base == null ? "" : String.format(Locale.ROOT, " (%.0f)", base),
                base == null ? "" : String.format(Locale.ROOT, "%.2f", v / base));
    }

    /** A latency: the ratio says how many times the baseline it takes. */
    private static void rowInverse(String what, Double v, String against, Double base) {
        row(what, v, against, base);
    }

    private static void build(Path repo, Path shim, Path bench) throws Exception {
        List<String> gcc = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
                "-Wall", "-Wextra", "-Werror", "-o", shim.toString()));
        try (Stream<Path> s = Files.list(repo.resolve("shim"))) {
            s.filter(p -> p.toString().endsWith(".c")).sorted().forEach(p -> gcc.add(p.toString()));
        }
        gcc.addAll(List.of("-ldl", "-lpthread"));
        exec(gcc);
        List<String> cc = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                bench.toString(), repo.resolve("bench/c/shim_bench.c").toString()));
        cc.addAll(Arrays.asList(exec(List.of("pkg-config", "--cflags", "--libs", "libdrm")).trim().split("\\s+")));
        exec(cc);
    }

    private static String exec(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
        return out;
    }

    /** Runs a command (through the shim when {@code socket} is given) and returns what it printed. */
    private static String runText(Path socket, Path shim, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder b = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (socket != null) {
            b.environment().put("GEMULATOR_SOCKET", socket.toString());
            b.environment().put("LD_PRELOAD", shim.toString());
        }
        Process p = b.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
        return out;
    }

    /** The "NAME VALUE UNIT" lines of shim_bench. */
    private static Map<String, Double> run(Path socket, Path shim, String... cmd) throws IOException, InterruptedException {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String line : runText(socket, shim, cmd).split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 2 && w[1].matches("[0-9.]+")) {
                m.put(w[0], Double.parseDouble(w[1]));
            }
        }
        return m;
    }

    /** GET_CAP round trips of the Java client over TCP: p50 and p99 in ns. */
    private static Map<String, Double> javaClient(int port, int n) {
        double[] ns = new double[n];
        try (Gemulator g = Gemulator.connect("127.0.0.1", port, null)) {
            ClientProcess p = g.process("JavaBench");
            DrmFd fd = p.open("card0");
            for (int i = -n / 10; i < n; i++) {
                long t0 = System.nanoTime();
                fd.getCap(0x5);
                if (i >= 0) {
                    ns[i] = System.nanoTime() - t0;
                }
            }
        }
        Arrays.sort(ns);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("java_p50", ns[n / 2]);
        m.put("java_p99", ns[n * 99 / 100]);
        return m;
    }
}
