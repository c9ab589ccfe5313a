package dev.gemulator.gemscript;

import dev.gemulator.check.Report;
import dev.gemulator.kernel.KernelObserver;
import dev.gemulator.sched.InterleavingScheduler;
import java.util.List;

/**
 * What records a run of a script ({@link Runner#traceTo}): every kernel step
 * and lock (as a {@link KernelObserver}), every decision of the par blocks'
 * scheduler, and the run's own events below. The trace's recorder is one.
 */
public interface RunRecorder extends KernelObserver, InterleavingScheduler.DecisionListener {
    /** A statement is about to run: its line, thread, operation and arguments as text. */
    void request(int line, String thread, String op, List<String> args);

    /** A line of the run's output. */
    void line(String text);

    /** A checker's report at teardown. */
    void report(Report r);

    /** The run ended with {@code exitStatus}. */
    void end(int exitStatus);
}
