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
 *
 * <p>It chains, never replaces: an uncaught exception is recorded and still
 * handed to the default handler that was installed before (or printed as the
 * JVM would, when there was none), so nothing another test or the bench
 * relies on is lost. Closing puts the earlier handler back only while this
 * one is still installed; one opened later and still open stays, and hands
 * on to this one, which after its close only passes exceptions along.
 */
public final class Complaints extends Handler implements Thread.UncaughtExceptionHandler, AutoCloseable {
    /** Installing and restoring the JVM-wide handler is one step at a time. */
    private static final Object INSTALL = new Object();

    private final List<String> seen = new CopyOnWriteArrayList<>();
    private final Thread.UncaughtExceptionHandler before;
    private volatile boolean open = true;

    public Complaints() {
        synchronized (INSTALL) {
            before = Thread.getDefaultUncaughtExceptionHandler();
            Logger.getLogger("").addHandler(this);
            Thread.setDefaultUncaughtExceptionHandler(this);
        }
    }

    /** What was logged or thrown so far. */
    public List<String> seen() {
        return List.copyOf(seen);
    }

    @Override
    public void publish(LogRecord r) {
        if (open && r.getLevel().intValue() >= Level.WARNING.intValue()) {
            seen.add(r.getLoggerName() + ": " + r.getMessage() + (r.getThrown() == null ? "" : " " + r.getThrown()));
        }
    }

    @Override
    public void uncaughtException(Thread t, Throwable e) {
        if (open) {
            seen.add("uncaught in " + t.getName() + ": " + e);
        }
        if (before != null) {
            before.uncaughtException(t, e);
        } else {
            System.err.print("Exception in thread \"" + t.getName() + "\" ");
            e.printStackTrace(System.err);
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        synchronized (INSTALL) {
            open = false;
            Logger.getLogger("").removeHandler(this);
            if (Thread.getDefaultUncaughtExceptionHandler() == this) {
                Thread.setDefaultUncaughtExceptionHandler(before);
            }
        }
    }
}
