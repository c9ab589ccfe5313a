package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.gem.Gem;
import dev.gemulator.kernel.uapi.Ioctl;

/**
 * drm_dumb_buffers.c: the core's side of dumb buffers, checking the
 * arguments in 32-bit arithmetic before the driver computes pitch and size.
 */
public final class DrmDumbBuffers {
    private DrmDumbBuffers() {
    }

    private static final long U32_MAX = 0xFFFF_FFFFL;

    /**
     * drm_mode_create_dumb_ioctl.
     *
     * <p>Errors: EINVAL for a zero width, height or bpp, a bpp above
     * U32_MAX - 8, or a cpp*width or stride*height that needs more than 32 bits
     * (or page-aligns to 0); then whatever the driver's dumb_create returns.
     */
    public static SysResult modeCreateDumbIoctl(DrmFile file, Ioctl.ModeCreateDumb args) {
        long width = Integer.toUnsignedLong(args.width());
        long height = Integer.toUnsignedLong(args.height());
        long bpp = Integer.toUnsignedLong(args.bpp());
        if (width == 0 || height == 0 || bpp == 0) {
            return SysResult.err(Errno.EINVAL, "width, height and bpp must not be 0");
        }
        if (bpp > U32_MAX - 8) {
            return SysResult.err(Errno.EINVAL, "bpp " + bpp + " is too large");
        }
        long cpp = (bpp + 7) / 8;
        if (cpp > U32_MAX / width) {
            return SysResult.err(Errno.EINVAL, "width*cpp overflows 32 bits");
        }
        long stride = cpp * width;
        if (height > U32_MAX / stride) {
            return SysResult.err(Errno.EINVAL, "stride*height overflows 32 bits");
        }
        long size = height * stride;
        if (((size + 4095) & ~4095L & U32_MAX) == 0) {
            return SysResult.err(Errno.EINVAL, "the size page-aligns to 0 in 32 bits");
        }
        return file.dev().driver().dumbCreate(file, args.width(), args.height(), args.bpp());
    }

    /** drm_mode_mmap_dumb_ioctl: the object's fake mmap offset (drm_gem_dumb_map_offset). */
    public static SysResult modeMmapDumbIoctl(DrmFile file, int handle) {
        return Gem.dumbMapOffset(file, handle);
    }

    /** drm_mode_destroy_dumb_ioctl: closes the handle like GEM_CLOSE. */
    public static SysResult modeDestroyDumbIoctl(DrmFile file, int handle) {
        return Gem.gemCloseIoctl(file, handle);
    }
}
