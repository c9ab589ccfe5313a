package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.gem.Gem;
import dev.gemulator.kernel.prime.Prime;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Vma;
import dev.gemulator.kernel.vfs.FileOps;
import dev.gemulator.kernel.vfs.KFile;

/**
 * drm_file.c: opening and releasing DRM files, and their file operations.
 *
 * <p>Release order of a file (drm_file_free, Linux 6.x): every handle is
 * dropped in id order, then the master bookkeeping, then the driver's
 * postclose (vgem signals its pending fences), then the PRIME cache
 * destructor, which only WARNs when members remain.
 */
public final class DrmFiles {
    private DrmFiles() {
    }

    /**
     * drm_open / drm_open_helper / drm_file_alloc: a new drm_file on
     * {@code minor} for {@code process}, returned as its struct file.
     */
    public static KFile open(DrmMinor minor, Process process) {
        DrmDevice dev = minor.dev();
        Kernel k = dev.kernel();
        DrmFile file = new DrmFile(minor, process);
        file.setAuthenticated(process.capSysAdmin());
        file.setDriverPriv(dev.driver().open(file));
        if (file.isPrimaryClient()) {
            DrmAuth.masterOpen(file);
        }
        KFile filp = new KFile(k, OPS, minor.path(), true, true, file);
        file.setFilp(filp);
        dev.filelistAdd(file);
        return filp;
    }

    /** The drm_file behind a struct file, or null when it is not a DRM file. */
    public static DrmFile drmFile(KFile filp) {
        return filp.ops() == OPS ? (DrmFile) filp.privateData() : null;
    }

    /** drm_file_free. */
    static void release(DrmFile file) {
        DrmDevice dev = file.dev();
        dev.filelistDel(file);
        Gem.gemRelease(file);
        if (file.isPrimaryClient()) {
            DrmAuth.masterRelease(file);
        }
        dev.driver().postclose(file);
        Prime.destroyFilePrivate(file);
    }

    static final FileOps OPS = new FileOps() {
        @Override
        public String name() {
            return "drm";
        }

        @Override
        public void release(KFile filp) {
            DrmFiles.release((DrmFile) filp.privateData());
        }

        @Override
        public SysResult ioctl(KFile filp, int cmd, long arg) {
            return DrmIoctls.drmIoctl((DrmFile) filp.privateData(), cmd, arg);
        }

        @Override
        public KResult<Void> mmap(KFile filp, Vma vma) {
            return Gem.gemMmap((DrmFile) filp.privateData(), vma);
        }

        /** drm_open_helper sets FMODE_UNSIGNED_OFFSET. */
        @Override
        public boolean unsignedOffset() {
            return true;
        }

        /** drm_poll: readable only when DRM events are queued, which vgem never sends. */
        @Override
        public int poll(KFile filp, int events) {
            return 0;
        }

        /** noop_llseek: the position does not move. */
        @Override
        public KResult<Long> llseek(KFile filp, long offset, int whence) {
            return KResult.ok(filp.position());
        }
    };
}
