package dev.gemulator.fuzz;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * While open, collects what Netty and the JDK log at WARNING or worse and
 * every uncaught exception in this JVM: a fuzz run must leave it empty.
 */
public final class Complaints extends Handler implements Thread.UncaughtExceptionHandler, AutoCloseable {
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private final Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();

    public Complaints() {
        Logger.getLogger("").addHandler(this);
        Thread.setDefaultUncaughtExceptionHandler(this);
    }

    /** What was logged or thrown so far. */
    public List<String> seen() {
        return List.copyOf(seen);
    }

    @Override
    public void publish(LogRecord r) {
        if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
            seen.add(r.getLoggerName() + ": " + r.getMessage() + (r.getThrown() == null ? "" : " " + r.getThrown()));
        }
    }

    @Override
    public void uncaughtException(Thread t, Throwable e) {
        seen.add("uncaught in " + t.getName() + ": " + e);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(this);
        Thread.setDefaultUncaughtExceptionHandler(before);
    }
}
