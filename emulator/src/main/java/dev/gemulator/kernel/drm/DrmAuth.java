package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;

/**
 * drm_auth.c: the DRM master and authentication by magic numbers.
 *
 * <p>A primary file opened while the device has no master becomes master
 * with a new master (and so a new, empty magic table); other primary files
 * keep a reference to the master they were opened under. Authentication is a
 * property of the file: set when opened with CAP_SYS_ADMIN, when it becomes
 * master, or by AUTH_MAGIC. All of it runs under dev->master_mutex.
 */
public final class DrmAuth {
    private DrmAuth() {
    }

    /**
     * drm_getmagic: the file's magic, allocated on first use as the lowest
     * free number in its master's table.
     */
    public static SysResult getMagic(DrmFile file) {
        DrmDevice dev = file.dev();
        dev.masterMutex().lock("drm_getmagic");
        int ret = 0;
        if (file.magic() == 0) {
            ret = file.master().magicMap().alloc(file);
            if (ret > 0) {
                file.setMagic(ret);
            }
        }
        int magic = file.magic();
        dev.masterMutex().unlock("drm_getmagic");
        if (ret < 0) {
            return SysResult.err(Errno.ENOSPC, "the master's magic table is full");
        }
        return SysResult.ok(Integer.toUnsignedLong(magic));
    }

    /**
     * drm_authmagic: authenticates the file holding {@code magic} in the
     * caller's master table; the number stays taken but authenticates no more.
     * EINVAL when no file holds it.
     */
    public static SysResult authMagic(DrmFile file, int magic) {
        DrmDevice dev = file.dev();
        dev.masterMutex().lock("drm_authmagic");
        DrmFile target = file.master().magicMap().find(Integer.toUnsignedLong(magic));
        if (target != null) {
            target.setAuthenticated(true);
            file.master().magicMap().replace(Integer.toUnsignedLong(magic), null);
        }
        dev.masterMutex().unlock("drm_authmagic");
        if (target == null) {
            return SysResult.err(Errno.EINVAL, "no file waits for authentication with magic "
                    + Integer.toUnsignedString(magic) + " in this master's table");
        }
        return SysResult.ok();
    }

    /** drm_is_current_master_locked. */
    static boolean isCurrentMaster(DrmFile file) {
        return file.isMaster() && file.master() != null && file.master() == file.dev().master();
    }

    /**
     * drm_master_check_perm: the process that opened a file that has been
     * master may set and drop it; anyone else needs CAP_SYS_ADMIN.
     */
    private static boolean masterCheckPerm(DrmFile file) {
        Task t = file.dev().kernel().current();
        if (file.wasMaster() && t.process() == file.opener()) {
            return true;
        }
        return t.process().capSysAdmin();
    }

    /** drm_set_master. */
    private static void setMaster(DrmDevice dev, DrmFile file) {
        file.master().get("drm_set_master");
        dev.setMaster(file.master());
        file.setWasMaster(true);
    }

    /** drm_new_set_master: a fresh master (with an empty magic table) for this file. */
    private static void newSetMaster(DrmDevice dev, DrmFile file) {
        DrmMaster old = file.master();
        file.setMaster(new DrmMaster(dev));
        file.setIsMaster(true);
        file.setAuthenticated(true);
        setMaster(dev, file);
        if (old != null) {
            old.masterPut("drm_new_set_master");
        }
    }

    /** drm_drop_master. */
    private static void dropMaster(DrmDevice dev) {
        DrmMaster m = dev.master();
        dev.setMaster(null);
        m.masterPut("drm_drop_master");
    }

    /** drm_setmaster_ioctl. */
    public static SysResult setMasterIoctl(DrmFile file) {
        DrmDevice dev = file.dev();
        dev.masterMutex().lock("drm_setmaster_ioctl");
        SysResult ret = SysResult.ok();
        if (!masterCheckPerm(file)) {
            ret = SysResult.err(Errno.EACCES, "SET_MASTER needs CAP_SYS_ADMIN unless the opener of a former master asks");
        } else if (isCurrentMaster(file)) {
            ret = SysResult.ok();
        } else if (dev.master() != null) {
            ret = SysResult.err(Errno.EBUSY, "another file is the master");
        } else if (file.master() == null) {
            ret = SysResult.err(Errno.EINVAL, "this file has no master");
        } else if (!file.isMaster()) {
            newSetMaster(dev, file);
        } else {
            setMaster(dev, file);
        }
        dev.masterMutex().unlock("drm_setmaster_ioctl");
        return ret;
    }

    /** drm_dropmaster_ioctl. */
    public static SysResult dropMasterIoctl(DrmFile file) {
        DrmDevice dev = file.dev();
        dev.masterMutex().lock("drm_dropmaster_ioctl");
        SysResult ret;
        if (!masterCheckPerm(file)) {
            ret = SysResult.err(Errno.EACCES, "DROP_MASTER needs CAP_SYS_ADMIN unless the opener of a former master asks");
        } else if (!isCurrentMaster(file) || dev.master() == null) {
            ret = SysResult.err(Errno.EINVAL, "this file is not the current master");
        } else {
            dropMaster(dev);
            ret = SysResult.ok();
        }
        dev.masterMutex().unlock("drm_dropmaster_ioctl");
        return ret;
    }

    /** drm_master_open: the first primary open without a master becomes master. */
    static void masterOpen(DrmFile file) {
        DrmDevice dev = file.dev();
        dev.masterMutex().lock("drm_master_open");
        if (dev.master() == null) {
            newSetMaster(dev, file);
        } else {
            dev.master().get("drm_master_open");
            file.setMaster(dev.master());
        }
        dev.masterMutex().unlock("drm_master_open");
    }

    /** drm_master_release: frees the file's magic and gives up the master it holds. */
    static void masterRelease(DrmFile file) {
        DrmDevice dev = file.dev();
        dev.masterMutex().lock("drm_master_release");
        if (file.magic() != 0) {
            file.master().magicMap().remove(file.magic());
        }
        if (isCurrentMaster(file) && dev.master() == file.master()) {
            dropMaster(dev);
        }
        if (file.master() != null) {
            file.master().masterPut("drm_master_release");
            file.setMaster(null);
        }
        dev.masterMutex().unlock("drm_master_release");
    }
}
