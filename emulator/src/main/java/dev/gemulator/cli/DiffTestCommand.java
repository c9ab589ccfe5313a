package dev.gemulator.cli;

import dev.gemulator.difftest.DiffTest;
import dev.gemulator.difftest.Difference;
import dev.gemulator.difftest.Minimizer;
import dev.gemulator.difftest.Oracle;
import dev.gemulator.difftest.Scenario;
import dev.gemulator.difftest.SequentialScenarios;
import dev.gemulator.difftest.Vetter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gemulator difftest}: differential testing against the real kernel.
 * Generates random sequential scenarios, runs each on the oracle (Linux 6.1
 * vgem under qemu) and on the emulator, compares the outputs line by line,
 * and prints every kind of difference with a scenario minimised to the
 * shortest that still differs and both outputs. {@code --corpus DIR} checks
 * a recorded corpus on the emulator alone (what CI can do without qemu).
 */
@Command(name = "difftest", mixinStandardHelpOptions = true,
        description = {"Differential testing against the real kernel: random sequential scenarios run on the oracle"
                + " and on the emulator, each kind of difference minimised.",
            "Scenarios: 1-4 processes, every op of gemscript version 0, live and stale arguments, odd literals,",
            "vetted against what the real kernel cannot reproduce. The oracle is ../shared/oracle/run.sh (Linux 6.1",
            "vgem under qemu, a fresh VM per file) or, with --batch-oracle, a copy built by",
            "conformance/harness/build.sh DIR that runs many files per VM. Outputs are compared line by line and",
            "cached by scenario text; the first scenario of each kind of difference is minimised to the shortest",
            "that still differs. --corpus DIR checks recorded NAME.gem/NAME.expected pairs on the emulator alone.",
            "Exit status: 0 no difference, 1 differences, 2 bad input or no oracle."})
public final class DiffTestCommand implements Callable<Integer> {

    @Option(names = "--scenarios", defaultValue = "100", description = "how many scenarios (default: ${DEFAULT-VALUE})")
    private int scenarios;

    @Option(names = "--seed", defaultValue = "1", description = "the first scenario's seed (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--statements", defaultValue = "100-250", paramLabel = "MIN-MAX",
            description = "statements per scenario (default: ${DEFAULT-VALUE})")
    private String statements;

    @Option(names = "--oracle", defaultValue = "../shared/oracle/run.sh", paramLabel = "RUN.SH",
            description = "the oracle's run.sh (default: ${DEFAULT-VALUE})")
    private Path oraclePath;

    @Option(names = "--batch-oracle", paramLabel = "RUN.SH",
            description = "a copy of the oracle with a batch mode (conformance/harness/build.sh DIR, then DIR/run.sh):"
                    + " many scenarios per VM boot, each on a freshly loaded vgem; instead of --oracle")
    private Path batchOracle;

    @Option(names = "--cache", defaultValue = "gemulator-out/difftest/cache",
            description = "where oracle outputs are cached by scenario hash (default: ${DEFAULT-VALUE})")
    private Path cache;

    @Option(names = "--out", defaultValue = "gemulator-out/difftest",
            description = "where differing and minimised scenarios are written (default: ${DEFAULT-VALUE})")
    private Path out;

    @Option(names = "--jobs", defaultValue = "2", description = "oracle VMs at a time (default: ${DEFAULT-VALUE})")
    private int jobs;

    @Option(names = "--no-minimize", description = "report differences without minimising them")
    private boolean noMinimize;

    @Option(names = "--record", paramLabel = "DIR",
            description = "write every scenario run that agrees as DIR/seed-S.gem with the oracle's output as .expected")
    private Path record;

    @Option(names = "--corpus", paramLabel = "DIR",
            description = "check the recorded corpus DIR (NAME.gem, NAME.expected) on the emulator alone and exit")
    private Path corpus;

    @Option(names = "--minimize", paramLabel = "FILE.gem", description = "minimise the difference of this scenario and exit")
    private Path minimizeFile;

    @Option(names = "--print", paramLabel = "SEED", description = "print the scenario of this seed and exit")
    private Long print;

    private String oracleDescription = "";

    @Override
    public Integer call() throws IOException, InterruptedException {
        int[] range = range(statements);
        if (range == null || scenarios < 1 || jobs < 1) {
            System.err.println("gemulator: --statements wants MIN-MAX with 1 <= MIN <= MAX (not '" + statements
                    + "'), --scenarios and --jobs at least 1");
            return 2;
        }
        if (print != null) {
            System.out.print(SequentialScenarios.generate(print, range[0], range[1]).text());
            return 0;
        }
        if (corpus != null) {
            return checkCorpus();
        }
        Oracle oracle = batchOracle != null ? new Oracle(batchOracle.toAbsolutePath().normalize(), cache, true)
                : new Oracle(oraclePath.toAbsolutePath().normalize(), cache, false);
        String why = oracle.unavailable();
        if (why != null) {
            System.err.println("gemulator: difftest needs the real kernel: " + why
                    + "; without it, check a recorded corpus with --corpus DIR");
            return 2;
        }
        if (minimizeFile != null) {
            return minimizeOne(oracle);
        }
        oracleDescription = oracle.describe();
        DiffTest.Result r = DiffTest.run(oracle,
                new DiffTest.Config(seed, scenarios, range[0], range[1], jobs, !noMinimize), System.err);
        print(r, System.out);
        if (record != null) {
            recordAgreeing(r);
        }
        return r.findings().isEmpty() ? 0 : 1;
    }

    static int[] range(String text) {
        String[] p = text.split("-", -1);
        try {
            int min = Integer.parseInt(p[0].strip());
            int max = p.length == 1 ? min : Integer.parseInt(p[1].strip());
            return p.length <= 2 && min >= 1 && max >= min ? new int[] {min, max} : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private void print(DiffTest.Result r, PrintStream o) throws IOException {
        o.printf(Locale.ROOT, "difftest: %d scenarios (seeds %d..%d), %,d statements, on the oracle (%s) and the"
                + " emulator, in %.0f s%n", r.scenarios(), seed, seed + r.scenarios() - 1, r.statements(),
                oracleDescription, r.seconds());
        o.printf(Locale.ROOT, "%d scenarios differ, %d kinds of difference%n", r.differing(), r.findings().size());
        for (String n : r.oracleNotes()) {
            o.println("oracle note: " + n);
        }
        int k = 0;
        for (DiffTest.Finding f : r.findings()) {
            k++;
            List<Long> seeds = f.cases().stream().map(DiffTest.Case::seed).toList();
            o.printf(Locale.ROOT, "%ndifference %d: %s (%d scenarios, seeds %s)%n", k, f.signature(), seeds.size(),
                    seeds.size() > 12 ? seeds.subList(0, 12) + "..." : seeds);
            DiffTest.Case first = f.cases().get(0);
            Files.createDirectories(out);
            Path whole = out.resolve("seed-" + first.seed() + ".gem");
            Files.writeString(whole, first.scenario().text(), StandardCharsets.UTF_8);
            o.println("  seed " + first.seed() + " (" + whole + "), line " + first.difference().line() + ":");
            o.println("    oracle:   " + first.difference().oracle());
            o.println("    emulator: " + first.difference().emulator());
            if (f.minimized() != null) {
                printMinimized(o, f.minimized(), out.resolve("diff-" + k + "-seed-" + first.seed()));
            }
        }
    }

    private static void printMinimized(PrintStream o, Minimizer.Result m, Path stem) throws IOException {
        Files.writeString(Path.of(stem + ".gem"), m.scenario().text(), StandardCharsets.UTF_8);
        Files.writeString(Path.of(stem + ".oracle"), m.oracleOutput(), StandardCharsets.UTF_8);
        Files.writeString(Path.of(stem + ".emulator"), m.emulatorOutput(), StandardCharsets.UTF_8);
        o.printf(Locale.ROOT, "  minimised to %d statements (%d oracle runs), %s.gem:%n", m.scenario().lines().size(),
                m.oracleRuns(), stem);
        for (String l : m.scenario().text().split("\n")) {
            o.println("    " + l);
        }
        o.println("  oracle printed:");
        for (String l : m.oracleOutput().split("\n")) {
            o.println("    " + l);
        }
        o.println("  emulator printed:");
        for (String l : m.emulatorOutput().split("\n")) {
            o.println("    " + l);
        }
    }

    private int minimizeOne(Oracle oracle) throws IOException, InterruptedException {
        Scenario s;
        try {
            s = Scenario.parse(Files.readString(minimizeFile, StandardCharsets.UTF_8));
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("gemulator: cannot read " + minimizeFile + ": " + e.getMessage());
            return 2;
        }
        Vetter.Run emulator = Vetter.run(s);
        Difference d = Difference.between(oracle.run(s.text()).output(), emulator.output());
        if (d == null) {
            System.out.println("difftest: " + minimizeFile + ": the oracle and the emulator agree");
            return 0;
        }
        System.out.println("difftest: " + minimizeFile + " differs at line " + d.line() + ": " + d.signature());
        Minimizer.Result m = new Minimizer(oracle, jobs, System.err).minimize(s, d);
        Files.createDirectories(out);
        String name = minimizeFile.getFileName().toString().replaceAll("\\.gem$", "");
        printMinimized(System.out, m, out.resolve(name + "-min"));
        return 1;
    }

    /**
     * Writes the scenarios that agreed, with the oracle's output, as a corpus.
     * The outputs come from run.sh in a fresh VM per file (--oracle), also
     * when the run used a batch oracle: a corpus holds only what the
     * reference harness printed on its own.
     */
    private void recordAgreeing(DiffTest.Result r) throws IOException, InterruptedException {
        Oracle single = new Oracle(oraclePath.toAbsolutePath().normalize(), cache.resolve("single"), false);
        String why = single.unavailable();
        if (why != null) {
            System.err.println("gemulator: cannot record: " + why);
            return;
        }
        Files.createDirectories(record);
        Set<Long> differing = new HashSet<>();
        r.findings().forEach(f -> f.cases().forEach(c -> differing.add(c.seed())));
        List<Scenario> agreeing = new ArrayList<>();
        List<Long> seeds = new ArrayList<>();
        for (long s = seed; s < seed + r.scenarios(); s++) {
            if (!differing.contains(s)) {
                agreeing.add(SequentialScenarios.generate(s, range(statements)[0], range(statements)[1]));
                seeds.add(s);
            }
        }
        List<Oracle.Result> real = single.runAll(agreeing.stream().map(Scenario::text).toList(), jobs);
        int written = 0;
        for (int i = 0; i < agreeing.size(); i++) {
            String emulator = Vetter.run(agreeing.get(i)).output();
            if (!real.get(i).output().equals(emulator)) {
                System.err.println("gemulator: seed " + seeds.get(i) + " differs on a fresh VM: not recorded");
                continue;
            }
            Files.writeString(record.resolve("seed-" + seeds.get(i) + ".gem"), agreeing.get(i).text(),
                    StandardCharsets.UTF_8);
            Files.writeString(record.resolve("seed-" + seeds.get(i) + ".expected"), real.get(i).output(),
                    StandardCharsets.UTF_8);
            written++;
        }
        System.out.println("difftest: recorded " + written + " scenarios with the output of " + single.describe()
                + " in " + record);
    }

    private int checkCorpus() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(corpus)) {
            files = s.filter(p -> p.toString().endsWith(".gem")).sorted().toList();
        } catch (IOException e) {
            System.err.println("gemulator: cannot read the corpus " + corpus + ": " + e.getMessage());
            return 2;
        }
        int bad = 0;
        long lines = 0;
        for (Path gem : files) {
            Path expected = Path.of(gem.toString().replaceAll("\\.gem$", ".expected"));
            if (!Files.isRegularFile(expected)) {
                System.out.println(gem + ": no " + expected.getFileName());
                bad++;
                continue;
            }
            Scenario s = Scenario.parse(Files.readString(gem, StandardCharsets.UTF_8));
            lines += s.lines().size();
            String text = Files.readString(gem, StandardCharsets.UTF_8);
            if (!text.equals(s.text())) {
                System.out.println(gem + ": not in the generator's form (one statement per line after the comments)");
                bad++;
                continue;
            }
            Difference d = Difference.between(Files.readString(expected, StandardCharsets.UTF_8), Vetter.run(s).output());
            if (d != null) {
                System.out.println(gem + ": line " + d.line() + ": " + d.signature());
                System.out.println("  oracle:   " + d.oracle());
                System.out.println("  emulator: " + d.emulator());
                bad++;
            }
        }
        System.out.printf(Locale.ROOT, "difftest: corpus %s: %d scenarios, %,d statements, %d differ%n", corpus,
                files.size(), lines, bad);
        return bad == 0 ? 0 : 1;
    }
}
