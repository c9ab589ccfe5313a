package dev.gemulator.kernel.uapi;

/** Constants of the uapi headers the model needs. */
public final class Uapi {
    private Uapi() {
    }

    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;

    // fcntl.h
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_ACCMODE = 3;
    public static final int O_CLOEXEC = 0x80000;

    // drm.h
    public static final int DRM_CLOEXEC = O_CLOEXEC;
    public static final int DRM_RDWR = O_RDWR;
    public static final long DRM_CAP_DUMB_BUFFER = 0x1;
    public static final long DRM_CAP_PRIME = 0x5;
    public static final long DRM_CAP_TIMESTAMP_MONOTONIC = 0x6;
    public static final long DRM_CAP_SYNCOBJ = 0x13;
    public static final long DRM_CAP_SYNCOBJ_TIMELINE = 0x14;
    public static final int DRM_PRIME_CAP_IMPORT = 0x1;
    public static final int DRM_PRIME_CAP_EXPORT = 0x2;

    // vgem_drm.h
    public static final int VGEM_FENCE_WRITE = 0x1;

    // dma-buf.h
    public static final long DMA_BUF_SYNC_READ = 1;
    public static final long DMA_BUF_SYNC_WRITE = 2;
    public static final long DMA_BUF_SYNC_RW = 3;
    public static final long DMA_BUF_SYNC_START = 0;
    public static final long DMA_BUF_SYNC_END = 4;
    public static final long DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;

    // fs.h
    public static final int SEEK_SET = 0;
    public static final int SEEK_CUR = 1;
    public static final int SEEK_END = 2;
    public static final int SEEK_MAX = 4;

    /** PAGE_ALIGN for a 64-bit size. */
    public static long pageAlign(long size) {
        return (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    }
}
