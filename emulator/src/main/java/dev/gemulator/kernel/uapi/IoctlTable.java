package dev.gemulator.kernel.uapi;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.dmabuf.SyncFile;
import dev.gemulator.kernel.drm.DrmAuth;
import dev.gemulator.kernel.drm.DrmDumbBuffers;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.drm.DrmIoctls;
import dev.gemulator.kernel.gem.Gem;
import dev.gemulator.kernel.prime.Prime;
import dev.gemulator.kernel.vgem.Vgem;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The one ioctl table: every request number the model answers, with its
 * struct, permission flags and handler, as Linux 6.1 defines them
 * (drm_ioctls[] of drm_ioctl.c, vgem_ioctls[] of vgem_drv.c, dma_buf_ioctl
 * of dma-buf.c, sync_file_ioctl of sync_file.c). gemscript, the Java client,
 * the wire and the C shim all end here: a request is a number and the bytes
 * of its argument; the file's ioctl method finds the row, copies the struct
 * in, runs the handler and copies the struct out.
 *
 * <p>Adding an ioctl: its struct in {@link Ioctl}, its handler where the
 * kernel has it, and one row below.
 *
 * <p>DRM files look rows up by nr, as drm_ioctl does (the core table for
 * nr outside 0x40-0x9f, the driver's inside it), with the direction and size
 * of the number user space passed; dma-buf and sync_file files look the
 * whole number up. Legacy ioctls are rows whose handler is drm_invalid_op
 * (CONFIG_DRM_LEGACY is off in Debian's 6.1), modesetting ioctls rows whose
 * handler refuses a driver without DRIVER_MODESET, exactly as the real
 * kernel answers vgem (conformance/x_ioctl_table.gem).
 */
public final class IoctlTable {
    private IoctlTable() {
    }

    /** Which file's ioctl method serves a row. */
    public enum Owner {
        /** drm_ioctls[]: every DRM device. */
        DRM_CORE,
        /** the driver's table (vgem_ioctls[]), nr 0x40 to 0x9f. */
        DRM_DRIVER,
        /** dma_buf_ioctl. */
        DMA_BUF,
        /** sync_file_ioctl. */
        SYNC_FILE
    }

    /** A handler: the file's private data (drm_file, dma_buf, sync_file), the decoded struct and the kernel's copy of it. */
    @FunctionalInterface
    public interface Handler<A extends Ioctl> {
        SysResult handle(Object priv, A args, KData kdata);
    }

    /**
     * One row: the request's name and number, who serves it, its DRM
     * permission flags, how to decode its struct, its handler and how its
     * results go into the struct (null when the handler writes the struct).
     */
    public record Row<A extends Ioctl>(String name, int cmd, Owner owner, String driver, int flags,
            Function<KData, A> decode, Handler<A> handler, BiConsumer<SysResult, KData> copyOut) {

        /** The name without its header prefix, lowercase: "create_dumb", "gem_close", "fence_attach". */
        public String shortName() {
            String n = name.toLowerCase(Locale.ROOT);
            for (String prefix : List.of("drm_ioctl_mode_", "drm_ioctl_vgem_", "drm_ioctl_", "dma_buf_ioctl_", "dma_buf_",
                    "sync_ioc_")) {
                if (n.startsWith(prefix)) {
                    return n.substring(prefix.length());
                }
            }
            return n;
        }

        /** Runs the handler on {@code kdata} and copies its results into it. */
        public SysResult run(Object priv, KData kdata) {
            SysResult r = handler.handle(priv, decode.apply(kdata), kdata);
            if (copyOut != null) {
                copyOut.accept(r, kdata);
            }
            return r;
        }
    }

    /**
     * Where a request's struct holds descriptors, as offsets into it:
     * {@code in} an fd the handler looks up (-1 none), {@code out} the fd of
     * a file the handler makes (-1 none), {@code flags} the u32 whose
     * O_CLOEXEC bit the new fd takes (-1: always close-on-exec). A caller
     * whose descriptors live elsewhere (the C shim) reads these to say which
     * files the call names and to reserve the new fd.
     */
    public record FdFields(int in, int out, int flags) {
    }

    private static final Map<Integer, FdFields> FD_FIELDS = new HashMap<>();

    /** The descriptors in the struct of request {@code cmd}, or null when it has none. */
    public static FdFields fdFields(int cmd) {
        return FD_FIELDS.get(cmd);
    }

    private static final List<Row<?>> ROWS = new ArrayList<>();
    private static final Map<Integer, Row<?>> BY_CMD = new HashMap<>();

    private static <A extends Ioctl> void row(Owner owner, String driver, String name, int cmd, int flags,
            Function<KData, A> decode, Handler<A> handler, BiConsumer<SysResult, KData> copyOut) {
        Row<A> r = new Row<>(name, cmd, owner, driver, flags, decode, handler, copyOut);
        ROWS.add(r);
        BY_CMD.putIfAbsent(cmd, r);
    }

    /** A DRM core row. */
    private static <A extends Ioctl> void core(String name, int cmd, int flags, Function<KData, A> decode,
            Handler<A> handler, BiConsumer<SysResult, KData> copyOut) {
        row(Owner.DRM_CORE, null, name, cmd, flags, decode, handler, copyOut);
    }

    /** A DRM core row whose struct the model does not read, answered by {@code handler}. */
    private static void opaque(String name, int cmd, int flags, Handler<Ioctl.Opaque> handler) {
        core(name, cmd, flags, d -> new Ioctl.Opaque(cmd, new byte[0]), handler, null);
    }

    private static final int AUTH = DrmIoctls.DRM_AUTH;
    private static final int MASTER = DrmIoctls.DRM_MASTER;
    private static final int ROOT = DrmIoctls.DRM_ROOT_ONLY;
    private static final int RENDER = DrmIoctls.DRM_RENDER_ALLOW;
    private static final int LEGACY_ADMIN = AUTH | MASTER | ROOT;

    private static int iowr(int nr, int size) {
        return IoctlCmd.iowr('d', nr, size);
    }

    private static int iow(int nr, int size) {
        return IoctlCmd.iow('d', nr, size);
    }

    private static int ior(int nr, int size) {
        return IoctlCmd.ior('d', nr, size);
    }

    private static DrmFile drm(Object priv) {
        return (DrmFile) priv;
    }

    static {
        // --- drm_ioctls[] (Linux 6.1), in nr order ---
        core("DRM_IOCTL_VERSION", Ioctl.Version.CMD, RENDER, Ioctl.Version::decode,
                (f, a, d) -> DrmIoctls.version(drm(f), d), null);
        core("DRM_IOCTL_GET_UNIQUE", Ioctl.GetUnique.CMD, 0, Ioctl.GetUnique::decode,
                (f, a, d) -> DrmIoctls.getUnique(drm(f), a, d), null);
        core("DRM_IOCTL_GET_MAGIC", Ioctl.GetMagic.CMD, 0, Ioctl.GetMagic::decode,
                (f, a, d) -> DrmAuth.getMagic(drm(f)), (r, d) -> d.putU32(0, (int) r.v0()));
        opaque("DRM_IOCTL_IRQ_BUSID", iowr(0x03, 16), MASTER | ROOT, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_GET_MAP", iowr(0x04, 40), 0, DrmIoctls::invalidOp);
        core("DRM_IOCTL_GET_CLIENT", Ioctl.GetClient.CMD, 0, Ioctl.GetClient::decode,
                (f, a, d) -> DrmIoctls.getClient(drm(f), a, d), null);
        core("DRM_IOCTL_GET_STATS", Ioctl.GetStats.CMD, 0, Ioctl.GetStats::decode,
                (f, a, d) -> DrmIoctls.getStats(d), null);
        core("DRM_IOCTL_SET_VERSION", Ioctl.SetVersion.CMD, MASTER, Ioctl.SetVersion::decode,
                (f, a, d) -> DrmIoctls.setVersion(drm(f), a, d), null);
        opaque("DRM_IOCTL_MODESET_CTL", iow(0x08, 8), 0, DrmIoctls::noop);
        core("DRM_IOCTL_GEM_CLOSE", Ioctl.GemClose.CMD, RENDER, Ioctl.GemClose::decode,
                (f, a, d) -> Gem.gemCloseIoctl(drm(f), a.handle()), null);
        core("DRM_IOCTL_GEM_FLINK", Ioctl.GemFlink.CMD, AUTH, Ioctl.GemFlink::decode,
                (f, a, d) -> Gem.gemFlinkIoctl(drm(f), a.handle()), Ioctl.GemFlink::copyOut);
        core("DRM_IOCTL_GEM_OPEN", Ioctl.GemOpen.CMD, AUTH, Ioctl.GemOpen::decode,
                (f, a, d) -> Gem.gemOpenIoctl(drm(f), a.name()), Ioctl.GemOpen::copyOut);
        core("DRM_IOCTL_GET_CAP", Ioctl.GetCap.CMD, RENDER, Ioctl.GetCap::decode,
                (f, a, d) -> DrmIoctls.getCap(drm(f), a.capability()), Ioctl.GetCap::copyOut);
        core("DRM_IOCTL_SET_CLIENT_CAP", Ioctl.SetClientCap.CMD, 0, Ioctl.SetClientCap::decode,
                (f, a, d) -> DrmIoctls.setClientCap(drm(f), a), null);
        opaque("DRM_IOCTL_SET_UNIQUE", iow(0x10, 16), LEGACY_ADMIN, DrmIoctls::invalidOp);
        core("DRM_IOCTL_AUTH_MAGIC", Ioctl.AuthMagic.CMD, MASTER, Ioctl.AuthMagic::decode,
                (f, a, d) -> DrmAuth.authMagic(drm(f), a.magic()), null);
        opaque("DRM_IOCTL_BLOCK", iowr(0x12, 4), LEGACY_ADMIN, DrmIoctls::noop);
        opaque("DRM_IOCTL_UNBLOCK", iowr(0x13, 4), LEGACY_ADMIN, DrmIoctls::noop);
        opaque("DRM_IOCTL_CONTROL", iow(0x14, 8), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_ADD_MAP", iowr(0x15, 40), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_ADD_BUFS", iowr(0x16, 32), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_MARK_BUFS", iow(0x17, 32), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_INFO_BUFS", iowr(0x18, 16), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_MAP_BUFS", iowr(0x19, 24), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_FREE_BUFS", iow(0x1a, 16), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_RM_MAP", iow(0x1b, 40), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_SET_SAREA_CTX", iow(0x1c, 16), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_GET_SAREA_CTX", iowr(0x1d, 16), AUTH, DrmIoctls::invalidOp);
        core("DRM_IOCTL_SET_MASTER", Ioctl.SetMaster.CMD, 0, d -> new Ioctl.SetMaster(),
                (f, a, d) -> DrmAuth.setMasterIoctl(drm(f)), null);
        core("DRM_IOCTL_DROP_MASTER", Ioctl.DropMaster.CMD, 0, d -> new Ioctl.DropMaster(),
                (f, a, d) -> DrmAuth.dropMasterIoctl(drm(f)), null);
        opaque("DRM_IOCTL_ADD_CTX", iowr(0x20, 8), AUTH | ROOT, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_RM_CTX", iowr(0x21, 8), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_MOD_CTX", iow(0x22, 8), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_GET_CTX", iowr(0x23, 8), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_SWITCH_CTX", iow(0x24, 8), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_NEW_CTX", iow(0x25, 8), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_RES_CTX", iowr(0x26, 16), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_ADD_DRAW", iowr(0x27, 4), LEGACY_ADMIN, DrmIoctls::noop);
        opaque("DRM_IOCTL_RM_DRAW", iowr(0x28, 4), LEGACY_ADMIN, DrmIoctls::noop);
        opaque("DRM_IOCTL_DMA", iowr(0x29, 64), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_LOCK", iow(0x2a, 8), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_UNLOCK", iow(0x2b, 8), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_FINISH", iow(0x2c, 8), AUTH, DrmIoctls::noop);
        core("DRM_IOCTL_PRIME_HANDLE_TO_FD", Ioctl.PrimeHandleToFd.CMD, RENDER, Ioctl.PrimeHandleToFd::decode,
                (f, a, d) -> Prime.primeHandleToFdIoctl(drm(f), a), Ioctl.PrimeHandleToFd::copyOut);
        core("DRM_IOCTL_PRIME_FD_TO_HANDLE", Ioctl.PrimeFdToHandle.CMD, RENDER, Ioctl.PrimeFdToHandle::decode,
                (f, a, d) -> Prime.primeFdToHandleIoctl(drm(f), a.fd()), Ioctl.PrimeFdToHandle::copyOut);
        opaque("DRM_IOCTL_AGP_ACQUIRE", IoctlCmd.io('d', 0x30), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_AGP_RELEASE", IoctlCmd.io('d', 0x31), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_AGP_ENABLE", iow(0x32, 8), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_AGP_INFO", ior(0x33, 56), AUTH, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_AGP_ALLOC", iowr(0x34, 32), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_AGP_FREE", iow(0x35, 32), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_AGP_BIND", iow(0x36, 16), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_AGP_UNBIND", iow(0x37, 16), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_SG_ALLOC", iowr(0x38, 16), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_SG_FREE", iow(0x39, 16), LEGACY_ADMIN, DrmIoctls::invalidOp);
        opaque("DRM_IOCTL_WAIT_VBLANK", iowr(0x3a, 24), 0, DrmIoctls::noVblank);
        opaque("DRM_IOCTL_CRTC_GET_SEQUENCE", iowr(0x3b, 24), 0, DrmIoctls::noVblank);
        opaque("DRM_IOCTL_CRTC_QUEUE_SEQUENCE", iowr(0x3c, 24), 0, DrmIoctls::noVblank);
        opaque("DRM_IOCTL_UPDATE_DRAW", iow(0x3f, 24), LEGACY_ADMIN, DrmIoctls::noop);
        // 0xa0 on: modesetting, which vgem lacks
        String[][] mode = {
            {"MODE_GETRESOURCES", "a0", "64", ""}, {"MODE_GETCRTC", "a1", "104", ""},
            {"MODE_SETCRTC", "a2", "104", "M"}, {"MODE_CURSOR", "a3", "28", "M"},
            {"MODE_GETGAMMA", "a4", "32", ""}, {"MODE_SETGAMMA", "a5", "32", "M"},
            {"MODE_GETENCODER", "a6", "20", ""}, {"MODE_GETCONNECTOR", "a7", "80", ""},
            {"MODE_ATTACHMODE", "a8", "72", "M0"}, {"MODE_DETACHMODE", "a9", "72", "M0"},
            {"MODE_GETPROPERTY", "aa", "64", ""}, {"MODE_SETPROPERTY", "ab", "16", "M"},
            {"MODE_GETPROPBLOB", "ac", "16", ""}, {"MODE_GETFB", "ad", "28", ""},
            {"MODE_ADDFB", "ae", "28", ""}, {"MODE_RMFB", "af", "4", ""},
            {"MODE_PAGE_FLIP", "b0", "24", "M"}, {"MODE_DIRTYFB", "b1", "24", "M"},
        };
        for (String[] m : mode) {
            modeRow(m);
        }
        core("DRM_IOCTL_MODE_CREATE_DUMB", Ioctl.ModeCreateDumb.CMD, 0, Ioctl.ModeCreateDumb::decode,
                (f, a, d) -> DrmDumbBuffers.modeCreateDumbIoctl(drm(f), a), Ioctl.ModeCreateDumb::copyOut);
        core("DRM_IOCTL_MODE_MAP_DUMB", Ioctl.ModeMapDumb.CMD, 0, Ioctl.ModeMapDumb::decode,
                (f, a, d) -> DrmDumbBuffers.modeMmapDumbIoctl(drm(f), a.handle()), Ioctl.ModeMapDumb::copyOut);
        core("DRM_IOCTL_MODE_DESTROY_DUMB", Ioctl.ModeDestroyDumb.CMD, 0, Ioctl.ModeDestroyDumb::decode,
                (f, a, d) -> DrmDumbBuffers.modeDestroyDumbIoctl(drm(f), a.handle()), null);
        String[][] mode2 = {
            {"MODE_GETPLANERESOURCES", "b5", "16", ""}, {"MODE_GETPLANE", "b6", "32", ""},
            {"MODE_SETPLANE", "b7", "48", "M"}, {"MODE_ADDFB2", "b8", "104", ""},
            {"MODE_OBJ_GETPROPERTIES", "b9", "32", ""}, {"MODE_OBJ_SETPROPERTY", "ba", "24", "M"},
            {"MODE_CURSOR2", "bb", "36", "M"}, {"MODE_ATOMIC", "bc", "56", "M"},
            {"MODE_CREATEPROPBLOB", "bd", "16", ""}, {"MODE_DESTROYPROPBLOB", "be", "4", ""},
            {"SYNCOBJ_CREATE", "bf", "8", "S"}, {"SYNCOBJ_DESTROY", "c0", "8", "S"},
            {"SYNCOBJ_HANDLE_TO_FD", "c1", "16", "S"}, {"SYNCOBJ_FD_TO_HANDLE", "c2", "16", "S"},
            {"SYNCOBJ_WAIT", "c3", "32", "S"}, {"SYNCOBJ_RESET", "c4", "16", "S"},
            {"SYNCOBJ_SIGNAL", "c5", "16", "S"}, {"MODE_CREATE_LEASE", "c6", "24", "M"},
            {"MODE_LIST_LESSEES", "c7", "16", "M"}, {"MODE_GET_LEASE", "c8", "16", "M"},
            {"MODE_REVOKE_LEASE", "c9", "4", "M"}, {"SYNCOBJ_TIMELINE_WAIT", "ca", "40", "S"},
            {"SYNCOBJ_QUERY", "cb", "24", "S"}, {"SYNCOBJ_TRANSFER", "cc", "32", "S"},
            {"SYNCOBJ_TIMELINE_SIGNAL", "cd", "24", "S"}, {"MODE_GETFB2", "ce", "104", "2"},
        };
        for (String[] m : mode2) {
            modeRow(m);
        }

        // --- vgem_ioctls[] ---
        row(Owner.DRM_DRIVER, "vgem", "DRM_IOCTL_VGEM_FENCE_ATTACH", Ioctl.VgemFenceAttach.CMD, RENDER,
                Ioctl.VgemFenceAttach::decode, (f, a, d) -> Vgem.fenceAttachIoctl(drm(f), a),
                Ioctl.VgemFenceAttach::copyOut);
        row(Owner.DRM_DRIVER, "vgem", "DRM_IOCTL_VGEM_FENCE_SIGNAL", Ioctl.VgemFenceSignal.CMD, RENDER,
                Ioctl.VgemFenceSignal::decode, (f, a, d) -> Vgem.fenceSignalIoctl(drm(f), a), null);

        // --- dma_buf_ioctl ---
        row(Owner.DMA_BUF, null, "DMA_BUF_IOCTL_SYNC", Ioctl.DmaBufSync.CMD, 0, Ioctl.DmaBufSync::decode,
                (b, a, d) -> ((DmaBuf) b).syncIoctl(a.flags()), null);
        row(Owner.DMA_BUF, null, "DMA_BUF_SET_NAME_A", Ioctl.DmaBufSetName.CMD_A, 0,
                d -> new Ioctl.DmaBufSetName(Ioctl.DmaBufSetName.CMD_A, null),
                (b, a, d) -> ((DmaBuf) b).setName(), null);
        row(Owner.DMA_BUF, null, "DMA_BUF_SET_NAME_B", Ioctl.DmaBufSetName.CMD_B, 0,
                d -> new Ioctl.DmaBufSetName(Ioctl.DmaBufSetName.CMD_B, null),
                (b, a, d) -> ((DmaBuf) b).setName(), null);
        row(Owner.DMA_BUF, null, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE", Ioctl.DmaBufExportSyncFile.CMD, 0,
                Ioctl.DmaBufExportSyncFile::decode, (b, a, d) -> ((DmaBuf) b).exportSyncFileIoctl(a.flags()),
                Ioctl.DmaBufExportSyncFile::copyOut);
        row(Owner.DMA_BUF, null, "DMA_BUF_IOCTL_IMPORT_SYNC_FILE", Ioctl.DmaBufImportSyncFile.CMD, 0,
                Ioctl.DmaBufImportSyncFile::decode,
                (b, a, d) -> ((DmaBuf) b).importSyncFileIoctl(a.fd(), a.flags()), null);

        // --- sync_file_ioctl ---
        row(Owner.SYNC_FILE, null, "SYNC_IOC_MERGE", Ioctl.SyncMerge.CMD, 0, Ioctl.SyncMerge::decode,
                (s, a, d) -> ((SyncFile) s).mergeIoctl(a), Ioctl.SyncMerge::copyOut);
        row(Owner.SYNC_FILE, null, "SYNC_IOC_FILE_INFO", Ioctl.SyncFileInfo.CMD, 0, Ioctl.SyncFileInfo::decode,
                (s, a, d) -> ((SyncFile) s).fileInfoIoctl(a, d), null);

        // --- the descriptors inside structs ---
        FD_FIELDS.put(Ioctl.PrimeHandleToFd.CMD, new FdFields(-1, 8, 4));
        FD_FIELDS.put(Ioctl.PrimeFdToHandle.CMD, new FdFields(8, -1, -1));
        FD_FIELDS.put(Ioctl.DmaBufExportSyncFile.CMD, new FdFields(-1, 4, -1));
        FD_FIELDS.put(Ioctl.DmaBufImportSyncFile.CMD, new FdFields(4, -1, -1));
        FD_FIELDS.put(Ioctl.SyncMerge.CMD, new FdFields(32, 36, -1));
    }

    /**
     * A modesetting or syncobj row: {name, nr in hex, size, kind} with kind M
     * (DRM_MASTER, refused for want of modesetting), M0 (DRM_MASTER, drm_noop),
     * S (render-allowed, refused for want of syncobj), 2 (GETFB2: EINVAL
     * without modesetting), empty (flags 0, refused for want of modesetting).
     */
    private static void modeRow(String[] m) {
        int cmd = iowr(Integer.parseInt(m[1], 16), Integer.parseInt(m[2]));
        String name = "DRM_IOCTL_" + m[0];
        switch (m[3]) {
            case "M" -> opaque(name, cmd, MASTER, DrmIoctls::noModeset);
            case "M0" -> opaque(name, cmd, MASTER, DrmIoctls::noop);
            case "S" -> opaque(name, cmd, RENDER, DrmIoctls::noSyncobj);
            case "2" -> opaque(name, cmd, 0, DrmIoctls::noModesetEinval);
            default -> opaque(name, cmd, 0, DrmIoctls::noModeset);
        }
    }

    /** Every row, in table order. */
    public static List<Row<?>> rows() {
        return Collections.unmodifiableList(ROWS);
    }

    /** The row with exactly this request number, or null. */
    public static Row<?> byCmd(int cmd) {
        return BY_CMD.get(cmd);
    }

    /** drm_ioctls[nr]: the core row of that nr, or null (an empty slot). */
    public static Row<?> drmCore(int nr) {
        for (Row<?> r : ROWS) {
            if (r.owner == Owner.DRM_CORE && IoctlCmd.nr(r.cmd) == nr) {
                return r;
            }
        }
        return null;
    }

    /** DRM_CORE_IOCTL_COUNT: one past the highest core nr. */
    public static int drmCoreCount() {
        int max = -1;
        for (Row<?> r : ROWS) {
            if (r.owner == Owner.DRM_CORE) {
                max = Math.max(max, IoctlCmd.nr(r.cmd));
            }
        }
        return max + 1;
    }

    /** driver->ioctls[index]: the driver's row at that index (nr - DRM_COMMAND_BASE), or null. */
    public static Row<?> drmDriver(String driver, int index) {
        for (Row<?> r : ROWS) {
            if (r.owner == Owner.DRM_DRIVER && r.driver.equals(driver)
                    && IoctlCmd.nr(r.cmd) - DrmIoctls.DRM_COMMAND_BASE == index) {
                return r;
            }
        }
        return null;
    }

    /** driver->num_ioctls: one past the driver's highest index. */
    public static int drmDriverCount(String driver) {
        int max = -1;
        for (Row<?> r : ROWS) {
            if (r.owner == Owner.DRM_DRIVER && r.driver.equals(driver)) {
                max = Math.max(max, IoctlCmd.nr(r.cmd) - DrmIoctls.DRM_COMMAND_BASE);
            }
        }
        return max + 1;
    }

    /**
     * The ioctl method of a dma-buf or sync_file: the row of exactly this
     * number among {@code owner}'s, the struct copied in (_IOC_SIZE of the
     * number), the handler, and on success the struct copied out when the
     * number reads (_IOC_READ). Errors: ENOTTY for a number it does not know,
     * EFAULT when the argument cannot be read or written, the handler's.
     */
    public static SysResult fileIoctl(Kernel kernel, Owner owner, Object priv, String kind,
            int cmd, long arg) {
        Row<?> row = BY_CMD.get(cmd);
        if (row == null || row.owner != owner) {
            return SysResult.err(Errno.ENOTTY, IoctlCmd.hex(cmd) + " is not an ioctl of a " + kind + " file");
        }
        UserMemory mem = kernel.current().userMemory();
        // DMA_BUF_SET_NAME's argument is the address of a string, which its handler reads
        int size = cmd == Ioctl.DmaBufSetName.CMD_A || cmd == Ioctl.DmaBufSetName.CMD_B ? 0 : IoctlCmd.size(cmd);
        byte[] in = mem.read(arg, size);
        if (in == null) {
            return SysResult.err(Errno.EFAULT, row.name + ": the argument at 0x" + Long.toHexString(arg)
                    + " is not readable");
        }
        KData kdata = KData.of(in, size);
        kernel.current().setIoctlArg(arg);
        SysResult r = row.run(priv, kdata);
        if (r.isOk() && size > 0 && (IoctlCmd.dir(cmd) & IoctlCmd.IOC_READ) != 0 && !mem.write(arg, kdata.bytes(size))) {
            return SysResult.err(Errno.EFAULT, row.name + ": the argument at 0x" + Long.toHexString(arg)
                    + " is not writable");
        }
        return r;
    }
}
