package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.SysResult;

/**
 * struct drm_driver: what a driver plugs into the DRM core. The model has one
 * driver, vgem; the interface keeps the core free of it. The driver's ioctls
 * are its rows of {@link dev.gemulator.kernel.uapi.IoctlTable} (by its name).
 */
public interface DrmDriver {
    int DRIVER_GEM = 0x1;
    int DRIVER_MODESET = 0x2;
    int DRIVER_RENDER = 0x8;
    int DRIVER_SYNCOBJ = 0x20;

    /** VERSION's name field ("vgem"). */
    String name();

    String description();

    String date();

    /** driver_features. */
    int features();

    /** open: per-file driver state, set as the file's driver_priv. */
    Object open(DrmFile file);

    /** postclose: tears down the per-file driver state. */
    void postclose(DrmFile file);

    /** VERSION's version_major, version_minor and version_patchlevel. */
    int major();

    int minor();

    int patchlevel();

    /** dumb_create, after the core's checks of drm_mode_create_dumb. */
    SysResult dumbCreate(DrmFile file, int width, int height, int bpp);
}
