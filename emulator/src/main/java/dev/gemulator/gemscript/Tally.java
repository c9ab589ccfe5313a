package dev.gemulator.gemscript;

import dev.gemulator.kernel.Errno;

/** The expectations of a run: how many held, how many failed, and the first that failed. */
final class Tally {
    private int passed;
    private int failed;
    private Script.Stmt firstFailedStmt;
    private String firstFailure;

    void pass() {
        passed++;
    }

    /** A statement that could not run as written (skipped, gone, hung): a failure with no expectation to name. */
    void fail() {
        failed++;
    }

    /** Statement {@code s} expected {@code expected} and got {@code got}. */
    void check(Script.Stmt s, Errno expected, Errno got) {
        if (got == expected) {
            passed++;
            return;
        }
        failed++;
        if (firstFailure == null) {
            firstFailedStmt = s;
            firstFailure = "line " + s.line() + ": " + s.op().opName() + " expected "
                    + (expected.isOk() ? "ok" : expected.name()) + ", got " + (got.isOk() ? "ok" : got.name());
        }
    }

    int passed() {
        return passed;
    }

    int failed() {
        return failed;
    }

    Script.Stmt firstFailedStatement() {
        return firstFailedStmt;
    }

    String firstFailure() {
        return firstFailure;
    }
}
