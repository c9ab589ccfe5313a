package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.gem.Gem;
import dev.gemulator.kernel.prime.Prime;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.Uapi;
import java.util.function.BiFunction;

/**
 * drm_ioctl.c: the table of DRM core ioctls with their permission flags
 * (drm_ioctls[] as of Linux 6.1), the permission check and the dispatcher.
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

    /** One row of the table: the ioctl, its permission flags and its handler. */
    public record Desc(String name, int flags, BiFunction<DrmFile, Ioctl, SysResult> handler) {
    }

    static final Desc VERSION = new Desc("DRM_IOCTL_VERSION", DRM_RENDER_ALLOW, (f, a) -> version(f));
    static final Desc GET_MAGIC = new Desc("DRM_IOCTL_GET_MAGIC", 0, (f, a) -> DrmAuth.getMagic(f));
    static final Desc GET_CAP = new Desc("DRM_IOCTL_GET_CAP", DRM_RENDER_ALLOW,
            (f, a) -> getCap(f, ((Ioctl.GetCap) a).capability()));
    static final Desc SET_MASTER = new Desc("DRM_IOCTL_SET_MASTER", 0, (f, a) -> DrmAuth.setMasterIoctl(f));
    static final Desc DROP_MASTER = new Desc("DRM_IOCTL_DROP_MASTER", 0, (f, a) -> DrmAuth.dropMasterIoctl(f));
    static final Desc AUTH_MAGIC = new Desc("DRM_IOCTL_AUTH_MAGIC", DRM_AUTH | DRM_MASTER,
            (f, a) -> DrmAuth.authMagic(f, ((Ioctl.AuthMagic) a).magic()));
    static final Desc GEM_CLOSE = new Desc("DRM_IOCTL_GEM_CLOSE", DRM_RENDER_ALLOW,
            (f, a) -> Gem.gemCloseIoctl(f, ((Ioctl.GemClose) a).handle()));
    static final Desc GEM_FLINK = new Desc("DRM_IOCTL_GEM_FLINK", DRM_AUTH,
            (f, a) -> Gem.gemFlinkIoctl(f, ((Ioctl.GemFlink) a).handle()));
    static final Desc GEM_OPEN = new Desc("DRM_IOCTL_GEM_OPEN", DRM_AUTH,
            (f, a) -> Gem.gemOpenIoctl(f, ((Ioctl.GemOpen) a).name()));
    static final Desc PRIME_HANDLE_TO_FD = new Desc("DRM_IOCTL_PRIME_HANDLE_TO_FD", DRM_RENDER_ALLOW,
            (f, a) -> Prime.primeHandleToFdIoctl(f, (Ioctl.PrimeHandleToFd) a));
    static final Desc PRIME_FD_TO_HANDLE = new Desc("DRM_IOCTL_PRIME_FD_TO_HANDLE", DRM_RENDER_ALLOW,
            (f, a) -> Prime.primeFdToHandleIoctl(f, ((Ioctl.PrimeFdToHandle) a).fd()));
    static final Desc MODE_CREATE_DUMB = new Desc("DRM_IOCTL_MODE_CREATE_DUMB", 0,
            (f, a) -> DrmDumbBuffers.modeCreateDumbIoctl(f, (Ioctl.ModeCreateDumb) a));
    static final Desc MODE_MAP_DUMB = new Desc("DRM_IOCTL_MODE_MAP_DUMB", 0,
            (f, a) -> DrmDumbBuffers.modeMmapDumbIoctl(f, ((Ioctl.ModeMapDumb) a).handle()));
    static final Desc MODE_DESTROY_DUMB = new Desc("DRM_IOCTL_MODE_DESTROY_DUMB", 0,
            (f, a) -> DrmDumbBuffers.modeDestroyDumbIoctl(f, ((Ioctl.ModeDestroyDumb) a).handle()));

    /** The core table's row for {@code ioctl}, or null for driver and non-DRM ioctls. */
    static Desc coreIoctl(Ioctl ioctl) {
        return switch (ioctl) {
            case Ioctl.Version v -> VERSION;
            case Ioctl.GetMagic g -> GET_MAGIC;
            case Ioctl.GetCap g -> GET_CAP;
            case Ioctl.SetMaster s -> SET_MASTER;
            case Ioctl.DropMaster d -> DROP_MASTER;
            case Ioctl.AuthMagic a -> AUTH_MAGIC;
            case Ioctl.GemClose c -> GEM_CLOSE;
            case Ioctl.GemFlink f -> GEM_FLINK;
            case Ioctl.GemOpen o -> GEM_OPEN;
            case Ioctl.PrimeHandleToFd p -> PRIME_HANDLE_TO_FD;
            case Ioctl.PrimeFdToHandle p -> PRIME_FD_TO_HANDLE;
            case Ioctl.ModeCreateDumb c -> MODE_CREATE_DUMB;
            case Ioctl.ModeMapDumb m -> MODE_MAP_DUMB;
            case Ioctl.ModeDestroyDumb d -> MODE_DESTROY_DUMB;
            default -> null;
        };
    }

    /** Whether the ioctl number is of type 'd' (DRM_IOCTL_BASE); dma-buf ioctls are 'b'. */
    private static boolean isDrmType(Ioctl ioctl) {
        return !(ioctl instanceof Ioctl.DmaBufSync
                || ioctl instanceof Ioctl.DmaBufExportSyncFile
                || ioctl instanceof Ioctl.DmaBufImportSyncFile);
    }

    /**
     * drm_ioctl: finds the handler (core table, then the driver's), checks
     * permissions and runs it.
     *
     * <p>Errors: ENOTTY for an ioctl of another type; EINVAL for an unknown
     * DRM ioctl; EACCES from drm_ioctl_permit.
     */
    public static SysResult drmIoctl(DrmFile file, Ioctl ioctl) {
        if (!isDrmType(ioctl)) {
            return SysResult.err(Errno.ENOTTY, ioctl.requestName() + " is not a DRM ioctl");
        }
        Desc desc = coreIoctl(ioctl);
        if (desc == null) {
            desc = file.dev().driver().driverIoctl(ioctl);
        }
        if (desc == null) {
            return SysResult.err(Errno.EINVAL, ioctl.requestName() + " is not an ioctl of " + file.dev().driver().name());
        }
        String denied = ioctlPermit(desc.flags, file);
        if (denied != null) {
            return SysResult.err(Errno.EACCES, desc.name + ": " + denied);
        }
        return desc.handler.apply(file, ioctl);
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

    /** drm_version: the driver's name (date and description go in the other fields). */
    private static SysResult version(DrmFile file) {
        return SysResult.text(file.dev().driver().name());
    }

    /**
     * drm_getcap: TIMESTAMP_MONOTONIC, PRIME and the syncobj caps answer for
     * every driver; everything else needs a modesetting driver (EOPNOTSUPP).
     */
    private static SysResult getCap(DrmFile file, long capability) {
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
