package dev.gemulator.bench;

import dev.gemulator.check.FindingKey;
import dev.gemulator.kernel.Profile;
import dev.gemulator.race.RaceRunner;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.transport.GemulatorServer;
import dev.gemulator.transport.SeededServer;
import dev.gemulator.sched.Strategy;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.tools.ToolProvider;

/**
 * {@code ./gemulator bench race}: races of real programs (client JVMs).
 * Prints seeds/s of the Java export-vs-gem_close race with persistent
 * clients (the client library's Race.iterate) and with a launch per seed;
 * system calls/s of four client processes against a free-running and a
 * seeded server, and their ratio; and the seeds each race needs to its first
 * use-after-free under 3.11 with POS (median and p90 over trials). Every
 * ratio is against a figure measured in the same run. Nothing is asserted.
 *
 * <p>Options: {@code --seeds N} (persistent, default 100), {@code --relaunch-seeds N}
 * (10), {@code --calls N} per client (4000), {@code --trials N} (21),
 * {@code --jobs N} (cores).
 */
public final class RaceBench {
    private static final FindingKey UAF = new FindingKey(FindingKey.Kind.USE_AFTER_FREE, "drm_gem_prime_handle_to_fd");
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);

    private RaceBench() {
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }

    /** Compiles the README's example programs (junit/src/test/.../examples) against this jar; their class path. */
    private static String compileExamples() throws IOException {
        Path repo = Path.of(System.getProperty("gemulator.repo", "."));
        Path src = repo.resolve("junit/src/test/java/dev/gemulator/junit/examples");
        Path out = Files.createTempDirectory("gemulator-race-bench-");
        var javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new IllegalStateException("bench race needs a JDK (javac) to compile the example programs");
        }
        List<String> args = new ArrayList<>(List.of("-d", out.toString(), "-cp", System.getProperty("java.class.path")));
        args.add(src.resolve("ExportVsGemClose.java").toString());
        args.add(src.resolve("ExportVsGemCloseTwoProcesses.java").toString());
        if (javac.run(null, null, null, args.toArray(String[]::new)) != 0) {
            throw new IllegalStateException("the example programs in " + src + " do not compile");
        }
        return out + File.pathSeparator + System.getProperty("java.class.path");
    }

    private static List<String> program(String cp, String main, String... args) {
        List<String> c = new ArrayList<>(List.of(java(), "-cp", cp, main));
        c.addAll(List.of(args));
        return c;
    }

    private static RaceRunner runner(List<List<String>> commands, String profile, long first, long last, int jobs) {
        return new RaceRunner(new RaceRunner.Options(commands, List.of(), Profile.byName(profile), Strategy.Name.POS, 3, 10_000, first,
                last, jobs, 300_000, 60_000, QUIET));
    }

    public static void main(String[] args) throws Exception {
        int seeds = 100;
        int relaunchSeeds = 10;
        int calls = 4000;
        int trials = 21;
        int jobs = Runtime.getRuntime().availableProcessors();
        boolean onlyC = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--only-c" -> onlyC = true;
                case "--seeds" -> seeds = Integer.parseInt(args[++i]);
                case "--relaunch-seeds" -> relaunchSeeds = Integer.parseInt(args[++i]);
                case "--calls" -> calls = Integer.parseInt(args[++i]);
                case "--trials" -> trials = Integer.parseInt(args[++i]);
                case "--jobs" -> jobs = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (onlyC) {
            cRaces(seeds, trials, jobs);
            System.exit(0);
        }
        String cp = compileExamples();
        String two = "dev.gemulator.junit.examples.ExportVsGemCloseTwoProcesses";
        String one = "dev.gemulator.junit.examples.ExportVsGemClose";
        System.out.printf(Locale.ROOT, "race benchmarks: client JVMs on %d cores, %d jobs%n",
                Runtime.getRuntime().availableProcessors(), jobs);

        // seeds/s: persistent clients against a launch per seed (the two-process race, 6.x)
        RaceRunner.Result kept = runner(List.of(program(cp, two, "--iterate"), program(cp, two, "--iterate")), "6.x", 1,
                seeds, jobs).run();
        RaceRunner.Result relaunched = runner(List.of(program(cp, two), program(cp, two)), "6.x", 1, relaunchSeeds, jobs)
                .run();
        double keptRate = kept.seeds() / kept.seconds();
        double relaunchRate = relaunched.seeds() / relaunched.seconds();
        System.out.printf(Locale.ROOT, "seeds/s, two client JVMs, export-vs-gem_close under 6.x:%n");
        System.out.printf(Locale.ROOT, "  persistent clients (Race.iterate): %4d seeds in %6.1f s = %6.2f seeds/s (%d launches)%n",
                kept.seeds(), kept.seconds(), keptRate, kept.launches());
        System.out.printf(Locale.ROOT, "  a launch per seed:                 %4d seeds in %6.1f s = %6.2f seeds/s (%d launches)%n",
                relaunched.seeds(), relaunched.seconds(), relaunchRate, relaunched.launches());
        System.out.printf(Locale.ROOT, "  persistent / relaunched: %.1fx%n", keptRate / relaunchRate);

        // throughput of four client processes: seeded against free-running
        double free = churnFree(cp, calls);
        System.out.printf(Locale.ROOT, "system calls/s, four client JVMs creating and closing buffers (%d calls each):%n", calls);
        System.out.printf(Locale.ROOT, "  free-running:    %8.0f calls/s%n", free);
        for (Strategy.Name strategy : List.of(Strategy.Name.RANDOM, Strategy.Name.POS, Strategy.Name.PCT)) {
            double seeded = churnSeeded(cp, calls, strategy);
            System.out.printf(Locale.ROOT, "  seeded, %-7s %8.0f calls/s   seeded/free-running %.2f%n", strategy + ":", seeded,
                    seeded / free);
        }

        // seeds to the first use-after-free under 3.11 with POS, persistent clients
        for (var race : List.of(new String[] {"one JVM, two threads", one}, new String[] {"two JVMs", two})) {
            List<List<String>> commands = race[1].equals(one) ? List.of(program(cp, one, "--iterate"))
                    : List.of(program(cp, two, "--iterate"), program(cp, two, "--iterate"));
            seedsToFirstUaf(commands, race[0], trials, jobs);
        }
        cRaces(seeds, trials, jobs);
        System.exit(0);
    }

    /**
     * Prints the seeds to the first 3.11 use-after-free of {@code commands}
     * with POS over {@code trials} disjoint ranges of 1,000 seeds: median, p90
     * and the seeds/s of the search.
     */
    private static void seedsToFirstUaf(List<List<String>> commands, String what, int trials, int jobs) {
        long[] found = new long[trials];
        int missed = 0;
        double seconds = 0;
        long ran = 0;
        for (int t = 0; t < trials; t++) {
            long first = 1 + t * 100_000L;
            RaceRunner.Result r = runner(commands, "v3.11", first, first + 999, jobs).runUntil(UAF);
            seconds += r.seconds();
            ran += r.seeds();
            var f = r.findings().stream().filter(x -> x.key().equals(UAF)).findFirst();
            found[t] = f.map(x -> x.firstSeed() - first + 1).orElse(Long.MAX_VALUE);
            if (f.isEmpty()) {
                missed++;
            }
        }
        Arrays.sort(found);
        System.out.printf(Locale.ROOT, "seeds to the first %s, 3.11, POS, %s, %d trials: median %s, p90 %s%s"
                + " (%.2f seeds/s)%n", UAF, what, trials, show(found[trials / 2]),
                show(found[(int) Math.ceil(trials * 0.9) - 1]), missed > 0 ? ", " + missed + " found nothing in 1000" : "",
                ran / seconds);
    }

    /**
     * The same race as C programs through the shim (shim/tests/race_threads.c,
     * race_fork.c), built here with gcc; a launch per seed (C programs have
     * no per-seed entry point). Skipped without gcc or libdrm's headers.
     */
    private static void cRaces(int seeds, int trials, int jobs) throws Exception {
        Path repo = Path.of(System.getProperty("gemulator.repo", ".")).toAbsolutePath();
        Path out = Files.createTempDirectory("gemulator-bench-c-");
        try {
            Path shim = out.resolve("libgemulator.so");
            List<String> gcc = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O2", "-fPIC", "-shared",
                    "-fvisibility=hidden", "-o", shim.toString()));
            try (var files = Files.list(repo.resolve("shim"))) {
                files.filter(f -> f.toString().endsWith(".c")).sorted().forEach(f -> gcc.add(f.toString()));
            }
            gcc.addAll(List.of("-ldl", "-lpthread"));
            if (!build(gcc)) {
                System.out.println("C races: skipped (gcc could not build the shim)");
                return;
            }
            for (String name : List.of("race_threads", "race_fork")) {
                Process pc = new ProcessBuilder("pkg-config", "--cflags", "--libs", "libdrm").start();
                String flags = new String(pc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                List<String> cc = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O1", "-o", out.resolve(name).toString(),
                        repo.resolve("shim/tests/" + name + ".c").toString()));
                cc.addAll(List.of(flags.split("\\s+")));
                cc.add("-lpthread");
                if (pc.waitFor() != 0 || !build(cc)) {
                    System.out.println("C races: skipped (no libdrm headers to build " + name + ")");
                    return;
                }
            }
            System.setProperty("gemulator.shim", shim.toString());
            for (var race : List.of(new String[] {"C, two threads", "race_threads"},
                    new String[] {"C, two forked processes", "race_fork"})) {
                List<List<String>> commands = List.of(List.of(out.resolve(race[1]).toString()));
                RaceRunner.Result rate = runner(commands, "6.x", 1, seeds, jobs).run();
                System.out.printf(Locale.ROOT, "%s, a launch per seed: %d seeds under 6.x in %.1f s = %.2f seeds/s%n",
                        race[0], rate.seeds(), rate.seconds(), rate.seeds() / rate.seconds());
                seedsToFirstUaf(commands, race[0], trials, jobs);
            }
        } finally {
            try (var files = Files.walk(out)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static boolean build(List<String> cmd) throws Exception {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static String show(long n) {
        return n == Long.MAX_VALUE ? ">1000" : String.valueOf(n);
    }

    private record Launched(Process process, Path output) {
    }

    private static List<Launched> launch(String cp, int port, int calls, Path start) throws IOException {
        List<Launched> out = new ArrayList<>();
        for (String name : List.of("A", "B", "C", "D")) {
            Path log = Files.createTempFile("gemulator-churn-" + name + "-", ".out");
            ProcessBuilder pb = new ProcessBuilder(program(cp, RaceChurn.class.getName(), String.valueOf(calls),
                    start.toString())).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("GEMULATOR_SERVER", "127.0.0.1:" + port);
            pb.environment().put("GEMULATOR_PROCESS", name);
            out.add(new Launched(pb.start(), log));
        }
        return out;
    }

    /** Calls/s of the four programs: every call over the span from the first start to the last end. */
    private static double finish(List<Launched> programs) throws Exception {
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        long total = 0;
        for (Launched l : programs) {
            if (!l.process().waitFor(10, TimeUnit.MINUTES)) {
                l.process().destroyForcibly();
                throw new IllegalStateException("a churn client did not finish");
            }
            String text = Files.readString(l.output());
            Files.deleteIfExists(l.output());
            String line = text.lines().filter(s -> s.startsWith("churn ")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("a churn client failed:\n" + text));
            String[] p = line.split(" ");
            first = Math.min(first, Long.parseLong(p[1]));
            last = Math.max(last, Long.parseLong(p[2]));
            total += Long.parseLong(p[3]);
        }
        return total / ((last - first) / 1e9);
    }

    private static double churnFree(String cp, int calls) throws Exception {
        Path start = Files.createTempFile("gemulator-churn-start-", "");
        Files.delete(start);
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 4096)) {
            List<Launched> programs = launch(cp, server.port(), calls, start);
            while (server.simulation().executed() < 4) { // every program has opened the device
                Thread.sleep(5);
            }
            Files.createFile(start);
            return finish(programs);
        } finally {
            Files.deleteIfExists(start);
        }
    }

    private static double churnSeeded(String cp, int calls, Strategy.Name strategy) throws Exception {
        Path start = Files.createTempFile("gemulator-churn-start-", ""); // there already: the run starts when all joined
        try (SeededServer server = SeededServer.start("127.0.0.1", 0, null, 64 << 20, 64, QUIET)) {
            SeededRun run = server.next(new SeededRun.Config(Profile.MODERN, 1, strategy, 3, 4L * calls * 12,
                    List.of("A", "B", "C", "D"), 0, false, "bench race churn", null, 60_000, 1024));
            double rate = finish(launch(cp, server.port(), calls, start));
            run.finished().get(1, TimeUnit.MINUTES);
            return rate;
        } finally {
            Files.deleteIfExists(start);
        }
    }
}
