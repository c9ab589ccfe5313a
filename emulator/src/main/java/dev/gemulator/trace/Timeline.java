package dev.gemulator.trace;

import dev.gemulator.trace.TimelineModel.Held;
import dev.gemulator.trace.TimelineModel.Preemption;
import dev.gemulator.trace.TimelineModel.Report;
import dev.gemulator.trace.TimelineModel.Step;
import dev.gemulator.trace.TimelineModel.Switch;
import dev.gemulator.trace.TimelineModel.Syscall;
import dev.gemulator.proto.v1.TraceRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A trace as one self-contained HTML page (no script, no network) with an
 * SVG timeline that reads without hovering: a lane per thread, and in each
 * lane a box per system call labelled whole with its decoded statement and
 * result ({@link Names}: flags and errnos spelled out, objects named by what
 * they are), a box per kernel step coloured and lettered by what it does,
 * and bars for the locks the thread holds and waits for. Every switch from
 * one thread to another is a line between their lanes; a preemption (the
 * scheduler took the CPU from a thread that could have gone on) is drawn
 * thick and orange. Reports are red lines, behind the step where the
 * checker saw them. Below the lanes, a lifeline per object with its
 * reference count after every get and put, ending where it reaches 0. The
 * horizontal axis counts steps, not time, so that every step is as wide as
 * any other; the axis labels give virtual time too. Under the picture: the
 * reports and the output lines of the window's steps.
 *
 * <p>Every element also carries a title, which a browser shows on hover.
 */
public final class Timeline {
    private final TimelineModel m;

    private Timeline(TimelineModel m) {
        this.m = m;
    }

    /** A trace read once, for choosing a window and drawing it. */
    public static Timeline of(List<TraceRecord> records) {
        return new Timeline(TimelineModel.read(records));
    }

    /** The number of the trace's last step (0 without steps). */
    public long lastStep() {
        return m.lastStep();
    }

    public static Window focus(List<TraceRecord> records) {
        return of(records).focus();
    }

    public static Window defaultWindow(List<TraceRecord> records) {
        return of(records).defaultWindow();
    }

    public static String html(List<TraceRecord> records, Window window) {
        return of(records).html(window);
    }

    /** The steps to draw, both ends included. */
    public record Window(long fromStep, long toStep) {
        public Window {
            if (fromStep < 1 || toStep < fromStep) {
                throw new IllegalArgumentException("a window runs from step 1 or later to a step no earlier: "
                        + fromStep + ".." + toStep);
            }
        }

        boolean contains(long step) {
            return step >= fromStep && step <= toStep;
        }
    }

    /** Without a window, at most this many steps are drawn (the ones leading to the first report). */
    public static final int MAX_STEPS = 10_000;
    /** At most this many output lines are listed under the timeline. */
    static final int MAX_LINES = 2_000;

    static final String REPORT_RED = "#d62728";
    static final String PREEMPT_ORANGE = "#ff7f0e";
    static final String LOCK_PURPLE = "#9467bd";
    static final String SYSCALL_FILL = "#dce6f2";
    static final String LIFE_GREEN = "#1a9850";

    private static final int LABEL_W = 300;
    private static final int AXIS_H = 34;
    private static final int REPORT_ROW_H = 18;
    private static final int MAX_REPORT_ROWS = 6;
    private static final int SYSCALL_H = 20;
    private static final int STEP_H = 18;
    private static final int LOCK_ROW_H = 14;
    private static final int LABEL_ROW_H = 14;
    private static final int OBJECT_ROW_H = 20;
    /** At most this many objects get a lifeline. */
    static final int MAX_OBJECTS = 40;
    private static final int LANE_GAP = 12;

    /**
     * The window around the first report: from the start of the oldest system
     * call still in progress when the checker saw it to the end of the call
     * it saw it in (at least 8 steps on, at most 40), so the picture shows
     * just the calls that raced. Null when the trace has
     * no report at a step.
     */
    public Window focus() {
        Report first = m.reports.stream().filter(r -> r.step() > 0).findFirst().orElse(null);
        if (first == null) {
            return null;
        }
        long at = first.step();
        String reporter = m.steps.stream().filter(s -> s.index() == at).map(Step::task).findFirst().orElse("");
        long from = at;
        long to = at + 8;
        for (Syscall c : m.syscalls) {
            if (c.enter.index() <= at && c.last(m.lastStep()) >= at) {
                from = Math.min(from, c.enter.index());
                if (c.task.equals(reporter)) {
                    to = Math.max(to, Math.min(c.last(m.lastStep()), at + 40));
                }
            }
        }
        to = Math.min(to, Math.max(at, m.lastStep()));
        return new Window(Math.max(1, from), Math.max(Math.max(1, from), to));
    }

    /** The window drawn when none is asked for: everything, or the last MAX_STEPS steps up to the first report. */
    public Window defaultWindow() {
        long last = Math.max(1, m.lastStep());
        if (last <= MAX_STEPS) {
            return new Window(1, last);
        }
        long end = m.reports.stream().filter(r -> r.step() > 0).mapToLong(Report::step).map(s -> Math.min(last, s + 40))
                .findFirst().orElse(MAX_STEPS);
        end = Math.max(end, MAX_STEPS);
        return new Window(end - MAX_STEPS + 1, end);
    }

    /** The page, drawing the steps of {@code window}. */
    public String html(Window window) {
        return html(window, null);
    }

    /** The page, drawing the steps of {@code window} of the trace read from {@code tracePath} (named in its header). */
    public String html(Window window, String tracePath) {
        Names names = new Names(m);
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>")
                .append(esc(title(m))).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        Svg svg = m.steps.isEmpty() ? null : new Svg(m, window, b, names);
        summary(b, m, window, svg == null ? 0 : svg.laneTop.size(), tracePath);
        legend(b);
        b.append("<div class=\"scroll\">\n");
        if (svg == null) {
            b.append("<p>The trace has no kernel steps.</p>\n");
        } else {
            svg.draw();
        }
        b.append("</div>\n");
        reportTable(b, m, window, names);
        outputLines(b, m, window);
        b.append("</body>\n</html>\n");
        return b.toString();
    }

    /** The output lines recorded while the window's steps ran (a statement's line comes at its end). */
    private static void outputLines(StringBuilder b, TimelineModel m, Window w) {
        List<String> shown = new ArrayList<>();
        for (int i = 0; i < m.lines.size(); i++) {
            long at = m.lineSteps.get(i);
            if (at >= w.fromStep() && at <= w.toStep() || at == 0 && w.fromStep() == 1) { // 0: before the first step
                shown.add(m.lines.get(i));
            }
        }
        b.append("<h2>Output of steps ").append(w.fromStep()).append("&#8211;").append(w.toStep()).append("</h2>\n");
        b.append("<p class=\"meta\">").append(shown.size()).append(" of the run's ").append(m.lines.size())
                .append(" lines came while these steps ran; <code>gemulator trace show</code> prints them all.</p>\n<pre>");
        shown.stream().limit(MAX_LINES).forEach(l -> b.append(esc(l)).append('\n'));
        if (shown.size() > MAX_LINES) {
            b.append("\u2026 and ").append(shown.size() - MAX_LINES).append(" more lines\n");
        }
        b.append("</pre>\n");
    }

    private static String title(TimelineModel m) {
        return m.header == null ? "gemulator trace" : "gemulator: " + m.header.getScenarioPath() + " (" + m.header.getProfile()
                + ", " + m.header.getStrategy() + " seed " + m.header.getSeed() + ")";
    }

    private static void summary(StringBuilder b, TimelineModel m, Window w, int lanes, String tracePath) {
        b.append("<h1>").append(esc(title(m))).append("</h1>\n<p class=\"meta\">");
        if (m.header != null) {
            b.append(esc(m.header.getEmulatorVersion())).append(" &#183; scenario <code>")
                    .append(esc(m.header.getScenarioPath())).append("</code> &#183; profile <b>")
                    .append(esc(m.header.getProfile())).append("</b> &#183; strategy ").append(esc(m.header.getStrategy()))
                    .append(" &#183; seed ").append(m.header.getSeed()).append("<br/>");
        }
        long shownPreemptions = m.preemptionsIn(w);
        b.append("steps ").append(w.fromStep()).append("&#8211;").append(w.toStep()).append(" of ").append(m.lastStep())
                .append(" &#183; ").append(lanes).append(lanes == 1 ? " thread" : " threads").append(" drawn (")
                .append(m.tasks.size()).append(" in the run) &#183; ").append(shownPreemptions).append(" of ")
                .append(m.preemptions.size()).append(" preemptions shown &#183; ").append(m.reports.size())
                .append(m.reports.size() == 1 ? " report" : " reports");
        if (!m.ended) {
            b.append(" &#183; <b>the trace stops without its end</b> (its writer was stopped)");
        }
        if (m.header != null && !m.header.getStrategy().equals("arrival") && tracePath != null) {
            // a free-running server's trace has no schedule to replay
            b.append(" &#183; replay: <code>./gemulator replay ").append(esc(tracePath)).append("</code>");
        }
        b.append("</p>\n");
    }

    private static void legend(StringBuilder b) {
        b.append("<p class=\"legend\">");
        for (String kind : List.of("SYSCALL_ENTER", "LOCK", "UNLOCK", "GET", "PUT", "READ", "WRITE", "RELEASE", "TIMER")) {
            b.append("<span class=\"key\" style=\"background:").append(kindColour(kind)).append("\"></span>")
                    .append(kindLetter(kind).equals("\u2192") ? "\u2192\u2190" : kindLetter(kind)).append(' ')
                    .append(kind.equals("SYSCALL_ENTER") ? "syscall entry/exit" : kind.toLowerCase(Locale.ROOT)).append(' ');
        }
        b.append("<span class=\"key\" style=\"background:").append(SYSCALL_FILL).append(";border:1px solid #5b7da3\"></span>")
                .append("system call ").append("<span class=\"key\" style=\"background:").append(LOCK_PURPLE)
                .append("\"></span>lock held ").append("<span class=\"key\" style=\"border:1px dashed ").append(LOCK_PURPLE)
                .append(";width:9px;height:9px\"></span>lock waited for ").append("<span style=\"color:").append(LOCK_PURPLE)
                .append(";font-weight:bold;margin-left:8px\">&#8594;</span> lock hand-off ").append("<span class=\"key\" style=\"background:").append(PREEMPT_ORANGE)
                .append("\"></span>preemption ").append("<span class=\"key\" style=\"background:#999\"></span>switch ")
                .append("<span class=\"key\" style=\"background:").append(LIFE_GREEN).append("\"></span>object alive (its refcount) ")
                .append("<span class=\"key\" style=\"background:").append(REPORT_RED).append("\"></span>report</p>\n");
    }

    private static void reportTable(StringBuilder b, TimelineModel m, Window w, Names names) {
        b.append("<h2>Reports</h2>\n");
        if (m.reports.isEmpty()) {
            b.append("<p>None.</p>\n");
            return;
        }
        b.append("<table>\n<tr><th>step</th><th>kind</th><th>function</th><th>detail</th></tr>\n");
        for (Report r : m.reports) {
            b.append("<tr").append(w.contains(r.step()) ? "" : " class=\"outside\"").append("><td>")
                    .append(w.contains(r.step()) ? "<a href=\"#step-" + r.step() + "\">" + r.step() + "</a>" : r.step())
                    .append("</td><td>").append(esc(r.kind())).append("</td><td>").append(esc(r.function()))
                    .append("</td><td>").append(esc(names.decode(r.detail()))).append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    static String kindColour(String kind) {
        return switch (kind) {
            case "SYSCALL_ENTER", "SYSCALL_EXIT" -> "#8c8c8c";
            case "LOCK", "SPIN_LOCK" -> "#8c564b";
            case "UNLOCK", "SPIN_UNLOCK" -> "#c49c94";
            case "GET" -> "#2ca02c";
            case "PUT" -> "#98df8a";
            case "READ" -> "#1f77b4";
            case "WRITE" -> "#17becf";
            case "RELEASE" -> "#bcbd22";
            default -> "#7f7f7f";
        };
    }

    private static String kindLetter(String kind) {
        return switch (kind) {
            case "SYSCALL_ENTER" -> "\u2192";
            case "SYSCALL_EXIT" -> "\u2190";
            case "LOCK", "SPIN_LOCK" -> "L";
            case "UNLOCK", "SPIN_UNLOCK" -> "U";
            case "GET" -> "+";
            case "PUT" -> "\u2212";
            case "READ" -> "r";
            case "WRITE" -> "w";
            case "RELEASE" -> "R";
            default -> "T";
        };
    }

    /** Draws the timeline of one window: lanes of threads, then a lifeline per object. */
    private static final class Svg {
        private static final double CHAR_W = 6.7;
        private final TimelineModel m;
        private final Window w;
        private final StringBuilder b;
        private final Names names;
        private final int colW;
        private final int labelW;
        final Map<String, Integer> laneTop = new LinkedHashMap<>();
        private final Map<String, Integer> labelRows = new HashMap<>();
        private final Map<Syscall, Integer> labelRow = new HashMap<>();
        /** Where a label on a row of its own starts: at its box, or ending at the window's end when it would pass it. */
        private final Map<Syscall, Integer> labelX = new HashMap<>();
        /** Where a lock label outside its bar starts: after the bar, or before it near the window's end. */
        private final Map<Held, Integer> lockLabelX = new HashMap<>();
        private final Map<String, Integer> lockRows = new HashMap<>();
        private final Map<Held, Integer> heldRow = new HashMap<>();
        private final Map<Held, Boolean> labelInside = new HashMap<>();
        private final Map<String, Integer> objectRow = new LinkedHashMap<>();
        private final Map<String, List<Step>> objectSteps = new LinkedHashMap<>();
        private final List<Report> shownReports;
        private final Set<Long> reportedSteps = new HashSet<>();
        private final int reportRows;
        private int objectsTop;
        private int height;
        /** Objects the window gets or puts that have no lifeline (past {@link #MAX_OBJECTS}). */
        private final int objectsLeftOut;
        /** The right end of the widest label (labels are whole, so the picture is as wide as they need). */
        private int rightmost;

        Svg(TimelineModel m, Window w, StringBuilder b, Names names) {
            this.m = m;
            this.w = w;
            this.b = b;
            this.names = names;
            long n = w.toStep() - w.fromStep() + 1;
            this.colW = (int) Math.max(3, Math.min(30, Math.round(1500.0 / n)));
            this.shownReports = m.reports.stream().filter(r -> w.contains(r.step())).toList();
            shownReports.forEach(r -> reportedSteps.add(r.step()));
            this.reportRows = Math.min(MAX_REPORT_ROWS, shownReports.size());
            Map<String, List<Step>> all = new LinkedHashMap<>();
            for (Step s : m.steps) {
                if (w.contains(s.index()) && s.counted()) {
                    all.computeIfAbsent(s.subject(), k -> new ArrayList<>()).add(s);
                }
            }
            // at most MAX_OBJECTS lifelines: those a report names first, then the busiest, in order of first use
            Set<String> reported = new HashSet<>();
            shownReports.forEach(r -> all.keySet().stream().filter(o -> r.detail().contains(o)).forEach(reported::add));
            List<String> chosen = all.keySet().stream().sorted(Comparator
                    .<String>comparingInt(o -> reported.contains(o) ? 0 : 1).thenComparing(o -> -all.get(o).size()))
                    .limit(MAX_OBJECTS).toList();
            all.forEach((o, steps) -> {
                if (chosen.contains(o)) {
                    objectSteps.put(o, steps);
                }
            });
            this.objectsLeftOut = all.size() - objectSteps.size();
            int longest = 8;
            for (String o : objectSteps.keySet()) {
                longest = Math.max(longest, names.of(o).length());
            }
            this.labelW = (int) Math.max(140, Math.min(560, CHAR_W * longest + 16));
            layOut();
        }

        /** The threads with anything in the window, in order of first appearance. */
        private List<String> shownTasks() {
            Set<String> busy = new HashSet<>();
            m.steps.stream().filter(s -> w.contains(s.index())).forEach(s -> busy.add(s.task()));
            m.syscalls.stream().filter(c -> c.enter.index() <= w.toStep() && c.last(m.lastStep()) >= w.fromStep())
                    .forEach(c -> busy.add(c.task));
            m.held.stream().filter(h -> h.from() <= w.toStep() && h.to() >= w.fromStep()).forEach(h -> busy.add(h.task()));
            return m.tasks.stream().filter(busy::contains).toList();
        }

        private static int textW(String text) {
            return (int) Math.ceil(CHAR_W * text.length()) + 8;
        }

        /** Rows so that nothing overlaps: labels too wide for their box go on rows above the boxes. */
        private void layOut() {
            int y = AXIS_H + reportRows * REPORT_ROW_H + 6;
            Map<String, List<Held>> heldInWindow = new HashMap<>();
            m.held.stream().filter(h -> h.to() >= w.fromStep() && h.from() <= w.toStep())
                    .sorted(Comparator.comparingLong(Held::from))
                    .forEach(h -> heldInWindow.computeIfAbsent(h.task(), k -> new ArrayList<>()).add(h));
            Map<String, List<Syscall>> callsInWindow = new HashMap<>();
            m.syscalls.stream().filter(c -> c.enter.index() <= w.toStep() && c.last(m.lastStep()) >= w.fromStep())
                    .forEach(c -> callsInWindow.computeIfAbsent(c.task, k -> new ArrayList<>()).add(c));
            for (String task : shownTasks()) {
                List<Integer> rowEnds = new ArrayList<>();
                for (Syscall c : callsInWindow.getOrDefault(task, List.of())) {
                    int x0 = x(Math.max(c.enter.index(), w.fromStep()));
                    int wd = x(Math.min(c.last(m.lastStep()), w.toStep()) + 1) - x0;
                    int tw = textW(names.label(c));
                    if (tw <= wd) {
                        continue; // fits in its box
                    }
                    int lx = Math.max(labelW, Math.min(x0, windowEnd() - tw));
                    int row = 0;
                    while (row < rowEnds.size() && rowEnds.get(row) > lx) {
                        row++;
                    }
                    if (row == rowEnds.size()) {
                        rowEnds.add(0);
                    }
                    rowEnds.set(row, lx + tw + 4);
                    rightmost = Math.max(rightmost, lx + tw + 4);
                    labelRow.put(c, row);
                    labelX.put(c, lx);
                }
                labelRows.put(task, rowEnds.size());
                List<Integer> lockEnds = new ArrayList<>();
                for (Held h : heldInWindow.getOrDefault(task, List.of())) {
                    int x0 = x(Math.max(h.from(), w.fromStep()));
                    int x1 = x(Math.min(h.to(), w.toStep()) + 1);
                    int tw = textW(lockLabel(h) + (h.ended() ? "" : " (never released)"));
                    boolean inside = tw <= x1 - x0;
                    boolean before = !inside && x1 + 3 + tw > windowEnd() && x0 - 3 - tw >= labelW;
                    int start = before ? x0 - 3 - tw : x0;
                    int occupied = inside || before ? x1 : x1 + 3 + tw;
                    if (!inside) {
                        lockLabelX.put(h, before ? start : x1 + 3);
                    }
                    int row = 0;
                    while (row < lockEnds.size() && lockEnds.get(row) > start) {
                        row++;
                    }
                    if (row == lockEnds.size()) {
                        lockEnds.add(0);
                    }
                    lockEnds.set(row, occupied + 2);
                    rightmost = Math.max(rightmost, occupied + 2);
                    heldRow.put(h, row);
                    labelInside.put(h, inside);
                }
                lockRows.put(task, Math.max(1, lockEnds.size()));
                laneTop.put(task, y);
                y += labelRows.get(task) * LABEL_ROW_H + SYSCALL_H + STEP_H + lockRows.get(task) * LOCK_ROW_H + LANE_GAP;
            }
            objectsTop = y + (objectSteps.isEmpty() ? 0 : 16);
            int row = 0;
            for (String o : objectSteps.keySet()) {
                objectRow.put(o, row++);
            }
            height = objectsTop + row * OBJECT_ROW_H + 8;
        }

        private static String lockLabel(Held h) {
            return (h.waiting() ? "waits for " : "") + h.lock();
        }

        private int x(long step) {
            return labelW + (int) (step - w.fromStep()) * colW;
        }

        /** The right end of the window's last step. */
        private int windowEnd() {
            return x(w.toStep() + 1);
        }

        private int width() {
            int widest = Math.max(x(w.toStep() + 1) + 20, rightmost + 8);
            for (Report r : shownReports) {
                int lw = textW(r.kind() + " in " + r.function());
                int xx = x(r.step()) + colW / 2;
                widest = Math.max(widest, xx - 4 + lw <= windowEnd() + 20 ? xx + lw : xx + 8);
            }
            return widest;
        }

        private int callTop(String task) {
            return laneTop.get(task) + labelRows.get(task) * LABEL_ROW_H;
        }

        private int stepMid(String task) {
            return callTop(task) + SYSCALL_H + STEP_H / 2;
        }

        void draw() {
            b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width()).append("\" height=\"")
                    .append(height).append("\" viewBox=\"0 0 ").append(width()).append(' ').append(height)
                    .append("\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"11\">\n");
            b.append("<rect x=\"0\" y=\"0\" width=\"").append(width()).append("\" height=\"").append(height)
                    .append("\" fill=\"#ffffff\"/>\n");
            b.append("<defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"7\" ")
                    .append("markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"").append(LOCK_PURPLE)
                    .append("\"/></marker></defs>\n");
            axis();
            reports(); // behind the boxes: a report's line never hides the step it reports
            lanes();
            switches();
            handOffs();
            objects();
            b.append("</svg>\n");
        }

        private void axis() {
            long n = w.toStep() - w.fromStep() + 1;
            long every = Math.max(1, (long) Math.ceil(64.0 / colW));
            Map<Long, Long> timeAt = new HashMap<>();
            m.steps.forEach(s -> timeAt.put(s.index(), s.timeNs()));
            b.append("<g class=\"axis\">\n");
            for (long i = 0; i < n; i += every) {
                long step = w.fromStep() + i;
                int xx = x(step);
                b.append("<line x1=\"").append(xx).append("\" y1=\"").append(AXIS_H - 8).append("\" x2=\"").append(xx)
                        .append("\" y2=\"").append(height).append("\" stroke=\"#eeeeee\"/>\n");
                b.append("<text x=\"").append(xx + 2).append("\" y=\"12\" fill=\"#555\">").append(step).append("</text>\n");
                Long t = timeAt.get(step);
                if (t != null) {
                    b.append("<text x=\"").append(xx + 2).append("\" y=\"24\" fill=\"#999\">")
                            .append(String.format(Locale.ROOT, "%.1fus", t / 1000.0)).append("</text>\n");
                }
            }
            b.append("<text x=\"4\" y=\"12\" fill=\"#555\">step</text>\n<text x=\"4\" y=\"24\" fill=\"#999\">virtual time</text>\n");
            b.append("</g>\n");
        }

        private void lanes() {
            for (String task : laneTop.keySet()) {
                int top = laneTop.get(task);
                int laneH = labelRows.get(task) * LABEL_ROW_H + SYSCALL_H + STEP_H + lockRows.get(task) * LOCK_ROW_H;
                b.append("<g class=\"lane\" data-task=\"").append(esc(task)).append("\">\n");
                b.append("<line x1=\"0\" y1=\"").append(top - LANE_GAP / 2).append("\" x2=\"").append(width())
                        .append("\" y2=\"").append(top - LANE_GAP / 2).append("\" stroke=\"#cccccc\"/>\n");
                b.append("<text x=\"6\" y=\"").append(callTop(task) + 14).append("\" font-weight=\"bold\" font-size=\"13\">")
                        .append(esc(task)).append("</text>\n");
                b.append("<text x=\"6\" y=\"").append(callTop(task) + SYSCALL_H + 12).append("\" fill=\"#777\">kernel steps</text>\n");
                b.append("<text x=\"6\" y=\"").append(top + laneH - 3).append("\" fill=\"#777\">locks</text>\n");
                b.append("</g>\n");
            }
            for (Syscall c : m.syscalls) {
                syscallBox(c);
            }
            for (Step s : m.steps) {
                if (w.contains(s.index())) {
                    stepBox(s);
                }
            }
            for (Held h : m.held) {
                if (heldRow.containsKey(h)) {
                    heldBar(h);
                }
            }
        }

        private void syscallBox(Syscall c) {
            long from = Math.max(c.enter.index(), w.fromStep());
            long to = Math.min(c.last(m.lastStep()), w.toStep());
            if (to < from || !laneTop.containsKey(c.task)) {
                return;
            }
            int x0 = x(from);
            int wd = x(to + 1) - x0;
            int top = callTop(c.task);
            String label = names.label(c);
            b.append("<g class=\"syscall\"><title>").append(esc(c.task + ": " + label + " (steps " + c.enter.index() + "-"
                    + (c.exit == null ? "unfinished" : c.exit.index()) + ")")).append("</title>");
            b.append("<rect x=\"").append(x0).append("\" y=\"").append(top).append("\" width=\"").append(wd)
                    .append("\" height=\"").append(SYSCALL_H - 3).append("\" rx=\"3\" fill=\"").append(SYSCALL_FILL)
                    .append("\" stroke=\"#5b7da3\"/>");
            Integer row = labelRow.get(c);
            int ty = row == null ? top + 13 : laneTop.get(c.task) + row * LABEL_ROW_H + 11;
            int tx = row == null ? x0 + 3 : labelX.get(c) + 3;
            if (row != null) { // above the box, on a row of its own: a tick joins them
                int tick = Math.max(x0 + 1, Math.min(tx, x0 + wd - 2));
                b.append("<line x1=\"").append(tick).append("\" y1=\"").append(ty + 2).append("\" x2=\"").append(tick)
                        .append("\" y2=\"").append(top).append("\" stroke=\"#5b7da3\"/>");
            }
            b.append("<text x=\"").append(tx).append("\" y=\"").append(ty).append("\" fill=\"#1d3557\">")
                    .append(esc(label)).append("</text>");
            b.append("</g>\n");
        }

        private void stepBox(Step s) {
            if (!laneTop.containsKey(s.task())) {
                return;
            }
            int top = callTop(s.task()) + SYSCALL_H;
            boolean reported = reportedSteps.contains(s.index());
            b.append("<g class=\"step\" id=\"step-").append(s.index()).append("\"><title>").append(esc("step " + s.index()
                    + "  " + s.task() + "  " + s.kind() + "  " + s.function()
                    + (s.subject().isEmpty() ? "" : "  " + names.of(s.subject()))
                    + (s.counted() ? "  refcount " + s.refcount() + " \u2192 " + s.refcountAfter() : "")
                    + String.format(Locale.ROOT, "  at %.3f us", s.timeNs() / 1000.0))).append("</title>");
            b.append("<rect x=\"").append(x(s.index())).append("\" y=\"").append(top).append("\" width=\"")
                    .append(Math.max(1, colW - 1)).append("\" height=\"").append(STEP_H - 2).append("\" fill=\"")
                    .append(kindColour(s.kind())).append('"')
                    .append(reported ? " stroke=\"" + REPORT_RED + "\" stroke-width=\"2\"" : "").append("/>");
            if (colW >= 9) {
                b.append("<text x=\"").append(x(s.index()) + colW / 2).append("\" y=\"").append(top + 12)
                        .append("\" text-anchor=\"middle\" fill=\"#ffffff\" font-size=\"11\" font-weight=\"bold\">")
                        .append(esc(kindLetter(s.kind()))).append("</text>");
            }
            b.append("</g>\n");
        }

        /** Arrows from a lock's release to the thread that waited for it and got it. */
        private void handOffs() {
            for (TimelineModel.HandOff h : m.handOffs()) {
                if (!w.contains(h.unlockStep()) || !w.contains(h.gotAfterStep() + 1)
                        || !laneTop.containsKey(h.from()) || !laneTop.containsKey(h.to())) {
                    continue;
                }
                int x1 = x(h.unlockStep()) + colW / 2;
                int y1 = callTop(h.from()) + SYSCALL_H + STEP_H + 4;
                int x2 = x(h.gotAfterStep() + 1);
                int y2 = callTop(h.to()) + SYSCALL_H + STEP_H + 4;
                b.append("<g class=\"handoff\"><title>").append(esc(h.from() + " lets " + h.lock() + " go at step "
                        + h.unlockStep() + "; " + h.to() + ", which waited for it, gets it")).append("</title>")
                        .append("<path d=\"M").append(x1).append(',').append(y1).append(" C").append(x1 + 12).append(',')
                        .append(y1).append(' ').append(x2 - 12).append(',').append(y2).append(' ').append(x2).append(',')
                        .append(y2).append("\" fill=\"none\" stroke=\"").append(LOCK_PURPLE)
                        .append("\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/></g>\n");
            }
        }

        private void heldBar(Held h) {
            long from = Math.max(h.from(), w.fromStep());
            long to = Math.min(h.to(), w.toStep());
            int x0 = x(from);
            int wd = Math.max(2, x(to + 1) - x0 - 1);
            int y = callTop(h.task()) + SYSCALL_H + STEP_H + heldRow.get(h) * LOCK_ROW_H;
            String title = h.waiting()
                    ? h.task() + " waits for " + h.lock() + ", which " + h.holder() + " held, from step " + h.from()
                            + (h.ended() ? "; gets it after step " + h.to() : "; never gets it")
                    : h.task() + " holds " + h.lock() + " from step " + h.from()
                            + (h.ended() ? " to step " + h.to() : ", never released");
            b.append("<g class=\"").append(h.waiting() ? "wait" : "held").append("\"><title>").append(esc(title))
                    .append("</title>");
            b.append("<rect x=\"").append(x0).append("\" y=\"").append(y).append("\" width=\"").append(wd)
                    .append("\" height=\"").append(LOCK_ROW_H - 2).append(h.waiting()
                            ? "\" fill=\"#ffffff\" stroke=\"" + LOCK_PURPLE + "\" stroke-dasharray=\"3 2\""
                            : "\" fill=\"" + LOCK_PURPLE + "\"")
                    .append(h.ended() ? "" : " stroke=\"" + REPORT_RED + "\" stroke-width=\"2\"").append("/>");
            boolean inside = labelInside.getOrDefault(h, true);
            b.append("<text x=\"").append(inside ? x0 + 3 : lockLabelX.getOrDefault(h, x0 + wd + 4)).append("\" y=\"").append(y + 10)
                    .append("\" fill=\"").append(inside && !h.waiting() ? "#ffffff" : LOCK_PURPLE)
                    .append("\" font-size=\"10\">").append(esc(lockLabel(h) + (h.ended() ? "" : h.waiting()
                            ? " (never gets it)" : " (never released)"))).append("</text>");
            b.append("</g>\n");
        }

        private void switches() {
            for (Switch s : m.switches) {
                if (!w.contains(s.step()) || s.step() == w.fromStep() || !laneTop.containsKey(s.from())
                        || !laneTop.containsKey(s.to())) {
                    continue;
                }
                int xx = x(s.step());
                b.append("<g class=\"switch\"><title>").append(esc((s.preempted() ? "preemption: " : "switch: ") + s.from()
                        + " \u2192 " + s.to() + " at step " + s.step())).append("</title><line x1=\"").append(xx)
                        .append("\" y1=\"").append(stepMid(s.from())).append("\" x2=\"").append(xx).append("\" y2=\"")
                        .append(stepMid(s.to())).append(s.preempted() ? "\" stroke=\"" + PREEMPT_ORANGE + "\" stroke-width=\"3\"/>"
                                : "\" stroke=\"#999999\" stroke-dasharray=\"2 2\"/>").append("</g>\n");
            }
            for (Preemption p : m.preemptions) {
                if (!w.contains(p.step())) {
                    continue;
                }
                int xx = x(p.step());
                b.append("<g class=\"preemption\"><title>").append(esc("preemption before step " + p.step() + ": "
                        + p.from() + " could have gone on, " + p.to() + " ran")).append("</title><polygon points=\"")
                        .append(xx - 5).append(',').append(AXIS_H - 8).append(' ').append(xx + 5).append(',')
                        .append(AXIS_H - 8).append(' ').append(xx).append(',').append(AXIS_H).append("\" fill=\"")
                        .append(PREEMPT_ORANGE).append("\"/></g>\n");
            }
        }

        private void reports() {
            for (int i = 0; i < shownReports.size(); i++) {
                Report r = shownReports.get(i);
                int xx = x(r.step()) + colW / 2;
                int row = Math.min(i, MAX_REPORT_ROWS - 1);
                int y = AXIS_H + row * REPORT_ROW_H;
                String label = r.kind() + " in " + r.function();
                int lw = textW(label);
                int lx = xx - 4 + lw <= windowEnd() + 20 ? xx - 4 : Math.max(labelW, xx + 4 - lw);
                b.append("<g class=\"report\"><title>").append(esc("step " + r.step() + ": " + r.kind() + " "
                        + r.function() + ": " + names.decode(r.detail()))).append("</title>");
                b.append("<line x1=\"").append(xx).append("\" y1=\"").append(y + REPORT_ROW_H - 3).append("\" x2=\"")
                        .append(xx).append("\" y2=\"").append(height).append("\" stroke=\"").append(REPORT_RED)
                        .append("\" stroke-width=\"2\"/>");
                if (i < MAX_REPORT_ROWS) {
                    b.append("<rect x=\"").append(lx).append("\" y=\"").append(y).append("\" width=\"").append(lw)
                            .append("\" height=\"").append(REPORT_ROW_H - 3).append("\" rx=\"2\" fill=\"").append(REPORT_RED)
                            .append("\"/><text x=\"").append(lx + 4).append("\" y=\"").append(y + 11)
                            .append("\" fill=\"#ffffff\">").append(esc(label)).append("</text>");
                }
                b.append("</g>\n");
            }
        }

        /**
         * A lifeline per object the window's steps get or put: from its first
         * such step to its last, with the count after each; where the count
         * reaches 0 the object is released and the line stops; a get on a
         * count of 0 (the object was freed) is marked red.
         */
        private void objects() {
            if (objectSteps.isEmpty()) {
                return;
            }
            b.append("<text x=\"6\" y=\"").append(objectsTop - 4).append("\" font-weight=\"bold\" font-size=\"12\">")
                    .append("objects (reference counts)").append(objectsLeftOut == 0 ? ""
                            : ", " + objectsLeftOut + " more not drawn (--steps for a smaller window)").append("</text>\n");
            for (var e : objectSteps.entrySet()) {
                String o = e.getKey();
                List<Step> steps = e.getValue();
                int y = objectsTop + objectRow.get(o) * OBJECT_ROW_H;
                int mid = y + OBJECT_ROW_H / 2 + 2;
                String name = names.of(o);
                b.append("<g class=\"object\" data-object=\"").append(esc(o)).append("\"><title>").append(esc(name))
                        .append("</title>");
                b.append("<text x=\"6\" y=\"").append(mid + 4).append("\" fill=\"#333\">").append(esc(name)).append("</text>");
                int start = x(steps.getFirst().index());
                int refcountBefore = steps.getFirst().refcount();
                boolean alive = refcountBefore > 0 || steps.getFirst().kind().equals("PUT");
                if (refcountBefore > 0 && steps.getFirst().index() > w.fromStep()) {
                    start = x(w.fromStep()); // it existed before the window
                }
                int lastX = start;
                for (Step s : steps) {
                    int sx = x(s.index()) + colW / 2;
                    boolean onFreed = s.kind().equals("GET") && s.refcount() <= 0;
                    if (alive) {
                        b.append("<line x1=\"").append(lastX).append("\" y1=\"").append(mid).append("\" x2=\"").append(sx)
                                .append("\" y2=\"").append(mid).append("\" stroke=\"").append(LIFE_GREEN)
                                .append("\" stroke-width=\"3\"/>");
                    }
                    String colour = onFreed ? REPORT_RED : s.kind().equals("GET") ? LIFE_GREEN : "#555555";
                    b.append("<circle cx=\"").append(sx).append("\" cy=\"").append(mid).append("\" r=\"7\" fill=\"")
                            .append(onFreed ? REPORT_RED : "#ffffff").append("\" stroke=\"").append(colour)
                            .append("\" stroke-width=\"2\"><title>").append(esc("step " + s.index() + ": " + s.task() + " "
                                    + s.kind().toLowerCase(Locale.ROOT) + " in " + s.function() + ", refcount "
                                    + s.refcount() + " \u2192 " + s.refcountAfter() + (onFreed ? " (it was freed)" : "")))
                            .append("</title></circle>");
                    b.append("<text x=\"").append(sx).append("\" y=\"").append(mid + 4)
                            .append("\" text-anchor=\"middle\" font-size=\"10\" font-weight=\"bold\" fill=\"")
                            .append(onFreed ? "#ffffff" : "#222").append("\">").append(Math.max(0, s.refcountAfter()))
                            .append("</text>");
                    lastX = sx;
                    alive = s.refcountAfter() > 0;
                    if (!alive && !onFreed) {
                        b.append("<text x=\"").append(sx + 10).append("\" y=\"").append(mid + 4)
                                .append("\" font-size=\"10\" fill=\"").append(REPORT_RED).append("\">freed</text>");
                    }
                }
                if (alive && steps.getLast().index() < w.toStep()) {
                    b.append("<line x1=\"").append(lastX).append("\" y1=\"").append(mid).append("\" x2=\"")
                            .append(x(w.toStep() + 1)).append("\" y2=\"").append(mid).append("\" stroke=\"")
                            .append(LIFE_GREEN).append("\" stroke-width=\"3\" stroke-opacity=\"0.5\"/>");
                }
                b.append("</g>\n");
            }
        }
    }

    private static final String CSS = """
            body { font-family: sans-serif; margin: 16px; color: #222; background: #ffffff; }
            h1 { font-size: 18px; margin: 0 0 6px 0; }
            h2 { font-size: 15px; margin: 18px 0 6px 0; }
            p.meta { font-size: 13px; margin: 0 0 8px 0; }
            p.legend { font-size: 12px; margin: 0 0 8px 0; }
            span.key { display: inline-block; width: 11px; height: 11px; margin: 0 4px 0 8px; vertical-align: -1px; }
            div.scroll { overflow-x: auto; border: 1px solid #ddd; }
            svg { display: block; }
            svg text { white-space: pre; }
            table { border-collapse: collapse; font-size: 12px; }
            td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
            tr.outside { color: #888; }
            pre { font-size: 12px; background: #f6f6f6; padding: 6px; }
            """;

    /** Escapes text for HTML and XML alike. */
    static String esc(String s) {
        StringBuilder out = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t') {
                        out.append("&#xfffd;");
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
