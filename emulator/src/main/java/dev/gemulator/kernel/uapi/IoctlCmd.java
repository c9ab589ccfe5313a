package dev.gemulator.kernel.uapi;

/**
 * An ioctl request number as asm-generic/ioctl.h lays it out:
 *
 * <pre>
 *  31 30 29            16 15        8 7          0
 * +-----+----------------+-----------+------------+
 * | dir |      size      |   type    |     nr     |
 * +-----+----------------+-----------+------------+
 *  dir: bit 30 _IOC_WRITE (user to kernel, "IN"), bit 31 _IOC_READ (kernel to user, "OUT")
 * </pre>
 */
public final class IoctlCmd {
    private IoctlCmd() {
    }

    public static final int IOC_NONE = 0;
    public static final int IOC_WRITE = 1;
    public static final int IOC_READ = 2;
    /** The IN bit of a number (the kernel's IOC_IN): the argument is copied in. */
    public static final int IOC_IN = IOC_WRITE << 30;
    /** The OUT bit of a number (IOC_OUT): the argument is copied out. */
    public static final int IOC_OUT = IOC_READ << 30;

    /** _IOC. */
    public static int ioc(int dir, char type, int nr, int size) {
        return dir << 30 | (size & 0x3fff) << 16 | (type & 0xff) << 8 | nr & 0xff;
    }

    /** _IO: no argument. */
    public static int io(char type, int nr) {
        return ioc(IOC_NONE, type, nr, 0);
    }

    /** _IOR: the kernel writes a struct of {@code size} bytes. */
    public static int ior(char type, int nr, int size) {
        return ioc(IOC_READ, type, nr, size);
    }

    /** _IOW: the kernel reads a struct of {@code size} bytes. */
    public static int iow(char type, int nr, int size) {
        return ioc(IOC_WRITE, type, nr, size);
    }

    /** _IOWR: both. */
    public static int iowr(char type, int nr, int size) {
        return ioc(IOC_READ | IOC_WRITE, type, nr, size);
    }

    /** _IOC_DIR. */
    public static int dir(int cmd) {
        return cmd >>> 30;
    }

    /** _IOC_TYPE. */
    public static int type(int cmd) {
        return cmd >>> 8 & 0xff;
    }

    /** _IOC_NR. */
    public static int nr(int cmd) {
        return cmd & 0xff;
    }

    /** _IOC_SIZE. */
    public static int size(int cmd) {
        return cmd >>> 16 & 0x3fff;
    }

    /** The number as the kernel headers print it: 0xc0106400. */
    public static String hex(int cmd) {
        return String.format("0x%08x", cmd);
    }
}
