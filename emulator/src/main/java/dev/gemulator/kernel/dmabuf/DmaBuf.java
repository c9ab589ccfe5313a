package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.Clock;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.proc.FdTable;
import dev.gemulator.kernel.proc.Vma;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.IoctlTable;
import dev.gemulator.kernel.uapi.Uapi;
import dev.gemulator.kernel.vfs.FileOps;
import dev.gemulator.kernel.vfs.KFile;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * struct dma_buf (drivers/dma-buf/dma-buf.c): a buffer shared through a
 * file. Its reference count is its file's f_count: get_dma_buf is get_file,
 * dma_buf_put is fput, and the last put releases the buffer through the
 * exporter's ops when the releasing task returns to user space.
 *
 * <p>The file's access mode comes from the export flags and never changes:
 * without O_RDWR the file is read-only and cannot be mapped shared-writable.
 */
public final class DmaBuf {
    private final Kernel kernel;
    private final int id;
    private final long sizeBytes;
    private final DmaBufOps ops;
    private final Object priv;
    private final DmaResv resv;
    /** Whether {@link #resv} is the dma-buf's own (the exporter gave none), finished with the dma-buf. */
    private final boolean ownsResv;
    private final KFile file;
    /** dma_buf_poll callbacks in flight: each pins the file until its fence signals. */
    private boolean pollInActive;
    private boolean pollOutActive;
    private String name = "";

    private DmaBuf(Kernel kernel, DmaBufOps ops, Object priv, long sizeBytes, int flags, DmaResv resv) {
        this.kernel = kernel;
        this.id = kernel.nextId(Kernel.IdKind.DMA_BUF);
        this.ops = ops;
        this.priv = priv;
        this.sizeBytes = sizeBytes;
        this.ownsResv = resv == null;
        this.resv = resv == null ? new DmaResv(kernel) : resv;
        boolean rdwr = (flags & Uapi.O_ACCMODE) == Uapi.O_RDWR;
        boolean wronly = (flags & Uapi.O_ACCMODE) == Uapi.O_WRONLY;
        this.file = new KFile(kernel, FILE_OPS, "dmabuf", !wronly, rdwr || wronly, this);
    }

    /**
     * dma_buf_export: a new dma-buf whose file holds the creator's single
     * reference, sharing the exporter's reservation object {@code resv}, or
     * with one of its own when that is null. It joins the global list
     * bufinfo shows. Errors: ENOMEM (by fault injection at dma_buf_export).
     */
    public static KResult<DmaBuf> export(Kernel kernel, DmaBufOps ops, Object priv, long sizeBytes, int flags,
            DmaResv resv, String function) {
        kernel.point(function, StepKind.WRITE, null);
        if (kernel.shouldFail("dma_buf_export")) {
            return KResult.err(Errno.ENOMEM, "allocating the dma-buf failed (injected)");
        }
        DmaBuf buf = new DmaBuf(kernel, ops, priv, sizeBytes, flags, resv);
        kernel.dmaBufListAdd(buf);
        return KResult.ok(buf);
    }

    /**
     * The ops of a dma-buf from an exporter outside the DRM device (another
     * driver: a camera, a codec): nothing to give back at release and no CPU
     * mapping. Importing one makes vgem attach to it.
     */
    public static final DmaBufOps FOREIGN_OPS = new DmaBufOps() {
        @Override
        public String exporter(DmaBuf buf) {
            return "foreign";
        }

        @Override
        public void release(DmaBuf buf) {
        }
    };

    public int id() {
        return id;
    }

    public long size() {
        return sizeBytes;
    }

    /** dmabuf->priv: the exporter's object (a GEM object for GEM exports). */
    public Object priv() {
        return priv;
    }

    public DmaBufOps ops() {
        return ops;
    }

    public DmaResv resv() {
        return resv;
    }

    public KFile file() {
        return file;
    }

    public String exporter() {
        return ops.exporter(this);
    }

    /** Whether the buffer's memory is gone (its file was released). */
    public boolean isFreed() {
        return file.isFreed();
    }

    /** get_dma_buf. */
    public void get(String function) {
        file.get(function);
    }

    /** dma_buf_put. */
    public void put(String function) {
        file.fput(function);
    }

    /**
     * dma_buf_fd: installs the caller's reference in the lowest free fd of the
     * current process. Returns the fd, or EMFILE (the reference stays the caller's).
     */
    public static KResult<Integer> fd(Kernel kernel, DmaBuf buf, String function) {
        FdTable files = kernel.current().process().files();
        kernel.point(function, StepKind.WRITE, buf.file);
        buf.file.use(function, "fd_install");
        int fd = files.install(buf.file);
        return fd < 0 ? KResult.err(Errno.EMFILE, "no free fd for the dma-buf") : KResult.ok(fd);
    }

    /**
     * dma_buf_get: the dma-buf behind {@code fd} with a new reference.
     * Errors: EBADF (no such fd), EINVAL (not a dma-buf).
     */
    public static KResult<DmaBuf> get(Kernel kernel, long fd, String function) {
        KFile f = kernel.current().process().files().fget(kernel, fd, function);
        if (f == null) {
            return KResult.err(Errno.EBADF, "fd " + fd + " is not open");
        }
        if (f.ops() != FILE_OPS) {
            f.fput(function);
            return KResult.err(Errno.EINVAL, "fd " + fd + " is a " + f.ops().name() + " file, not a dma-buf");
        }
        return KResult.ok((DmaBuf) f.privateData());
    }

    @Override
    public String toString() {
        return "dma-buf#" + id;
    }

    // --- file operations (dma_buf_fops) ---

    private static final FileOps FILE_OPS = new FileOps() {
        @Override
        public String name() {
            return "dma-buf";
        }

        /** dma_buf_file_release / dma_buf_release: the exporter's release, then the dma-buf's own reservation object. */
        @Override
        public void release(KFile file) {
            DmaBuf buf = (DmaBuf) file.privateData();
            buf.ops.release(buf);
            if (buf.ownsResv) {
                buf.resv.fini("dma_buf_release");
            }
            buf.kernel.dmaBufListDel(buf);
        }

        @Override
        public SysResult ioctl(KFile file, int cmd, long arg) {
            DmaBuf buf = (DmaBuf) file.privateData();
            return IoctlTable.fileIoctl(buf.kernel, IoctlTable.Owner.DMA_BUF, buf, "dma-buf", cmd, arg);
        }

        @Override
        public KResult<Void> mmap(KFile file, Vma vma) {
            return ((DmaBuf) file.privateData()).mmapInternal(vma);
        }

        @Override
        public int poll(KFile file, int events) {
            return ((DmaBuf) file.privateData()).poll(events);
        }

        /** dma_buf_llseek: only the size (SEEK_END 0) or 0 (SEEK_SET 0). */
        @Override
        public KResult<Long> llseek(KFile file, long offset, int whence) {
            DmaBuf buf = (DmaBuf) file.privateData();
            long base;
            if (whence == Uapi.SEEK_END) {
                base = buf.sizeBytes;
            } else if (whence == Uapi.SEEK_SET) {
                base = 0;
            } else {
                return KResult.err(Errno.EINVAL, "a dma-buf seeks only with SEEK_SET or SEEK_END");
            }
            if (offset != 0) {
                return KResult.err(Errno.EINVAL, "a dma-buf seeks only to offset 0 (size query)");
            }
            return KResult.ok(base);
        }
    };

    /** dma_buf_mmap_internal. */
    private KResult<Void> mmapInternal(Vma vma) {
        long pages = sizeBytes >>> Uapi.PAGE_SHIFT;
        if (Long.compareUnsigned(vma.pageOffset() + vma.pages(), pages) > 0
                || Long.compareUnsigned(vma.pageOffset(), pages) > 0) {
            return KResult.err(Errno.EINVAL, "mapping pages " + vma.pageOffset() + "+" + vma.pages()
                    + " of a dma-buf of " + pages + " pages");
        }
        return ops.mmap(this, vma);
    }

    /** The name user space gave it (DMA_BUF_SET_NAME), as bufinfo shows; empty until then. */
    public String name() {
        return name;
    }

    /**
     * dma_buf_set_name: the NUL-terminated string at the ioctl's argument
     * (strndup_user, at most DMA_BUF_NAME_LEN bytes) becomes the name.
     * Errors: EFAULT when it cannot be read, EINVAL when it is longer.
     */
    public SysResult setName() {
        long arg = kernel.current().ioctlArg();
        byte[] s = kernel.current().userMemory().readString(arg, Ioctl.DmaBufSetName.DMA_BUF_NAME_LEN + 1);
        if (s == null) {
            return SysResult.err(Errno.EFAULT, "DMA_BUF_SET_NAME: the name at 0x" + Long.toHexString(arg) + " is not readable");
        }
        if (s.length >= Ioctl.DmaBufSetName.DMA_BUF_NAME_LEN) {
            return SysResult.err(Errno.EINVAL, "DMA_BUF_SET_NAME: the name is longer than "
                    + (Ioctl.DmaBufSetName.DMA_BUF_NAME_LEN - 1) + " bytes");
        }
        name = new String(s, StandardCharsets.UTF_8);
        return SysResult.ok();
    }

    /**
     * dma_buf_poll: POLLIN once writers are done, POLLOUT once every fence
     * is. Under the reservation lock, each direction whose callback is not
     * already in flight takes a file reference and hooks a callback on the
     * first fence it must wait for; a direction with nothing to wait for
     * gives the reference back at once and is ready.
     */
    private int poll(int requested) {
        int events = requested & (KFile.POLLIN | KFile.POLLOUT);
        if (events == 0) {
            return 0;
        }
        String fn = "dma_buf_poll";
        resv.lock().lock(fn);
        if ((events & KFile.POLLOUT) != 0) {
            if (pollOutActive) {
                events &= ~KFile.POLLOUT;
            } else if (pollAddCallback(true)) {
                events &= ~KFile.POLLOUT;
            }
        }
        if ((events & KFile.POLLIN) != 0) {
            if (pollInActive) {
                events &= ~KFile.POLLIN;
            } else if (pollAddCallback(false)) {
                events &= ~KFile.POLLIN;
            }
        }
        resv.lock().unlock(fn);
        return events;
    }

    /**
     * The body of one direction of dma_buf_poll with dma_buf_poll_add_cb:
     * marks the direction active and pins the file, then hooks a callback
     * (which owns a fence reference) on the first fence in slot order that
     * takes one. Returns true when a callback was queued (not ready); false
     * after dma_buf_poll_cb(NULL) gave the pin back (ready).
     */
    private boolean pollAddCallback(boolean write) {
        String fn = "dma_buf_poll";
        setPollActive(write, true);
        file.get(fn);
        for (DmaFence fence : resv.unsignaledFences(DmaResv.usageRw(write))) {
            fence.fenceGet("dma_buf_poll_add_cb");
            if (fence.addCallback(() -> pollCallback(write, fence))) {
                return true;
            }
            fence.fencePut("dma_buf_poll_add_cb");
        }
        pollCallback(write, null);
        return false;
    }

    /** dma_buf_poll_cb: the direction is idle again; drops the fence's and the file's references. */
    private void pollCallback(boolean write, DmaFence fence) {
        String fn = "dma_buf_poll_cb";
        setPollActive(write, false);
        if (fence != null) {
            fence.fencePut(fn);
        }
        file.fput(fn);
    }

    private void setPollActive(boolean write, boolean active) {
        if (write) {
            pollOutActive = active;
        } else {
            pollInActive = active;
        }
    }

    /** DMA_BUF_IOCTL_SYNC: START waits for the fences the access conflicts with; END never waits. */
    public SysResult syncIoctl(long flags) {
        if ((flags & ~Uapi.DMA_BUF_SYNC_VALID_FLAGS_MASK) != 0) {
            return SysResult.err(Errno.EINVAL, "DMA_BUF_IOCTL_SYNC flags 0x" + Long.toHexString(flags)
                    + " have bits beyond READ|WRITE|END");
        }
        long rw = flags & Uapi.DMA_BUF_SYNC_RW;
        if (rw == 0) {
            return SysResult.err(Errno.EINVAL, "DMA_BUF_IOCTL_SYNC needs READ and/or WRITE");
        }
        if ((flags & Uapi.DMA_BUF_SYNC_END) != 0) {
            return SysResult.ok();
        }
        boolean write = (rw & Uapi.DMA_BUF_SYNC_WRITE) != 0;
        DmaResv.Usage usage = DmaResv.usageRw(write);
        while (!resv.testSignaled(usage)) {
            kernel.scheduler().sleep(kernel.fenceWait(), Clock.NEVER);
        }
        return SysResult.ok();
    }

    /** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a snapshot of the pending fences as a sync_file fd. */
    public SysResult exportSyncFileIoctl(int flags) {
        if ((flags & ~Uapi.DMA_BUF_SYNC_RW) != 0 || (flags & Uapi.DMA_BUF_SYNC_RW) == 0) {
            return SysResult.err(Errno.EINVAL, "EXPORT_SYNC_FILE flags must be READ, WRITE or both, not 0x"
                    + Integer.toHexString(flags));
        }
        FdTable files = kernel.current().process().files();
        int fd = files.reserve();
        if (fd < 0) {
            return SysResult.err(Errno.EMFILE, "no free fd for the sync_file");
        }
        String fn = "dma_buf_export_sync_file";
        List<DmaFence> pending = resv.unsignaledFences(DmaResv.usageRw((flags & Uapi.DMA_BUF_SYNC_WRITE) != 0));
        DmaFence fence;
        if (pending.isEmpty()) {
            fence = DmaFence.stub(kernel);
        } else if (pending.size() == 1) {
            fence = pending.get(0);
            fence.fenceGet("dma_resv_get_singleton");
        } else {
            for (DmaFence f : pending) {
                f.fenceGet("dma_resv_get_fences");
            }
            fence = new DmaFenceArray(kernel, pending);
        }
        SyncFile syncFile = SyncFile.create(kernel, fence, fn);
        fence.fencePut(fn);
        files.fill(fd, syncFile.file());
        return SysResult.ok(fd);
    }

    /** DMA_BUF_IOCTL_IMPORT_SYNC_FILE: adds a sync_file's fences as read or write fences. */
    public SysResult importSyncFileIoctl(int syncFd, int flags) {
        if ((flags & ~Uapi.DMA_BUF_SYNC_RW) != 0 || (flags & Uapi.DMA_BUF_SYNC_RW) == 0) {
            return SysResult.err(Errno.EINVAL, "IMPORT_SYNC_FILE flags must be READ, WRITE or both, not 0x"
                    + Integer.toHexString(flags));
        }
        String fn = "dma_buf_import_sync_file";
        DmaFence fence = SyncFile.getFence(kernel, syncFd, fn);
        if (fence == null) {
            return SysResult.err(Errno.EINVAL, "fd " + syncFd + " is not a sync_file");
        }
        DmaResv.Usage usage = (flags & Uapi.DMA_BUF_SYNC_WRITE) != 0 ? DmaResv.Usage.WRITE : DmaResv.Usage.READ;
        List<DmaFence> fences = fence.unwrap();
        if (!fences.isEmpty()) {
            resv.lock().lock(fn);
            resv.reserveFences(fences.size(), "dma_resv_reserve_fences");
            for (DmaFence f : fences) {
                resv.addFence(f, usage, "dma_resv_add_fence");
            }
            resv.lock().unlock(fn);
        }
        fence.fencePut(fn);
        return SysResult.ok();
    }
}
