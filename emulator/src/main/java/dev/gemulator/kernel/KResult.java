package dev.gemulator.kernel;

/**
 * What a kernel function returns: its value, or the errno and a message that
 * says why (the kernel's ERR_PTR and negative-errno returns in one shape).
 * A caller that cannot go on passes the failure up with {@link #failed()}
 * or turns it into the system call's result with {@link #sysErr()}; nothing
 * is read back from the current task.
 */
public record KResult<T>(T value, Errno errno, String message) {

    /** Success with {@code value}. */
    public static <T> KResult<T> ok(T value) {
        return new KResult<>(value, Errno.OK, "");
    }

    /** Failure with {@code errno}, {@code message} saying why. */
    public static <T> KResult<T> err(Errno errno, String message) {
        if (errno.isOk()) {
            throw new IllegalArgumentException("a failure needs an errno");
        }
        return new KResult<>(null, errno, message);
    }

    public boolean isErr() {
        return !errno.isOk();
    }

    /** This failure as a result of another type, for a caller that passes it on (IS_ERR, return PTR_ERR). */
    public <U> KResult<U> failed() {
        if (!isErr()) {
            throw new IllegalStateException("not a failure");
        }
        return new KResult<>(null, errno, message);
    }

    /** This failure as what the system call returns to user space. */
    public SysResult sysErr() {
        if (!isErr()) {
            throw new IllegalStateException("not a failure");
        }
        return SysResult.err(errno, message);
    }
}
