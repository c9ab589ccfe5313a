package dev.gemulator.difftest;

/**
 * Where two outputs of one scenario first differ: the file line number of the
 * statement (0 when the differing line is not a statement's: a report or the
 * summary), the op there, and what each side printed (null: nothing).
 */
public record Difference(int line, String op, String oracle, String emulator) {

    /**
     * The first difference between the oracle's and the emulator's output,
     * or null when they are the same.
     */
    public static Difference between(String oracleOutput, String emulatorOutput) {
        String[] o = oracleOutput.split("\n", -1);
        String[] e = emulatorOutput.split("\n", -1);
        int n = Math.max(o.length, e.length);
        for (int i = 0; i < n; i++) {
            String a = i < o.length ? o[i] : null;
            String b = i < e.length ? e[i] : null;
            if (a == null ? b != null : !a.equals(b)) {
                String first = a != null && statementLine(a) > 0 ? a : b;
                int line = first != null ? statementLine(first) : 0;
                String op = line > 0 ? first.split(" ")[2] : first == null ? "end" : kind(first);
                return new Difference(line, op, a, b);
            }
        }
        return null;
    }

    /** The line number a statement's output line starts with, or 0 for another line. */
    static int statementLine(String outputLine) {
        int sp = outputLine.indexOf(' ');
        if (sp <= 0) {
            return 0;
        }
        try {
            return Integer.parseInt(outputLine.substring(0, sp));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * What a line says, without the values that change from scenario to
     * scenario: "ok", "err EINVAL", "skip", "report use-after-free FUNCTION",
     * "summary", or "nothing".
     */
    static String kind(String outputLine) {
        if (outputLine == null) {
            return "nothing";
        }
        String[] t = outputLine.split(" ");
        if (statementLine(outputLine) > 0 && t.length >= 4) {
            return t[3].equals("err") && t.length > 4 ? "err " + t[4] : t[3];
        }
        if (t[0].equals("report") && t.length >= 3) {
            return "report " + t[1] + " " + t[2].replace(":", "");
        }
        if (t[0].startsWith("expectations")) {
            return "summary";
        }
        return t[0];
    }

    /** The difference without its values, to group scenarios that differ the same way. */
    public String signature() {
        String a = kind(oracle);
        String b = kind(emulator);
        if (a.equals(b)) {
            return op + ": both " + a + ", other values";
        }
        return op + ": oracle " + a + ", emulator " + b;
    }
}
