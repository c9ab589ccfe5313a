package dev.gemulator.difftest;

import java.util.ArrayList;
import java.util.List;

/**
 * One statement of a sequential scenario as text, {@code PROC: OP ARG...
 * [-> $VAR...]}, with no expectation suffix: both runners print the actual
 * result of every statement, so the printed lines are what the oracle and
 * the emulator are compared on. The generator writes these, the
 * minimiser drops and rewrites them.
 */
public record Line(String proc, String op, List<String> args, List<String> results) {

    public Line {
        args = List.copyOf(args);
        results = List.copyOf(results);
    }

    /** The statement as a scenario line. */
    public String text() {
        StringBuilder b = new StringBuilder(proc).append(": ").append(op);
        for (String a : args) {
            b.append(' ').append(a);
        }
        if (!results.isEmpty()) {
            b.append(" ->");
            for (String r : results) {
                b.append(" $").append(r);
            }
        }
        return b.toString();
    }

    /** The names of the variables the arguments use, in argument order. */
    public List<String> uses() {
        List<String> out = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("$")) {
                out.add(a.substring(1));
            }
        }
        return out;
    }

    /** The same statement with argument {@code index} replaced by {@code arg}. */
    public Line withArg(int index, String arg) {
        List<String> a = new ArrayList<>(args);
        a.set(index, arg);
        return new Line(proc, op, a, results);
    }

    /**
     * Reads a statement line of a version 0 scenario (a comment after
     * {@code #} and any {@code !ERRNO} suffix dropped), or null for a blank
     * or comment line.
     */
    public static Line parse(String text) {
        int hash = text.indexOf('#');
        String s = (hash >= 0 ? text.substring(0, hash) : text).strip();
        if (s.isEmpty()) {
            return null;
        }
        int colon = s.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("not a statement: " + text);
        }
        String proc = s.substring(0, colon).strip();
        String[] toks = s.substring(colon + 1).strip().split("\\s+");
        List<String> args = new ArrayList<>();
        List<String> results = new ArrayList<>();
        int i = 1;
        while (i < toks.length && !toks[i].equals("->") && !toks[i].startsWith("!")) {
            args.add(toks[i++]);
        }
        if (i < toks.length && toks[i].equals("->")) {
            i++;
            while (i < toks.length && toks[i].startsWith("$")) {
                results.add(toks[i++].substring(1));
            }
        }
        return new Line(proc, toks[0], args, results);
    }
}
