package dev.gemulator.difftest;

import java.util.ArrayList;
import java.util.List;

/**
 * A sequential scenario: comment lines, then one statement per line. Its
 * text is what both the oracle and the emulator run, so the line numbers
 * they print count the comment lines too.
 */
public record Scenario(List<String> comments, List<Line> lines) {

    public Scenario {
        comments = List.copyOf(comments);
        lines = List.copyOf(lines);
    }

    /** The file text. */
    public String text() {
        StringBuilder b = new StringBuilder();
        for (String c : comments) {
            b.append("# ").append(c).append('\n');
        }
        for (Line l : lines) {
            b.append(l.text()).append('\n');
        }
        return b.toString();
    }

    /** The file line number of statement {@code index}. */
    public int lineNumber(int index) {
        return comments.size() + index + 1;
    }

    /** The statement index of file line {@code lineNumber}, or -1 for a comment line. */
    public int index(int lineNumber) {
        int i = lineNumber - comments.size() - 1;
        return i >= 0 && i < lines.size() ? i : -1;
    }

    /** The same statements with {@code statement} replaced at {@code index}. */
    public Scenario with(int index, Line statement) {
        List<Line> l = new ArrayList<>(lines);
        l.set(index, statement);
        return new Scenario(comments, l);
    }

    /** Reads a version 0 scenario: leading comment lines, then statements (blank and comment lines between are dropped). */
    public static Scenario parse(String text) {
        List<String> comments = new ArrayList<>();
        List<Line> lines = new ArrayList<>();
        for (String raw : text.split("\n", -1)) {
            String s = raw.strip();
            if (lines.isEmpty() && s.startsWith("#")) {
                comments.add(s.substring(1).strip());
                continue;
            }
            Line l = Line.parse(raw);
            if (l != null) {
                lines.add(l);
            }
        }
        return new Scenario(comments, lines);
    }
}
