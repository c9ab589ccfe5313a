package dev.gemulator.check;

import dev.gemulator.proto.v1.TraceReport;

/**
 * What makes a finding the same finding in another schedule: its kind and
 * what it is about (the kernel function of a report, the line of a failed
 * expectation, the process of a failed program, the op of an emulator bug).
 * Explore, race, the server's status and the shrinker count and match
 * findings by it; {@link #toString()} is the "kind subject" the reports print.
 */
public record FindingKey(Kind kind, String subject) implements Comparable<FindingKey> {

    /** The kinds of finding: a checker's report kinds and the ones of a whole run. */
    public enum Kind {
        USE_AFTER_FREE(Report.Kind.USE_AFTER_FREE),
        REFCOUNT_UNDERFLOW(Report.Kind.REFCOUNT_UNDERFLOW),
        REFCOUNT_OVERFLOW(Report.Kind.REFCOUNT_OVERFLOW),
        WARN(Report.Kind.WARN),
        LEAK(Report.Kind.LEAK),
        DEADLOCK(Report.Kind.DEADLOCK),
        LOCK_ORDER(Report.Kind.LOCK_ORDER),
        LOCK_MISUSE(Report.Kind.LOCK_MISUSE),
        /** A statement's stated expectation failed; the subject is "line N". */
        EXPECTATION(Report.Kind.EXPECTATION),
        /** A raced program exited with a status other than 0; the subject is its process. */
        EXIT_STATUS("exit-status"),
        /** A race's seed ran out of time; the subject is "run". */
        TIMEOUT("timeout"),
        /** A request the emulator could not serve (a bug of ours); the subject is the op. */
        EMULATOR_BUG("emulator-bug");

        private final String label;
        private final Report.Kind report;

        Kind(Report.Kind report) {
            this.label = report.label();
            this.report = report;
        }

        Kind(String label) {
            this.label = label;
            this.report = null;
        }

        public String label() {
            return label;
        }

        /** Whether this kind is a report's (a checker's or a failed expectation's), not the whole program's. */
        public boolean isReport() {
            return report != null;
        }

        /** The kind of a report of kind {@code k}. */
        public static Kind of(Report.Kind k) {
            for (Kind x : values()) {
                if (x.report == k) {
                    return x;
                }
            }
            throw new IllegalArgumentException("no finding kind for " + k);
        }

        /** The kind written {@code label}, or null when there is none. */
        public static Kind byLabel(String label) {
            for (Kind x : values()) {
                if (x.label.equals(label)) {
                    return x;
                }
            }
            return null;
        }
    }

    /** The key of a report: its kind and kernel function. */
    public static FindingKey of(Report r) {
        return new FindingKey(Kind.of(r.kind()), r.function());
    }

    /** Whether the report {@code r} is this finding. */
    public boolean matches(Report r) {
        return kind.report == r.kind() && subject.equals(r.function());
    }

    /** Whether a trace's report record is this finding. */
    public boolean matches(TraceReport r) {
        return kind.isReport() && kind.label.equals(r.getKind()) && subject.equals(r.getFunction());
    }

    /** "kind subject", as the reports and the server's status print it. */
    @Override
    public String toString() {
        return kind.label + " " + subject;
    }

    /** In the order of their printed form, the order the reports list findings in. */
    @Override
    public int compareTo(FindingKey o) {
        return toString().compareTo(o.toString());
    }
}
