package dev.gemulator.kernel;

/**
 * What a system call returns to user space: the errno (OK on success), up to
 * three integer results in the order gemscript prints them, a string (the
 * driver name of VERSION), bytes (a read through a mapping), and for a
 * failure a message that says why.
 */
public record SysResult(Errno errno, long v0, long v1, long v2, String text, byte[] data, String message) {

    private static final SysResult OK = new SysResult(Errno.OK, 0, 0, 0, null, null, "");

    public static SysResult ok() {
        return OK;
    }

    public static SysResult ok(long v0) {
        return new SysResult(Errno.OK, v0, 0, 0, null, null, "");
    }

    public static SysResult ok(long v0, long v1) {
        return new SysResult(Errno.OK, v0, v1, 0, null, null, "");
    }

    public static SysResult ok(long v0, long v1, long v2) {
        return new SysResult(Errno.OK, v0, v1, v2, null, null, "");
    }

    public static SysResult text(String text) {
        return new SysResult(Errno.OK, 0, 0, 0, text, null, "");
    }

    public static SysResult data(byte[] data) {
        return new SysResult(Errno.OK, 0, 0, 0, null, data, "");
    }

    public static SysResult err(Errno errno, String message) {
        return new SysResult(errno, 0, 0, 0, null, null, message);
    }

    public boolean isOk() {
        return errno.isOk();
    }
}
