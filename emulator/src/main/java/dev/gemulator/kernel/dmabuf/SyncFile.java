package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.proc.FdTable;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.IoctlTable;
import dev.gemulator.kernel.uapi.KData;
import dev.gemulator.kernel.vfs.FileOps;
import dev.gemulator.kernel.vfs.KFile;
import java.util.ArrayList;
import java.util.List;

/**
 * struct sync_file: a file that stands for one fence (sync_file.c). It owns
 * a reference on the fence; the file is read-only and cannot be seeked or
 * mapped. poll reports POLLIN once the fence has signalled.
 */
public final class SyncFile {
    private final KFile file;
    private final DmaFence fence;
    /** POLL_ENABLED: the first poll hooked {@link #wake} on the fence. */
    private boolean pollEnabled;
    /** fence_check_cb_func: wakes the sync_file's pollers (the fence wake-up does it in the model). */
    private final Runnable wake = () -> { };

    private SyncFile(Kernel kernel, DmaFence fence) {
        this.fence = fence;
        this.file = new KFile(kernel, OPS, "sync_file", true, false, this);
    }

    /** sync_file_create: takes its own reference on {@code fence}. */
    public static SyncFile create(Kernel kernel, DmaFence fence, String function) {
        fence.fenceGet(function);
        return new SyncFile(kernel, fence);
    }

    public KFile file() {
        return file;
    }

    public DmaFence fence() {
        return fence;
    }

    /**
     * sync_file_get_fence: the fence of the sync_file at {@code fd} of the
     * current process with a new reference, or null when the fd is not an
     * open sync_file.
     */
    public static DmaFence getFence(Kernel kernel, long fd, String function) {
        KFile f = kernel.current().process().files().fget(kernel, fd, "sync_file_fdget");
        if (f == null) {
            return null;
        }
        if (f.ops() != OPS) {
            f.fput("sync_file_fdget");
            return null;
        }
        DmaFence fence = ((SyncFile) f.privateData()).fence;
        fence.fenceGet(function);
        f.fput(function);
        return fence;
    }

    private String userName = "";

    /**
     * sync_file_get_name: the name given at merge, else
     * "driver-timeline" followed by the fence's context and seqno.
     */
    public String name() {
        if (!userName.isEmpty()) {
            return userName;
        }
        return driverName(fence) + "-" + timelineName(fence) + context(fence) + "-" + seqno(fence);
    }

    private static String driverName(DmaFence f) {
        return f.driver().equals("array") ? "dma_fence_array" : f.driver();
    }

    private static String timelineName(DmaFence f) {
        return f.driver().equals("stub") ? "stub" : "unbound";
    }

    /** The stub's context is 0; every other fence of the model has a context of its own. */
    private static long context(DmaFence f) {
        return f.driver().equals("stub") ? 0 : f.id();
    }

    private static long seqno(DmaFence f) {
        return f.driver().equals("stub") ? 0 : 1;
    }

    /** dma_fence_get_status: 1 signalled, 0 pending. */
    private static int status(DmaFence f) {
        return f.isSignaled() ? 1 : 0;
    }

    /**
     * sync_file_ioctl_merge: a new sync_file (lowest free fd, close-on-exec)
     * for the fences of this one and of the sync_file at {@code fd2} that are
     * still pending, named as asked. Errors: EMFILE; EINVAL for non-zero
     * flags or pad; ENOENT when fd2 is not a sync_file.
     */
    public SysResult mergeIoctl(Ioctl.SyncMerge data) {
        String fn = "sync_file_ioctl_merge";
        Kernel k = file.kernel();
        FdTable files = k.current().process().files();
        int fd = files.reserve();
        if (fd < 0) {
            return SysResult.err(Errno.EMFILE, "no free fd for the merged sync_file");
        }
        if (data.flags() != 0 || data.pad() != 0) {
            files.unreserve(fd);
            return SysResult.err(Errno.EINVAL, "SYNC_IOC_MERGE flags and pad must be 0");
        }
        DmaFence other = getFence(k, data.fd2(), fn);
        if (other == null) {
            files.unreserve(fd);
            return SysResult.err(Errno.ENOENT, "fd " + data.fd2() + " is not a sync_file");
        }
        List<DmaFence> pending = new ArrayList<>();
        for (DmaFence f : List.of(fence, other)) {
            for (DmaFence member : f.unwrap()) {
                if (!member.isSignaled() && !pending.contains(member)) {
                    pending.add(member);
                }
            }
        }
        DmaFence merged;
        if (pending.isEmpty()) {
            merged = DmaFence.stub(k);
        } else if (pending.size() == 1) {
            merged = pending.get(0);
            merged.get(fn);
        } else {
            for (DmaFence f : pending) {
                f.get(fn);
            }
            merged = new DmaFenceArray(k, pending);
        }
        SyncFile out = create(k, merged, fn);
        merged.fencePut(fn);
        other.fencePut(fn);
        out.userName = data.name();
        files.fill(fd, out.file);
        return SysResult.ok(fd);
    }

    /**
     * sync_file_ioctl_fence_info: the sync_file's name, status and number of
     * fences; with num_fences set, also one sync_fence_info per fence at the
     * address given (driver and timeline name, status, signal time). Errors:
     * EINVAL for non-zero flags or pad or too small an array; EFAULT.
     */
    public SysResult fileInfoIoctl(Ioctl.SyncFileInfo info,
            KData d) {
        if (info.flags() != 0 || info.pad() != 0) {
            return SysResult.err(Errno.EINVAL, "SYNC_IOC_FILE_INFO flags and pad must be 0");
        }
        List<DmaFence> fences = fence.unwrap();
        int status;
        if (info.numFences() == 0) {
            status = status(fence);
        } else {
            if (Integer.compareUnsigned(info.numFences(), fences.size()) < 0) {
                return SysResult.err(Errno.EINVAL, "room for " + Integer.toUnsignedString(info.numFences())
                        + " fences, the sync_file has " + fences.size());
            }
            status = 1;
            int size = Ioctl.SyncFileInfo.FENCE_INFO_BYTES;
            KData infos = new KData(fences.size() * size);
            for (int i = 0; i < fences.size(); i++) {
                DmaFence f = fences.get(i);
                infos.putString(i * size, 32, timelineName(f)).putString(i * size + 32, 32, driverName(f))
                        .putU32(i * size + 64, status(f)).putU32(i * size + 68, 0)
                        .putU64(i * size + 72, f.isSignaled() ? f.timestampNanos() : 0);
                status = status <= 0 ? status : status(f);
            }
            if (!file.kernel().current().userMemory().write(info.fenceInfo(), infos.bytes())) {
                return SysResult.err(Errno.EFAULT, "SYNC_IOC_FILE_INFO: the sync_fence_info array is not writable");
            }
        }
        d.putString(0, 32, name()).putU32(32, status).putU32(40, fences.size());
        return SysResult.ok(status, fences.size());
    }

    static final FileOps OPS = new FileOps() {
        @Override
        public SysResult ioctl(KFile f, int cmd, long arg) {
            return IoctlTable.fileIoctl(f.kernel(), IoctlTable.Owner.SYNC_FILE,
                    f.privateData(), "sync_file", cmd, arg);
        }

        @Override
        public String name() {
            return "sync_file";
        }

        /** sync_file_release: takes back the poll callback, then drops the fence. */
        @Override
        public void release(KFile file) {
            SyncFile sf = (SyncFile) file.privateData();
            if (sf.pollEnabled) {
                sf.fence.removeCallback(sf.wake);
            }
            sf.fence.fencePut("sync_file_release");
        }

        /**
         * sync_file_poll: the first poll hooks a callback on the fence, which
         * enables its signalling (a fence array starts watching its members);
         * POLLIN once the fence has signalled.
         */
        @Override
        public int poll(KFile file, int events) {
            SyncFile sf = (SyncFile) file.privateData();
            if (!sf.pollEnabled) {
                sf.pollEnabled = true;
                sf.fence.addCallback(sf.wake);
            }
            return sf.fence.isSignaled() ? KFile.POLLIN : 0;
        }

        @Override
        public KResult<Long> llseek(KFile file, long offset, int whence) {
            return noLlseek();
        }
    };
}
