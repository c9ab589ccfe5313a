package dev.gemulator.kernel.uapi;

/**
 * The argument struct of one ioctl, as user space passes it. Integer fields
 * have the kernel's widths: u32 fields are Java ints holding the unsigned
 * bits, u64 fields are longs.
 */
public sealed interface Ioctl {

    /** The request's name as the kernel headers spell it. */
    String requestName();

    // --- DRM core (drm.h, drm_mode.h) ---

    record Version() implements Ioctl {
        public String requestName() { return "DRM_IOCTL_VERSION"; }
    }

    record GetCap(long capability) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_GET_CAP"; }
    }

    record GetMagic() implements Ioctl {
        public String requestName() { return "DRM_IOCTL_GET_MAGIC"; }
    }

    record AuthMagic(int magic) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_AUTH_MAGIC"; }
    }

    record SetMaster() implements Ioctl {
        public String requestName() { return "DRM_IOCTL_SET_MASTER"; }
    }

    record DropMaster() implements Ioctl {
        public String requestName() { return "DRM_IOCTL_DROP_MASTER"; }
    }

    record GemClose(int handle) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_GEM_CLOSE"; }
    }

    record GemFlink(int handle) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_GEM_FLINK"; }
    }

    record GemOpen(int name) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_GEM_OPEN"; }
    }

    record PrimeHandleToFd(int handle, int flags) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_PRIME_HANDLE_TO_FD"; }
    }

    record PrimeFdToHandle(int fd) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_PRIME_FD_TO_HANDLE"; }
    }

    record ModeCreateDumb(int width, int height, int bpp, int flags) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_MODE_CREATE_DUMB"; }
    }

    record ModeMapDumb(int handle) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_MODE_MAP_DUMB"; }
    }

    record ModeDestroyDumb(int handle) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_MODE_DESTROY_DUMB"; }
    }

    // --- vgem (vgem_drm.h) ---

    record VgemFenceAttach(int handle, int flags, int pad) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_VGEM_FENCE_ATTACH"; }
    }

    record VgemFenceSignal(int fence, int flags) implements Ioctl {
        public String requestName() { return "DRM_IOCTL_VGEM_FENCE_SIGNAL"; }
    }

    // --- dma-buf (linux/dma-buf.h) ---

    record DmaBufSync(long flags) implements Ioctl {
        public String requestName() { return "DMA_BUF_IOCTL_SYNC"; }
    }

    record DmaBufExportSyncFile(int flags) implements Ioctl {
        public String requestName() { return "DMA_BUF_IOCTL_EXPORT_SYNC_FILE"; }
    }

    record DmaBufImportSyncFile(int fd, int flags) implements Ioctl {
        public String requestName() { return "DMA_BUF_IOCTL_IMPORT_SYNC_FILE"; }
    }
}
