package dev.gemulator.explore;

import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.Traces;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The determinism soak: many runs across scenarios, kernel profiles,
 * strategies and seeds, each run twice and its two trace hashes compared. A
 * mismatch is a bug of the emulator (the same seed must give the same
 * trace), never of the modelled kernel.
 */
public final class Soak {
    private Soak() {
    }

    /** One self-checked run: a scenario under a profile, strategy and seed. */
    public record Case(String path, String text, Script script, Profile profile, Strategy.Name strategy, long seed,
            long pctSteps) {
        @Override
        public String toString() {
            return path + " --profile " + profile.name() + " --strategy " + strategy + " --seed " + seed;
        }
    }

    /** What a soak found: runs (each twice), the mismatching cases, runs per profile and strategy. */
    public record Result(long runs, List<Case> mismatches, Map<String, Long> byProfile, Map<String, Long> byStrategy,
            long nanos) {
        public double runsPerSecond() {
            return runs / (nanos / 1e9);
        }
    }

    public static final List<Strategy.Name> STRATEGIES = List.of(Strategy.Name.RANDOM, Strategy.Name.PCT, Strategy.Name.POS,
            Strategy.Name.CONFLICT);

    /** The .gem files under {@code dirs}, in path order. */
    public static List<Path> scenarios(List<Path> dirs) {
        List<Path> files = new ArrayList<>();
        for (Path d : dirs) {
            try (Stream<Path> s = Files.walk(d)) {
                s.filter(p -> p.toString().endsWith(".gem")).sorted().forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + d, e);
            }
        }
        return files;
    }

    /**
     * {@code runs} cases. A scenario without {@code par} runs once under
     * each profile (its seed and strategy change nothing); the rest of the
     * runs cycle through the concurrent scenarios, profiles and strategies
     * (in that nesting), the seed going up by one each time round. Files
     * that do not parse are left out.
     */
    public static List<Case> cases(List<Path> files, int runs, long firstSeed) {
        return cases(files, runs, firstSeed, STRATEGIES);
    }

    /** The same with these strategies instead of {@link #STRATEGIES}. */
    public static List<Case> cases(List<Path> files, int runs, long firstSeed, List<Strategy.Name> strategies) {
        record Parsed(String path, String text, Script script) {
        }
        List<Parsed> sequential = new ArrayList<>();
        List<Parsed> concurrent = new ArrayList<>();
        for (Path f : files) {
            try {
                String text = Files.readString(f, StandardCharsets.UTF_8);
                Script script = Parser.parse(f.toString(), text);
                (script.hasPar() ? concurrent : sequential).add(new Parsed(f.toString(), text, script));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f, e);
            } catch (ParseException e) {
                // not a scenario this runner takes; the soak is about the ones it does
            }
        }
        List<Case> out = new ArrayList<>(runs);
        for (Parsed p : sequential) {
            for (Profile profile : Profile.ALL) {
                if (out.size() < runs) {
                    out.add(new Case(p.path(), p.text(), p.script(), profile, Strategy.Name.RANDOM, firstSeed, 0));
                }
            }
        }
        if (concurrent.isEmpty() && out.size() < runs) {
            throw new IllegalArgumentException("no concurrent scenarios to soak");
        }
        Map<String, Long> steps = new TreeMap<>();
        int combos = concurrent.size() * Profile.ALL.size() * strategies.size();
        for (int i = 0; out.size() < runs; i++) {
            int c = i % combos;
            Parsed p = concurrent.get(c / (Profile.ALL.size() * strategies.size()));
            Profile profile = Profile.ALL.get(c / strategies.size() % Profile.ALL.size());
            Strategy.Name strategy = strategies.get(c % strategies.size());
            long pct = strategy == Strategy.Name.PCT
                    ? steps.computeIfAbsent(p.path() + " " + profile.name(), k -> Runner.measureSteps(p.script(), profile))
                    : 0;
            out.add(new Case(p.path(), p.text(), p.script(), profile, strategy, firstSeed + i / combos, pct));
        }
        return out;
    }

    /** The hash of one run of the case's trace. */
    public static String traceHash(Case c) {
        Runner.RunOptions o = new Runner.RunOptions(c.seed(), c.strategy(), 3, c.pctSteps());
        return Traces.run(c.script(), Traces.header(c.path(), c.text(), c.profile(), o), c.profile(), o).hash();
    }

    /** Runs every case twice on {@code jobs} threads with {@code hashOf} and compares. */
    public static Result run(List<Case> cases, int jobs, Function<Case, String> hashOf) {
        long t0 = System.nanoTime();
        List<Case> mismatches = new ArrayList<>();
        Map<String, Long> byProfile = new TreeMap<>();
        Map<String, Long> byStrategy = new TreeMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, jobs));
        try {
            List<Future<Boolean>> same = new ArrayList<>(cases.size());
            for (Case c : cases) {
                same.add(pool.submit(() -> hashOf.apply(c).equals(hashOf.apply(c))));
            }
            for (int i = 0; i < cases.size(); i++) {
                Case c = cases.get(i);
                if (!same.get(i).get()) {
                    mismatches.add(c);
                }
                byProfile.merge(c.profile().name(), 1L, Long::sum);
                byStrategy.merge(c.strategy().label(), 1L, Long::sum);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("soak interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a soak run failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return new Result(cases.size(), mismatches, byProfile, byStrategy, System.nanoTime() - t0);
    }
}
