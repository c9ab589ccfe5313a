package dev.gemulator.explore;

import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.proto.v1.TraceStep;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A finding as one screen: one column per thread, one row per step that
 * matters, in the order they ran. Steps that matter are the system calls
 * the threads entered, the steps on the objects the finding names (and, by
 * one hop, the objects those steps' functions touched), the locks taken and
 * dropped around them, and each statement's result.
 */
public final class FindingTable {
    private static final Pattern OBJECT = Pattern.compile("(gem|file|dma-buf|fence|master)#\\d+");
    private static final int WIDTH = 44;
    private static final int MAX_ROWS = 48;

    private FindingTable() {
    }

    private static Set<String> objectsIn(String text) {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = OBJECT.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    private static boolean mentions(TraceStep s, Set<String> objects) {
        for (String o : objectsIn(s.getSubject())) {
            if (objects.contains(o)) {
                return true;
            }
        }
        return false;
    }

    /** The table for the finding whose report detail is {@code detail}, from a trace of the run. */
    public static String render(List<TraceRecord> records, String detail) {
        return render(records, detail, task -> task.contains("."), false);
    }

    /**
     * The same, with one column per task for which {@code column} holds
     * (every client thread of a race) and a row in the table.
     */
    public static String render(List<TraceRecord> records, String detail, Predicate<String> column) {
        return render(records, detail, column, true);
    }

    private static String render(List<TraceRecord> records, String detail, Predicate<String> column,
            boolean dropEmpty) {
        Set<String> objects = objectsIn(detail);
        long reportStep = Long.MAX_VALUE;
        for (TraceRecord r : records) {
            if (r.hasReport() && r.getReport().getDetail().equals(detail)) {
                reportStep = r.getReport().getStep();
                break;
            }
        }
        List<String> threads = new ArrayList<>();
        for (TraceRecord r : records) {
            if (r.hasStep() && column.test(r.getStep().getTask()) && !threads.contains(r.getStep().getTask())) {
                threads.add(r.getStep().getTask());
            }
        }
        // one hop: objects touched by functions that touched the named ones
        Set<String> functions = new LinkedHashSet<>();
        for (TraceRecord r : records) {
            if (r.hasStep() && mentions(r.getStep(), objects) && !r.getStep().getKind().equals("SYSCALL_ENTER")) {
                functions.add(r.getStep().getFunction());
            }
        }
        functions.remove("fdget");
        functions.remove("fdput");
        Set<String> related = new LinkedHashSet<>(objects);
        for (TraceRecord r : records) {
            if (r.hasStep() && functions.contains(r.getStep().getFunction())) {
                related.addAll(objectsIn(r.getStep().getSubject()));
            }
        }
        List<String[]> rows = new ArrayList<>();
        for (TraceRecord r : records) {
            if (r.hasStep() && r.getStep().getIndex() > reportStep) {
                break;
            }
            if (r.hasStep()) {
                TraceStep s = r.getStep();
                int col = threads.indexOf(s.getTask());
                if (col < 0) {
                    continue;
                }
                boolean syscall = s.getKind().equals("SYSCALL_ENTER");
                boolean lock = s.getKind().endsWith("LOCK") && !s.getKind().startsWith("SPIN");
                if (syscall || lock || mentions(s, related)) {
                    String cell = syscall ? "> " + s.getFunction()
                            : s.getKind() + " " + s.getSubject() + " (" + s.getFunction() + ")";
                    rows.add(row(threads.size(), col, String.valueOf(s.getIndex()), cell));
                }
            } else if (r.hasLockWait()) {
                var lw = r.getLockWait();
                int col = threads.indexOf(lw.getTask());
                if (col >= 0) {
                    rows.add(row(threads.size(), col, "", lw.getGot() ? "(gets " + lw.getLock() + ")"
                            : "(waits: " + lw.getHolder() + " holds it)"));
                }
            } else if (r.hasLine()) {
                String text = r.getLine().getText();
                for (int col = 0; col < threads.size(); col++) {
                    if (text.contains(" " + threads.get(col) + " ")) {
                        rows.add(row(threads.size(), col, "", "= " + text.substring(text.indexOf(threads.get(col))
                                + threads.get(col).length() + 1)));
                    }
                }
            }
        }
        if (rows.size() > MAX_ROWS) {
            rows = rows.subList(rows.size() - MAX_ROWS, rows.size());
        }
        if (dropEmpty) {
            List<Integer> keep = new ArrayList<>();
            for (int c = 0; c < threads.size(); c++) {
                for (String[] row : rows) {
                    if (!row[c + 1].isEmpty()) {
                        keep.add(c);
                        break;
                    }
                }
            }
            List<String> kept = new ArrayList<>();
            for (int c : keep) {
                kept.add(threads.get(c));
            }
            List<String[]> narrowed = new ArrayList<>();
            for (String[] row : rows) {
                String[] n = new String[keep.size() + 1];
                n[0] = row[0];
                for (int i = 0; i < keep.size(); i++) {
                    n[i + 1] = row[keep.get(i) + 1];
                }
                narrowed.add(n);
            }
            threads = kept;
            rows = narrowed;
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%7s", "step"));
        for (String t : threads) {
            sb.append(" | ").append(pad(t));
        }
        sb.append('\n').append("-".repeat(7));
        for (int i = 0; i < threads.size(); i++) {
            sb.append("-+-").append("-".repeat(WIDTH));
        }
        sb.append('\n');
        for (String[] row : rows) {
            sb.append(String.format("%7s", row[0]));
            for (int i = 1; i < row.length; i++) {
                sb.append(" | ").append(pad(row[i]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String[] row(int columns, int col, String step, String cell) {
        String[] row = new String[columns + 1];
        Arrays.fill(row, "");
        row[0] = step;
        row[col + 1] = cell;
        return row;
    }

    private static String pad(String s) {
        String t = s.length() > WIDTH ? s.substring(0, WIDTH - 1) + "~" : s;
        return t + " ".repeat(WIDTH - t.length());
    }
}
