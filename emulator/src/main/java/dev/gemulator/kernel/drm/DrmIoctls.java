package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.IoctlCmd;
import dev.gemulator.kernel.uapi.IoctlTable;
import dev.gemulator.kernel.uapi.KData;
import dev.gemulator.kernel.uapi.Uapi;
import dev.gemulator.kernel.uapi.UserMemory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * drm_ioctl.c: the dispatcher of DRM ioctls, the permission check and the
 * core's own ioctl handlers. The table itself (drm_ioctls[] of Linux 6.1
 * with the driver's) is {@link IoctlTable}, shared with dma-bufs and sync_files.
 */
public final class DrmIoctls {
    private DrmIoctls() {
    }

    /** Needs an authenticated file (or a render client). */
    public static final int DRM_AUTH = 0x1;
    /** Needs the current master. */
    public static final int DRM_MASTER = 0x2;
    /** Needs CAP_SYS_ADMIN. */
    public static final int DRM_ROOT_ONLY = 0x4;
    /** Allowed on render nodes. */
    public static final int DRM_RENDER_ALLOW = 0x20;

    /** DRM_COMMAND_BASE: driver ioctls have nr 0x40 to 0x9f. */
    public static final int DRM_COMMAND_BASE = 0x40;
    public static final int DRM_COMMAND_END = 0xa0;
    /** DRM_IOCTL_BASE, the type of every DRM request. */
    public static final int DRM_IOCTL_BASE = 'd';

    /**
     * drm_ioctl: finds the row of the request's nr (the core table, or the
     * driver's for nr 0x40 to 0x9f), copies the argument in with the size and
     * direction the caller's number gives (zero-extended to the row's struct),
     * checks permissions, runs the handler and copies the struct back out,
     * also when the handler failed.
     *
     * <p>Errors: ENOTTY for a request of another type; EINVAL for an nr the
     * tables do not have or an empty slot; EFAULT when the argument cannot be
     * read or written; EACCES from drm_ioctl_permit; the handler's.
     */
    public static SysResult drmIoctl(DrmFile file, int cmd, long arg) {
        Kernel k = file.dev().kernel();
        if (IoctlCmd.type(cmd) != DRM_IOCTL_BASE) {
            return SysResult.err(Errno.ENOTTY, IoctlCmd.hex(cmd) + " is not a DRM ioctl");
        }
        int nr = IoctlCmd.nr(cmd);
        IoctlTable.Row<?> row;
        String driver = file.dev().driver().name();
        if (nr >= DRM_COMMAND_BASE && nr < DRM_COMMAND_END) {
            int index = nr - DRM_COMMAND_BASE;
            if (index >= IoctlTable.drmDriverCount(driver)) {
                return SysResult.err(Errno.EINVAL, "nr 0x" + Integer.toHexString(nr) + " is not an ioctl of " + driver);
            }
            row = IoctlTable.drmDriver(driver, index);
        } else {
            if (nr >= IoctlTable.drmCoreCount()) {
                return SysResult.err(Errno.EINVAL, "nr 0x" + Integer.toHexString(nr) + " is past the DRM core's ioctls");
            }
            row = IoctlTable.drmCore(nr);
        }
        if (row == null) {
            return SysResult.err(Errno.EINVAL, "nr 0x" + Integer.toHexString(nr) + " is an empty slot of the ioctl table");
        }
        int drvSize = IoctlCmd.size(row.cmd());
        int inSize = IoctlCmd.size(cmd);
        int outSize = inSize;
        if ((cmd & row.cmd() & IoctlCmd.IOC_IN) == 0) {
            inSize = 0;
        }
        if ((cmd & row.cmd() & IoctlCmd.IOC_OUT) == 0) {
            outSize = 0;
        }
        int ksize = Math.max(Math.max(inSize, outSize), drvSize);
        UserMemory mem = k.current().userMemory();
        byte[] in = mem.read(arg, inSize);
        if (in == null) {
            return SysResult.err(Errno.EFAULT, row.name() + ": the argument at 0x" + Long.toHexString(arg)
                    + " is not readable");
        }
        KData kdata = KData.of(in, ksize);
        SysResult r = ioctlKernel(file, row, kdata);
        if (!mem.write(arg, kdata.bytes(outSize))) {
            return SysResult.err(Errno.EFAULT, row.name() + ": the argument at 0x" + Long.toHexString(arg)
                    + " is not writable");
        }
        return r;
    }

    /** drm_ioctl_kernel: the permission check, then the handler. */
    private static SysResult ioctlKernel(DrmFile file, IoctlTable.Row<?> row, KData kdata) {
        String denied = ioctlPermit(row.flags(), file);
        if (denied != null) {
            return SysResult.err(Errno.EACCES, row.name() + ": " + denied);
        }
        return row.run(file, kdata);
    }

    /** drm_ioctl_permit: why the call is refused, or null when it may run. */
    static String ioctlPermit(int flags, DrmFile file) {
        Kernel k = file.dev().kernel();
        if ((flags & DRM_ROOT_ONLY) != 0 && !k.current().process().capSysAdmin()) {
            return "needs CAP_SYS_ADMIN";
        }
        if ((flags & DRM_AUTH) != 0 && !file.isRenderClient() && !file.authenticated()) {
            return "the file is not authenticated";
        }
        if ((flags & DRM_MASTER) != 0 && !DrmAuth.isCurrentMaster(file)) {
            return "the file is not the current DRM master";
        }
        if ((flags & DRM_RENDER_ALLOW) == 0 && file.isRenderClient()) {
            return "not allowed on a render node";
        }
        return null;
    }

    /**
     * drm_version: the driver's version numbers, and its name, date and
     * description through drm_copy_field: each length field says the whole
     * length, and at most the given length is copied when the pointer is set.
     * Errors: EFAULT when a string cannot be copied.
     */
    public static SysResult version(DrmFile file, KData v) {
        DrmDriver d = file.dev().driver();
        v.putU32(0, d.major()).putU32(4, d.minor()).putU32(8, d.patchlevel());
        for (int i = 0; i < 3; i++) {
            String value = i == 0 ? d.name() : i == 1 ? d.date() : d.description();
            if (!copyField(file.dev().kernel(), v, 16 + 16 * i, value)) {
                return SysResult.err(Errno.EFAULT, "DRM_IOCTL_VERSION: a string pointer is not writable");
            }
        }
        return SysResult.text(d.name());
    }

    /**
     * drm_copy_field: the length field at {@code off}, the pointer at off + 8.
     * False when the string cannot be copied (the kernel's EFAULT).
     */
    private static boolean copyField(Kernel k, KData v, int off, String value) {
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        long given = v.u64(off);
        int len = (int) Math.min(b.length, given < 0 ? Long.MAX_VALUE : given);
        v.putU64(off, b.length);
        long buf = v.u64(off + 8);
        return len == 0 || buf == 0 || k.current().userMemory().write(buf, Arrays.copyOf(b, len));
    }

    /**
     * drm_getunique: the bus id of the file's master (set by SET_VERSION 1.1
     * and later, empty before), copied when the buffer is long enough; the
     * length field always says how long it is. Errors: EFAULT.
     */
    public static SysResult getUnique(DrmFile file, Ioctl.GetUnique u, KData d) {
        String unique = file.master() == null ? "" : file.master().unique();
        byte[] b = unique.getBytes(StandardCharsets.UTF_8);
        if (Long.compareUnsigned(u.uniqueLen(), b.length) >= 0 && b.length > 0
                && !file.dev().kernel().current().userMemory().write(u.unique(), b)) {
            return SysResult.err(Errno.EFAULT, "DRM_IOCTL_GET_UNIQUE: the buffer is not writable");
        }
        d.putU64(0, b.length);
        return SysResult.ok(b.length);
    }

    /**
     * drm_getclient (hollowed out since 4.x): index 0 answers the caller
     * itself (authenticated, its pid, overflowuid); other indexes EINVAL.
     */
    public static SysResult getClient(DrmFile file, Ioctl.GetClient c, KData d) {
        if (c.idx() != 0) {
            return SysResult.err(Errno.EINVAL, "only client 0 (the caller) is answered");
        }
        long pid = file.dev().kernel().current().process().pid();
        d.putU32(4, file.authenticated() ? 1 : 0).putU64(8, pid).putU64(16, OVERFLOW_UID).putU64(24, 0).putU64(32, 0);
        return SysResult.ok(file.authenticated() ? 1 : 0, pid, OVERFLOW_UID);
    }

    /** overflowuid: what a uid that cannot be shown reads as. */
    public static final long OVERFLOW_UID = 65534;

    /** drm_getstats: no statistics are kept; everything reads 0. */
    public static SysResult getStats(KData d) {
        for (int i = 0; i < d.size(); i += 8) {
            d.putU64(i, 0);
        }
        return SysResult.ok();
    }

    /** DRM_IF_MAJOR, DRM_IF_MINOR: the interface version the core speaks. */
    public static final int DRM_IF_MAJOR = 1;
    public static final int DRM_IF_MINOR = 4;

    /**
     * drm_setversion: checks the interface and driver versions asked for
     * (-1: any), records the interface version, sets the master's bus id for
     * 1.1 and later, and answers the versions the kernel has, also on failure.
     * Errors: EINVAL for a version it does not have.
     */
    public static SysResult setVersion(DrmFile file, Ioctl.SetVersion sv, KData d) {
        DrmDriver drv = file.dev().driver();
        SysResult r = SysResult.ok();
        if (sv.diMajor() != -1) {
            if (sv.diMajor() != DRM_IF_MAJOR || sv.diMinor() < 0 || sv.diMinor() > DRM_IF_MINOR) {
                r = SysResult.err(Errno.EINVAL, "interface " + sv.diMajor() + "." + sv.diMinor() + " is not 1.0-1.4");
            } else if (sv.diMinor() >= 1 && file.master() != null) {
                file.master().setUnique(file.dev().unique());
            }
        }
        if (r.isOk() && sv.ddMajor() != -1
                && (sv.ddMajor() != drv.major() || sv.ddMinor() < 0 || sv.ddMinor() > drv.minor())) {
            r = SysResult.err(Errno.EINVAL, "driver " + sv.ddMajor() + "." + sv.ddMinor() + " is not "
                    + drv.major() + "." + drv.minor());
        }
        d.putU32(0, DRM_IF_MAJOR).putU32(4, DRM_IF_MINOR).putU32(8, drv.major()).putU32(12, drv.minor());
        return r;
    }

    /** drm_setclientcap: every client cap needs a modesetting driver. */
    public static SysResult setClientCap(DrmFile file, Ioctl.SetClientCap c) {
        return SysResult.err(Errno.EOPNOTSUPP, "client capability 0x" + Long.toHexString(c.capability())
                + " needs a modesetting driver; " + file.dev().driver().name() + " is not one");
    }

    /** drm_invalid_op: what a legacy ioctl is without CONFIG_DRM_LEGACY. */
    public static SysResult invalidOp(Object file, Ioctl.Opaque a, KData d) {
        return SysResult.err(Errno.EINVAL, "a legacy ioctl (CONFIG_DRM_LEGACY is off)");
    }

    /** drm_noop. */
    public static SysResult noop(Object file, Ioctl.Opaque a, KData d) {
        return SysResult.ok();
    }

    /** A modesetting ioctl on a driver without DRIVER_MODESET. */
    public static SysResult noModeset(Object file, Ioctl.Opaque a, KData d) {
        return SysResult.err(Errno.EOPNOTSUPP, "needs a modesetting driver; " + ((DrmFile) file).dev().driver().name()
                + " is not one");
    }

    /** drm_mode_getfb2_ioctl without DRIVER_MODESET. */
    public static SysResult noModesetEinval(Object file, Ioctl.Opaque a, KData d) {
        return SysResult.err(Errno.EINVAL, "needs a modesetting driver; " + ((DrmFile) file).dev().driver().name()
                + " is not one");
    }

    /** A syncobj ioctl on a driver without DRIVER_SYNCOBJ. */
    public static SysResult noSyncobj(Object file, Ioctl.Opaque a, KData d) {
        return SysResult.err(Errno.EOPNOTSUPP, ((DrmFile) file).dev().driver().name() + " has no syncobjs");
    }

    /** A vblank ioctl on a device without vblank support. */
    public static SysResult noVblank(Object file, Ioctl.Opaque a, KData d) {
        return SysResult.err(Errno.EOPNOTSUPP, ((DrmFile) file).dev().driver().name() + " has no vblank");
    }

    /**
     * drm_getcap: TIMESTAMP_MONOTONIC, PRIME and the syncobj caps answer for
     * every driver; everything else needs a modesetting driver (EOPNOTSUPP).
     */
    public static SysResult getCap(DrmFile file, long capability) {
        DrmDevice dev = file.dev();
        if (capability == Uapi.DRM_CAP_TIMESTAMP_MONOTONIC) {
            return SysResult.ok(1);
        }
        if (capability == Uapi.DRM_CAP_PRIME) {
            return SysResult.ok(Uapi.DRM_PRIME_CAP_IMPORT | Uapi.DRM_PRIME_CAP_EXPORT);
        }
        if (capability == Uapi.DRM_CAP_SYNCOBJ || capability == Uapi.DRM_CAP_SYNCOBJ_TIMELINE) {
            return SysResult.ok(dev.hasFeature(DrmDriver.DRIVER_SYNCOBJ) ? 1 : 0);
        }
        if (!dev.hasFeature(DrmDriver.DRIVER_MODESET)) {
            return SysResult.err(Errno.EOPNOTSUPP, "capability 0x" + Long.toHexString(capability)
                    + " needs a modesetting driver; " + dev.driver().name() + " is not one");
        }
        return SysResult.err(Errno.EINVAL, "unknown capability 0x" + Long.toHexString(capability));
    }
}
