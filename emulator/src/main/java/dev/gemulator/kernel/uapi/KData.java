package dev.gemulator.kernel.uapi;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The kernel's copy of an ioctl argument (drm_ioctl's kdata): the struct's
 * bytes in x86-64 layout, little endian, with accessors by byte offset.
 * Reads past the end answer 0, writes past the end are dropped, as a struct
 * copied in shorter than the kernel's is zero-extended.
 */
public final class KData {
    private final byte[] bytes;

    public KData(int size) {
        this.bytes = new byte[size];
    }

    /** A copy of {@code from} in a buffer of at least {@code size} bytes (zero-extended). */
    public static KData of(byte[] from, int size) {
        KData d = new KData(Math.max(size, from.length));
        System.arraycopy(from, 0, d.bytes, 0, from.length);
        return d;
    }

    public int size() {
        return bytes.length;
    }

    /** The first {@code length} bytes. */
    public byte[] bytes(int length) {
        return Arrays.copyOf(bytes, Math.min(length, bytes.length));
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public int u8(int off) {
        return off < bytes.length ? bytes[off] & 0xff : 0;
    }

    /** A u32 or s32 field (as a Java int holding its bits). */
    public int u32(int off) {
        return u8(off) | u8(off + 1) << 8 | u8(off + 2) << 16 | u8(off + 3) << 24;
    }

    /** A u64, s64, pointer or unsigned long field. */
    public long u64(int off) {
        return Integer.toUnsignedLong(u32(off)) | (long) u32(off + 4) << 32;
    }

    public KData putU8(int off, int v) {
        if (off >= 0 && off < bytes.length) {
            bytes[off] = (byte) v;
        }
        return this;
    }

    public KData putU32(int off, int v) {
        for (int i = 0; i < 4; i++) {
            putU8(off + i, v >>> 8 * i);
        }
        return this;
    }

    public KData putU64(int off, long v) {
        putU32(off, (int) v);
        return putU32(off + 4, (int) (v >>> 32));
    }

    /** A char[len] field: the string's bytes, NUL-padded (cut to len - 1 and NUL-terminated). */
    public KData putString(int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < len; i++) {
            putU8(off + i, i < len - 1 && i < b.length ? b[i] : 0);
        }
        return this;
    }

    /** A char[len] field up to its first NUL. */
    public String string(int off, int len) {
        int n = 0;
        while (n < len && u8(off + n) != 0) {
            n++;
        }
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) u8(off + i);
        }
        return new String(b, StandardCharsets.UTF_8);
    }
}
