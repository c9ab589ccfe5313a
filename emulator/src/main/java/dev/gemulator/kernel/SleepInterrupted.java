package dev.gemulator.kernel;

/**
 * A sleep that nothing could end, ended as if a signal came: thrown by the
 * sequential scheduler of a free-running server, where a task that holds no
 * lock and waits for nothing with a timer would otherwise hang the only
 * simulation thread. The sleeping syscall unwinds and returns EINTR.
 */
public final class SleepInterrupted extends RuntimeException {
    public SleepInterrupted(String message) {
        super(message, null, false, false);
    }
}
