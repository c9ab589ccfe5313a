package dev.gemulator.client;

import dev.gemulator.kernel.Errno;

/** A system call failed: the kernel's errno and its explanation. */
public final class DrmException extends RuntimeException {
    private final Errno errno;

    public DrmException(Errno errno, String operation, String message) {
        super(operation + ": " + errno + (message == null || message.isEmpty() ? "" : " (" + message + ")"));
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }
}
