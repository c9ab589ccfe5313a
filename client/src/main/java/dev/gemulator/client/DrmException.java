package dev.gemulator.client;

/**
 * A system call of the emulated kernel failed: the errno it returned, the
 * operation, and the kernel model's explanation of why. Unchecked, like the
 * errors of a libdrm call that a program did not expect.
 */
public final class DrmException extends RuntimeException {
    private final Errno errno;
    private final String operation;
    private final String reason;

    /**
     * A failure of {@code operation}.
     *
     * @param errno what the call returned
     * @param operation the call, as the server names it ({@code "gem_close"})
     * @param reason why, for people; may be empty
     */
    public DrmException(Errno errno, String operation, String reason) {
        super(operation + ": " + errno + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")"));
        this.errno = errno;
        this.operation = operation;
        this.reason = reason == null ? "" : reason;
    }

    /**
     * The errno the call returned.
     *
     * @return the errno, never {@link Errno#OK}
     */
    public Errno errno() {
        return errno;
    }

    /**
     * The call that failed.
     *
     * @return its name, as the server's metrics count it ({@code "handle_to_fd"})
     */
    public String operation() {
        return operation;
    }

    /**
     * Why, in the kernel model's words.
     *
     * @return the explanation, empty when there is none
     */
    public String reason() {
        return reason;
    }
}
