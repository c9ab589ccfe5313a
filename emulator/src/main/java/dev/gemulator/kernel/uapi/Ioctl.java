package dev.gemulator.kernel.uapi;

import dev.gemulator.kernel.SysResult;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The argument structs of the ioctls the model answers, as the uapi headers
 * lay them out (drm.h, drm_mode.h, vgem_drm.h, linux/dma-buf.h,
 * linux/sync_file.h). Each record names its request number, decodes its
 * inputs from the kernel's copy of the struct ({@link KData}), and writes
 * them back for a caller that builds a request ({@link #encode}); the table
 * row ({@link IoctlTable}) copies the handler's results into the struct, and
 * {@link #results} reads them out again for a caller in Java.
 *
 * <p>Integer fields have the kernel's widths: u32 fields are Java ints
 * holding the unsigned bits, u64 fields and pointers are longs.
 */
public sealed interface Ioctl {

    /** The request number (what user space passes to ioctl(2)). */
    int cmd();

    /** Writes the struct's inputs into {@code d}; pointer fields point into buffers lent from {@code mem}. */
    void encode(KData d, UserBuffers mem);

    /** What the call gave back, read from the struct after the call (the values gemscript prints). */
    default SysResult results(KData out, UserBuffers mem) {
        return SysResult.ok();
    }

    // --- DRM core (drm.h, drm_mode.h) ---

    /** struct drm_version: three ints, then (length, pointer) for name, date and desc. */
    record Version() implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x00, 64);
        public static final int NAME_BUFFER_BYTES = 256;

        public int cmd() {
            return CMD;
        }

        static Version decode(KData d) {
            return new Version();
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU64(16, NAME_BUFFER_BYTES - 1).putU64(24, mem.allocate(NAME_BUFFER_BYTES));
        }

        /** The driver name (the two-call protocol's second call: the buffer was long enough). */
        public SysResult results(KData out, UserBuffers mem) {
            byte[] buffer = mem.get(out.u64(24));
            if (buffer == null) {
                return SysResult.ok(); // the name went to a buffer the caller did not lend (a program's own)
            }
            long len = Math.min(Long.compareUnsigned(out.u64(16), buffer.length) > 0 ? buffer.length : out.u64(16),
                    buffer.length);
            byte[] name = Arrays.copyOf(buffer, (int) len);
            return SysResult.text(new String(name, StandardCharsets.UTF_8));
        }
    }

    /** struct drm_unique: unique_len (size_t), unique (char *). */
    record GetUnique(long uniqueLen, long unique) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x01, 16);

        public int cmd() {
            return CMD;
        }

        static GetUnique decode(KData d) {
            return new GetUnique(d.u64(0), d.u64(8));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU64(0, uniqueLen).putU64(8, unique);
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u64(0));
        }
    }

    /** struct drm_auth for GET_MAGIC: the magic comes back. */
    record GetMagic() implements Ioctl {
        public static final int CMD = IoctlCmd.ior('d', 0x02, 4);

        public int cmd() {
            return CMD;
        }

        static GetMagic decode(KData d) {
            return new GetMagic();
        }

        public void encode(KData d, UserBuffers mem) {
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(Integer.toUnsignedLong(out.u32(0)));
        }
    }

    /** struct drm_client: idx, auth, then pid, uid, magic, iocs as unsigned longs. */
    record GetClient(int idx) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x05, 40);

        public int cmd() {
            return CMD;
        }

        static GetClient decode(KData d) {
            return new GetClient(d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, idx);
        }

        /** auth, pid, uid. */
        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u32(4), out.u64(8), out.u64(16));
        }
    }

    /** struct drm_stats: a count and 15 (value, type) pairs. */
    record GetStats() implements Ioctl {
        public static final int CMD = IoctlCmd.ior('d', 0x06, 248);

        public int cmd() {
            return CMD;
        }

        static GetStats decode(KData d) {
            return new GetStats();
        }

        public void encode(KData d, UserBuffers mem) {
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u64(0));
        }
    }

    /** struct drm_set_version: the interface and driver versions asked for (-1: any); the kernel's come back. */
    record SetVersion(int diMajor, int diMinor, int ddMajor, int ddMinor) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x07, 16);

        public int cmd() {
            return CMD;
        }

        static SetVersion decode(KData d) {
            return new SetVersion(d.u32(0), d.u32(4), d.u32(8), d.u32(12));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, diMajor).putU32(4, diMinor).putU32(8, ddMajor).putU32(12, ddMinor);
        }

        /** The interface major and minor, the driver major. */
        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u32(0), out.u32(4), out.u32(8));
        }
    }

    record GemClose(int handle) implements Ioctl {
        public static final int CMD = IoctlCmd.iow('d', 0x09, 8);

        public int cmd() {
            return CMD;
        }

        static GemClose decode(KData d) {
            return new GemClose(d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, handle);
        }
    }

    /** struct drm_gem_flink: handle in, name out. */
    record GemFlink(int handle) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x0a, 8);

        public int cmd() {
            return CMD;
        }

        static GemFlink decode(KData d) {
            return new GemFlink(d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, handle);
        }

        static void copyOut(SysResult r, KData d) {
            d.putU32(4, (int) r.v0());
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(Integer.toUnsignedLong(out.u32(4)));
        }
    }

    /** struct drm_gem_open: name in; handle and size out. */
    record GemOpen(int name) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x0b, 16);

        public int cmd() {
            return CMD;
        }

        static GemOpen decode(KData d) {
            return new GemOpen(d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, name);
        }

        static void copyOut(SysResult r, KData d) {
            d.putU32(4, (int) r.v0()).putU64(8, r.v1());
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(Integer.toUnsignedLong(out.u32(4)), out.u64(8));
        }
    }

    /** struct drm_get_cap: capability in, value out. */
    record GetCap(long capability) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x0c, 16);

        public int cmd() {
            return CMD;
        }

        static GetCap decode(KData d) {
            return new GetCap(d.u64(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU64(0, capability);
        }

        /** drm_getcap zeroes the value first: a refused capability reads 0. */
        static void copyOut(SysResult r, KData d) {
            d.putU64(8, r.isOk() ? r.v0() : 0);
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u64(8));
        }
    }

    /** struct drm_set_client_cap. */
    record SetClientCap(long capability, long value) implements Ioctl {
        public static final int CMD = IoctlCmd.iow('d', 0x0d, 16);

        public int cmd() {
            return CMD;
        }

        static SetClientCap decode(KData d) {
            return new SetClientCap(d.u64(0), d.u64(8));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU64(0, capability).putU64(8, value);
        }
    }

    record AuthMagic(int magic) implements Ioctl {
        public static final int CMD = IoctlCmd.iow('d', 0x11, 4);

        public int cmd() {
            return CMD;
        }

        static AuthMagic decode(KData d) {
            return new AuthMagic(d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, magic);
        }
    }

    record SetMaster() implements Ioctl {
        public static final int CMD = IoctlCmd.io('d', 0x1e);

        public int cmd() {
            return CMD;
        }

        public void encode(KData d, UserBuffers mem) {
        }
    }

    record DropMaster() implements Ioctl {
        public static final int CMD = IoctlCmd.io('d', 0x1f);

        public int cmd() {
            return CMD;
        }

        public void encode(KData d, UserBuffers mem) {
        }
    }

    /** struct drm_prime_handle for HANDLE_TO_FD: handle and flags in, fd out. */
    record PrimeHandleToFd(int handle, int flags) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x2d, 12);

        public int cmd() {
            return CMD;
        }

        static PrimeHandleToFd decode(KData d) {
            return new PrimeHandleToFd(d.u32(0), d.u32(4));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, handle).putU32(4, flags);
        }

        static void copyOut(SysResult r, KData d) {
            d.putU32(8, (int) r.v0());
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u32(8));
        }
    }

    /** struct drm_prime_handle for FD_TO_HANDLE: fd in, handle out. */
    record PrimeFdToHandle(int fd) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x2e, 12);

        public int cmd() {
            return CMD;
        }

        static PrimeFdToHandle decode(KData d) {
            return new PrimeFdToHandle(d.u32(8));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(8, fd);
        }

        static void copyOut(SysResult r, KData d) {
            d.putU32(0, (int) r.v0());
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(Integer.toUnsignedLong(out.u32(0)));
        }
    }

    /** struct drm_mode_create_dumb: height, width, bpp, flags in; handle, pitch, size out. */
    record ModeCreateDumb(int width, int height, int bpp, int flags) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0xb2, 32);

        public int cmd() {
            return CMD;
        }

        static ModeCreateDumb decode(KData d) {
            return new ModeCreateDumb(d.u32(4), d.u32(0), d.u32(8), d.u32(12));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, height).putU32(4, width).putU32(8, bpp).putU32(12, flags);
        }

        static void copyOut(SysResult r, KData d) {
            if (r.isOk()) {
                d.putU32(16, (int) r.v0()).putU32(20, (int) r.v1()).putU64(24, r.v2());
            }
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(Integer.toUnsignedLong(out.u32(16)), Integer.toUnsignedLong(out.u32(20)), out.u64(24));
        }
    }

    /** struct drm_mode_map_dumb: handle in, offset out. */
    record ModeMapDumb(int handle) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0xb3, 16);

        public int cmd() {
            return CMD;
        }

        static ModeMapDumb decode(KData d) {
            return new ModeMapDumb(d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, handle);
        }

        static void copyOut(SysResult r, KData d) {
            if (r.isOk()) {
                d.putU64(8, r.v0());
            }
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u64(8));
        }
    }

    record ModeDestroyDumb(int handle) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0xb4, 4);

        public int cmd() {
            return CMD;
        }

        static ModeDestroyDumb decode(KData d) {
            return new ModeDestroyDumb(d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, handle);
        }
    }

    /** Any request whose struct the model does not read (legacy, no-op and modesetting ioctls). */
    record Opaque(int cmd, byte[] bytes) implements Ioctl {
        public void encode(KData d, UserBuffers mem) {
            for (int i = 0; i < bytes.length; i++) {
                d.putU8(i, bytes[i]);
            }
        }
    }

    // --- vgem (vgem_drm.h) ---

    /** struct drm_vgem_fence_attach: handle, flags, pad in; out_fence out. */
    record VgemFenceAttach(int handle, int flags, int pad) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('d', 0x41, 16);

        public int cmd() {
            return CMD;
        }

        static VgemFenceAttach decode(KData d) {
            return new VgemFenceAttach(d.u32(0), d.u32(4), d.u32(12));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, handle).putU32(4, flags).putU32(12, pad);
        }

        static void copyOut(SysResult r, KData d) {
            if (r.isOk()) {
                d.putU32(8, (int) r.v0());
            }
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(Integer.toUnsignedLong(out.u32(8)));
        }
    }

    record VgemFenceSignal(int fence, int flags) implements Ioctl {
        public static final int CMD = IoctlCmd.iow('d', 0x42, 8);

        public int cmd() {
            return CMD;
        }

        static VgemFenceSignal decode(KData d) {
            return new VgemFenceSignal(d.u32(0), d.u32(4));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, fence).putU32(4, flags);
        }
    }

    // --- dma-buf (linux/dma-buf.h) ---

    record DmaBufSync(long flags) implements Ioctl {
        public static final int CMD = IoctlCmd.iow('b', 0, 8);

        public int cmd() {
            return CMD;
        }

        static DmaBufSync decode(KData d) {
            return new DmaBufSync(d.u64(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU64(0, flags);
        }
    }

    /**
     * DMA_BUF_SET_NAME (_A with a u32 size, _B with a u64 one; the plain name is
     * _B on 64-bit): the argument is the address of a NUL-terminated string,
     * read with strndup_user (at most DMA_BUF_NAME_LEN bytes), not a struct.
     * {@code name} is null when it could not be read.
     */
    record DmaBufSetName(int cmd, byte[] name) implements Ioctl {
        public static final int CMD_A = IoctlCmd.iow('b', 1, 4);
        public static final int CMD_B = IoctlCmd.iow('b', 1, 8);
        public static final int DMA_BUF_NAME_LEN = 32;

        public void encode(KData d, UserBuffers mem) {
            throw new UnsupportedOperationException("DMA_BUF_SET_NAME passes a string pointer, not a struct");
        }
    }

    /** struct dma_buf_export_sync_file: flags in, fd out. */
    record DmaBufExportSyncFile(int flags) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('b', 2, 8);

        public int cmd() {
            return CMD;
        }

        static DmaBufExportSyncFile decode(KData d) {
            return new DmaBufExportSyncFile(d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, flags).putU32(4, -1);
        }

        static void copyOut(SysResult r, KData d) {
            d.putU32(4, (int) r.v0());
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u32(4));
        }
    }

    /** struct dma_buf_import_sync_file: flags, then the sync_file fd. */
    record DmaBufImportSyncFile(int fd, int flags) implements Ioctl {
        public static final int CMD = IoctlCmd.iow('b', 3, 8);

        public int cmd() {
            return CMD;
        }

        static DmaBufImportSyncFile decode(KData d) {
            return new DmaBufImportSyncFile(d.u32(4), d.u32(0));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(0, flags).putU32(4, fd);
        }
    }

    // --- sync_file (linux/sync_file.h) ---

    /** struct sync_merge_data: name[32], fd2, flags, pad in; the new sync_file's fd out. */
    record SyncMerge(String name, int fd2, int flags, int pad) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('>', 3, 48);

        public int cmd() {
            return CMD;
        }

        static SyncMerge decode(KData d) {
            return new SyncMerge(d.string(0, 32), d.u32(32), d.u32(40), d.u32(44));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putString(0, 32, name).putU32(32, fd2).putU32(40, flags).putU32(44, pad);
        }

        static void copyOut(SysResult r, KData d) {
            d.putU32(36, (int) r.v0());
        }

        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u32(36));
        }
    }

    /**
     * struct sync_file_info: flags, num_fences (0: just count them), pad and
     * the address of a sync_fence_info array in; name, status and the count out.
     */
    record SyncFileInfo(int flags, int numFences, int pad, long fenceInfo) implements Ioctl {
        public static final int CMD = IoctlCmd.iowr('>', 4, 56);
        /** sizeof(struct sync_fence_info). */
        public static final int FENCE_INFO_BYTES = 80;

        public int cmd() {
            return CMD;
        }

        static SyncFileInfo decode(KData d) {
            return new SyncFileInfo(d.u32(36), d.u32(40), d.u32(44), d.u64(48));
        }

        public void encode(KData d, UserBuffers mem) {
            d.putU32(36, flags).putU32(40, numFences).putU32(44, pad).putU64(48, fenceInfo);
        }

        /** status and the number of fences. */
        public SysResult results(KData out, UserBuffers mem) {
            return SysResult.ok(out.u32(32), Integer.toUnsignedLong(out.u32(40)));
        }
    }
}
