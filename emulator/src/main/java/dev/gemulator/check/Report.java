package dev.gemulator.check;

/**
 * A finding about the modelled kernel: what kind of bug, the kernel function
 * where it was detected (for a leak, the teardown step that found it), the
 * objects involved, and the step at which it happened.
 */
public record Report(Kind kind, String function, String detail, long step) {

    /** The kinds of finding, named as gemscript prints them. */
    public enum Kind {
        USE_AFTER_FREE("use-after-free"),
        REFCOUNT_UNDERFLOW("refcount-underflow"),
        REFCOUNT_OVERFLOW("refcount-overflow"),
        WARN("warn"),
        LEAK("leak"),
        DEADLOCK("deadlock"),
        LOCK_ORDER("lock-order"),
        LOCK_MISUSE("lock-misuse"),
        /** Not a checker's: explore's word for a schedule in which a stated expectation failed. */
        EXPECTATION("expectation");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** The gemscript line: {@code report KIND FUNCTION: DETAIL}. */
    public String line() {
        return "report " + kind.label + " " + function + ": " + detail;
    }
}
