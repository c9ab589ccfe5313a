package dev.gemulator.difftest;

import dev.gemulator.gemscript.Flags;
import dev.gemulator.gemscript.Op;
import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Shrinks a scenario on which the oracle and the emulator differ to a
 * shortest one that still differs the same way (the first differing line is
 * of the same op): everything after the first differing statement goes
 * first (the statements before it printed the same on both sides, and
 * later ones cannot change that), then delta debugging drops chunks of
 * statements, halving the chunks down to single statements, while the
 * difference persists, and repeats the single-statement pass until nothing
 * more can go.
 *
 * <p>A candidate stays parseable: when a statement that binds a variable
 * goes, each later use of the variable becomes the value the oracle printed
 * for it in the last differing run (-1 for a failed statement, the bytes of
 * a read); a use that no literal can stand for (a string where a number is
 * needed, or a variable a skipped statement never bound) goes with it. A
 * candidate that breaks a rule of {@link Vetter} is not tried on the oracle.
 */
public final class Minimizer {
    private final Oracle oracle;
    private final int jobs;
    private final PrintStream log;
    private int oracleRuns;

    /** The shortest scenario found, with both outputs and the difference. */
    public record Result(Scenario scenario, String oracleOutput, String emulatorOutput, Difference difference,
            int oracleRuns) {
    }

    public Minimizer(Oracle oracle, int jobs, PrintStream log) {
        this.oracle = oracle;
        this.jobs = Math.max(1, jobs);
        this.log = log;
    }

    private record Trial(Scenario scenario, String oracleOutput, String emulatorOutput, Difference difference) {
    }

    /** Minimises {@code scenario}, which differs with {@code difference}. */
    public Result minimize(Scenario scenario, Difference difference) throws IOException, InterruptedException {
        oracleRuns = 0;
        String op = difference.op();
        Trial best = trial(scenario, op);
        if (best == null) {
            throw new IllegalStateException("the scenario does not differ (" + op + ") when run again");
        }
        best = truncated(best, op);
        int granularity = 2;
        while (best.scenario().lines().size() > 1) {
            int removable = best.scenario().lines().size() - 1; // the differing statement stays
            int chunk = Math.max(1, (removable + granularity - 1) / granularity);
            List<int[]> ranges = new ArrayList<>();
            for (int from = removable - chunk; from > -chunk; from -= chunk) {
                ranges.add(new int[] {Math.max(0, from), from + chunk});
            }
            Trial found = firstThatDiffers(best, ranges, op);
            if (found != null) {
                best = truncated(found, op);
                granularity = Math.max(2, granularity - 1);
                log.println("  minimising: " + best.scenario().lines().size() + " statements (" + oracleRuns
                        + " oracle runs)");
            } else if (chunk == 1) {
                break;
            } else {
                granularity = Math.min(removable, granularity * 2);
            }
        }
        return new Result(best.scenario(), best.oracleOutput(), best.emulatorOutput(), best.difference(),
                oracleRuns);
    }

    /** The trial cut after its first differing statement, when that still differs. */
    private Trial truncated(Trial t, String op) throws IOException, InterruptedException {
        int index = t.scenario().index(t.difference().line());
        if (index < 0 || index == t.scenario().lines().size() - 1) {
            return t;
        }
        Scenario cut = new Scenario(t.scenario().comments(), t.scenario().lines().subList(0, index + 1));
        Trial c = trial(cut, op);
        return c != null ? c : t;
    }

    /**
     * Tries removing each range (later ranges first): with a batch oracle all
     * at once, else {@code jobs} at a time. When several removals keep the
     * difference, removing the first k of them together is tried for every k
     * (at once) and the largest k that keeps it wins; else the first one.
     */
    private Trial firstThatDiffers(Trial best, List<int[]> ranges, String op) throws IOException, InterruptedException {
        int step = oracle.batched() ? ranges.size() : jobs;
        for (int i = 0; i < ranges.size(); i += step) {
            List<int[]> group = ranges.subList(i, Math.min(ranges.size(), i + step));
            List<Scenario> candidates = new ArrayList<>();
            for (int[] r : group) {
                candidates.add(without(best, r[0], r[1]));
            }
            List<Trial> trials = trials(candidates, op);
            List<int[]> good = new ArrayList<>();
            Trial first = null;
            for (int j = 0; j < trials.size(); j++) {
                if (trials.get(j) != null) {
                    good.add(group.get(j));
                    first = first == null ? trials.get(j) : first;
                }
            }
            if (good.size() > 1) {
                List<Scenario> unions = new ArrayList<>();
                boolean[] drop = new boolean[best.scenario().lines().size()];
                for (int k = 0; k < good.size(); k++) {
                    for (int x = good.get(k)[0]; x < good.get(k)[1]; x++) {
                        drop[x] = true;
                    }
                    if (k > 0) {
                        unions.add(without(best.scenario(), best.oracleOutput(), drop.clone()));
                    }
                }
                List<Trial> u = trials(unions, op);
                for (int k = u.size() - 1; k >= 0; k--) {
                    if (u.get(k) != null) {
                        return u.get(k);
                    }
                }
            }
            if (first != null) {
                return first;
            }
        }
        return null;
    }

    /** Runs a candidate on both sides: the trial when it differs at the same op, else null. */
    private Trial trial(Scenario candidate, String op) throws IOException, InterruptedException {
        return trials(List.of(candidate), op).get(0);
    }

    /** Runs candidates (null: skipped) on both sides; each trial when it differs at the same op, else null. */
    private List<Trial> trials(List<Scenario> candidates, String op) throws IOException, InterruptedException {
        List<Vetter.Run> emulated = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (Scenario c : candidates) {
            Vetter.Run e = null;
            if (c != null && parses(c)) {
                e = Vetter.run(c);
                if (e.violation() != null) {
                    e = null;
                }
            }
            emulated.add(e);
            if (e != null && !texts.contains(c.text())) {
                texts.add(c.text());
            }
        }
        int fresh = (int) texts.stream().filter(t -> !oracle.cached(t)).count();
        List<Oracle.Result> real = oracle.runAll(texts, jobs);
        oracleRuns += fresh;
        List<Trial> out = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            Vetter.Run e = emulated.get(i);
            if (e == null) {
                out.add(null);
                continue;
            }
            Oracle.Result r = real.get(texts.indexOf(candidates.get(i).text()));
            Difference d = Difference.between(r.output(), e.output());
            out.add(d != null && d.op().equals(op) ? new Trial(candidates.get(i), r.output(), e.output(), d) : null);
        }
        return out;
    }

    private static boolean parses(Scenario c) {
        try {
            Parser.parse("candidate.gem", c.text());
            return true;
        } catch (ParseException e) {
            return false;
        }
    }

    /**
     * {@code best}'s scenario without statements {@code from} to {@code to}
     * (exclusive), later uses of their variables replaced by the values the
     * oracle printed; null when nothing would be left to remove.
     */
    static Scenario without(Trial best, int from, int to) {
        return without(best.scenario(), best.oracleOutput(), from, to);
    }

    static Scenario without(Scenario s, String oracleOutput, int from, int to) {
        boolean[] drop = new boolean[s.lines().size()];
        for (int i = from; i < to; i++) {
            drop[i] = true;
        }
        return without(s, oracleOutput, drop);
    }

    /** {@code s} without the statements {@code dropped} marks, as {@link #without(Trial, int, int)} does. */
    static Scenario without(Scenario s, String oracleOutput, boolean[] dropped) {
        Map<Integer, String> printed = new HashMap<>();
        for (String l : oracleOutput.split("\n")) {
            int n = Difference.statementLine(l);
            if (n > 0) {
                printed.put(n, l);
            }
        }
        Map<String, String> literal = new HashMap<>();
        Set<String> gone = new HashSet<>();
        List<Line> kept = new ArrayList<>();
        for (int i = 0; i < s.lines().size(); i++) {
            Line l = s.lines().get(i);
            boolean drop = dropped[i];
            if (!drop) {
                Line fixed = substitute(l, literal, gone);
                if (fixed == null) {
                    drop = true;
                } else {
                    kept.add(fixed);
                    for (String r : l.results()) {
                        literal.remove(r);
                        gone.remove(r);
                    }
                    continue;
                }
            }
            values(l, printed.get(s.lineNumber(i)), literal, gone);
        }
        if (kept.size() == s.lines().size()) {
            return null;
        }
        return new Scenario(s.comments(), kept);
    }

    /** The line with its uses of removed variables replaced, or null when one cannot be. */
    private static Line substitute(Line l, Map<String, String> literal, Set<String> gone) {
        Op op = Op.byName(l.op());
        Line out = l;
        for (int a = 0; a < l.args().size(); a++) {
            String arg = l.args().get(a);
            if (!arg.startsWith("$")) {
                continue;
            }
            String v = arg.substring(1);
            if (gone.contains(v)) {
                return null;
            }
            String lit = literal.get(v);
            if (lit == null) {
                continue;
            }
            boolean hexArg = op != null && op.args().get(a) == Op.ArgKind.HEX;
            if (hexArg != lit.startsWith("hex:")) {
                return null;
            }
            out = out.withArg(a, lit);
        }
        return out;
    }

    /** What each result variable of a removed statement held after it ran, from its printed line. */
    private static void values(Line l, String printed, Map<String, String> literal, Set<String> gone) {
        Op op = Op.byName(l.op());
        String[] t = printed == null ? new String[0] : printed.split(" ");
        for (int i = 0; i < l.results().size(); i++) {
            String r = l.results().get(i);
            Op.ResultKind k = op.results().get(i);
            String v = null;
            if (t.length >= 4 && t[3].equals("err")) {
                v = k == Op.ResultKind.HEX ? "hex:" : k == Op.ResultKind.INT || k == Op.ResultKind.EVENTS ? "-1" : null;
            } else if (t.length >= 5 + i && t[3].equals("ok")) {
                String x = t[4 + i];
                v = switch (k) {
                    case INT -> x;
                    case HEX -> x;
                    case EVENTS -> Long.toString(events(x));
                    case STR -> null;
                };
            }
            if (v == null) {
                gone.add(r);
                literal.remove(r);
            } else {
                literal.put(r, v);
                gone.remove(r);
            }
        }
    }

    private static long events(String text) {
        long v = 0;
        for (String name : text.split("\\|")) {
            Long bit = Flags.EVENTS.get(name);
            v |= bit != null ? bit : name.startsWith("0x") ? Long.parseLong(name.substring(2), 16) : Long.parseLong(name);
        }
        return v;
    }
}
