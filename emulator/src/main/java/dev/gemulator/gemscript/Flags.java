package dev.gemulator.gemscript;

import java.util.LinkedHashMap;
import java.util.Map;

/** The symbolic names gemscript accepts for flag sets and enumerations. */
public final class Flags {
    private Flags() {
    }

    private static Map<String, Long> table(Object... pairs) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], ((Number) pairs[i + 1]).longValue());
        }
        return m;
    }

    public static final Map<String, Long> PRIME = table("CLOEXEC", 0x80000, "RDWR", 2);
    public static final Map<String, Long> SYNC = table("START", 0, "END", 4, "READ", 1, "WRITE", 2, "RW", 3);
    public static final Map<String, Long> SYNC_FILE = table("READ", 1, "WRITE", 2, "RW", 3);
    /** NOWAIT has no vgem equivalent: it is bit 0x2, which the kernel refuses. */
    public static final Map<String, Long> FENCE = table("WRITE", 1, "NOWAIT", 2);
    public static final Map<String, Long> EVENTS = table("IN", 0x1, "PRI", 0x2, "OUT", 0x4, "ERR", 0x8,
            "HUP", 0x10, "NVAL", 0x20);
    public static final Map<String, Long> WHENCE = table("SET", 0, "CUR", 1, "END", 2);
    public static final Map<String, Long> CAPS = table(
            "DUMB_BUFFER", 0x1, "VBLANK_HIGH_CRTC", 0x2, "DUMB_PREFERRED_DEPTH", 0x3,
            "DUMB_PREFER_SHADOW", 0x4, "PRIME", 0x5, "TIMESTAMP_MONOTONIC", 0x6,
            "ASYNC_PAGE_FLIP", 0x7, "CURSOR_WIDTH", 0x8, "CURSOR_HEIGHT", 0x9,
            "ADDFB2_MODIFIERS", 0x10, "PAGE_FLIP_TARGET", 0x11, "CRTC_IN_VBLANK_EVENT", 0x12,
            "SYNCOBJ", 0x13, "SYNCOBJ_TIMELINE", 0x14);

    /** Flag names joined by '|' in table order, leftover bits as 0x..., or "0". */
    public static String format(long value, Map<String, Long> table) {
        if (value == 0) {
            return "0";
        }
        StringBuilder sb = new StringBuilder();
        long v = value;
        for (Map.Entry<String, Long> e : table.entrySet()) {
            if ((v & e.getValue()) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(e.getKey());
                v &= ~e.getValue();
            }
        }
        if (v != 0) {
            sb.append(sb.length() == 0 ? "" : "|").append("0x").append(Long.toHexString(v));
        }
        return sb.toString();
    }
}
