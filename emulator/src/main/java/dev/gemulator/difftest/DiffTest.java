package dev.gemulator.difftest;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Differential testing against the real kernel: random sequential scenarios
 * ({@link SequentialScenarios}) run on the oracle and on the emulator, their
 * outputs compared line by line; the scenarios that differ are grouped by
 * how they differ ({@link Difference#signature}) and the first of each group
 * is minimised ({@link Minimizer}).
 */
public final class DiffTest {

    /** Scenario seeds {@code firstSeed} on, statements per scenario, oracle runs at a time, whether to minimise. */
    public record Config(long firstSeed, int scenarios, int minStatements, int maxStatements, int jobs,
            boolean minimize) {
    }

    /** One scenario that differs. */
    public record Case(long seed, Scenario scenario, String oracleOutput, String emulatorOutput, Difference difference) {
    }

    /** The scenarios that differ one way, the first of them minimised (null when not asked or not possible). */
    public record Finding(String signature, List<Case> cases, Minimizer.Result minimized) {
    }

    /** The whole run. */
    public record Result(int scenarios, long statements, List<Finding> findings, List<String> oracleNotes,
            double seconds) {
        public int differing() {
            return findings.stream().mapToInt(f -> f.cases().size()).sum();
        }
    }

    /** One scenario run on both sides. */
    public record Compared(long seed, Scenario scenario, Oracle.Result oracle, Vetter.Run emulator) {
        public Difference difference() {
            return Difference.between(oracle.output(), emulator.output());
        }
    }

    private DiffTest() {
    }

    /** Runs the configured scenarios, then minimises a scenario of each kind of difference. */
    public static Result run(Oracle oracle, Config config, PrintStream log) throws IOException, InterruptedException {
        long start = System.nanoTime();
        List<Compared> all = runAll(oracle, config, log);
        Map<String, List<Case>> bySignature = new LinkedHashMap<>();
        long statements = 0;
        List<String> notes = new ArrayList<>();
        for (Compared c : all) {
            statements += c.scenario().lines().size();
            if (c.oracle().kernelWarned()) {
                notes.add("seed " + c.seed() + ": the real kernel warned:\n" + c.oracle().notes().strip());
            }
            Difference d = c.difference();
            if (d != null) {
                bySignature.computeIfAbsent(d.signature(), k -> new ArrayList<>())
                        .add(new Case(c.seed(), c.scenario(), c.oracle().output(), c.emulator().output(), d));
            }
        }
        List<Finding> findings = new ArrayList<>();
        for (Map.Entry<String, List<Case>> e : bySignature.entrySet()) {
            Minimizer.Result m = null;
            if (config.minimize()) {
                Case first = e.getValue().get(0);
                log.println("difftest: minimising seed " + first.seed() + " (" + e.getKey() + ")");
                try {
                    m = new Minimizer(oracle, config.jobs(), log).minimize(first.scenario(), first.difference());
                } catch (IllegalStateException ex) {
                    log.println("difftest: seed " + first.seed() + " cannot be minimised: " + ex.getMessage());
                }
            }
            findings.add(new Finding(e.getKey(), List.copyOf(e.getValue()), m));
        }
        return new Result(all.size(), statements, findings, notes, (System.nanoTime() - start) / 1e9);
    }

    /**
     * Generates the scenarios (and runs each on the emulator as the vetting
     * does), then runs them on the oracle in rounds of a few VMs' worth,
     * logging progress after each round.
     */
    private static List<Compared> runAll(Oracle oracle, Config config, PrintStream log)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        int round = Math.max(1, config.jobs()) * (oracle.batched() ? Oracle.BATCH : 4);
        List<Compared> out = new ArrayList<>();
        int differing = 0;
        for (int from = 0; from < config.scenarios(); from += round) {
            List<Scenario> scenarios = new ArrayList<>();
            List<Vetter.Run> emulated = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            for (int i = from; i < Math.min(config.scenarios(), from + round); i++) {
                Scenario s = SequentialScenarios.generate(config.firstSeed() + i, config.minStatements(),
                        config.maxStatements());
                scenarios.add(s);
                emulated.add(Vetter.run(s));
                texts.add(s.text());
            }
            List<Oracle.Result> real = oracle.runAll(texts, config.jobs());
            for (int i = 0; i < scenarios.size(); i++) {
                Compared c = new Compared(config.firstSeed() + from + i, scenarios.get(i), real.get(i), emulated.get(i));
                out.add(c);
                Difference d = c.difference();
                if (d != null) {
                    differing++;
                    log.println("difftest: seed " + c.seed() + " differs at line " + d.line() + ": " + d.signature());
                }
            }
            log.printf(Locale.ROOT, "difftest: %d of %d scenarios, %d differ, %.0f s%n", out.size(),
                    config.scenarios(), differing, (System.nanoTime() - start) / 1e9);
        }
        return out;
    }
}
