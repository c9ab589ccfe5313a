package dev.gemulator.gemscript;

import java.util.Map;

/** How gemscript writes numbers, flag sets, names and bytes. */
final class Numbers {
    private Numbers() {
    }

    /** Decimal (optionally negative) or 0x hex, at most 64 bits; null if malformed. */
    static Long parse(String t) {
        int i = 0;
        boolean neg = false;
        if (t.startsWith("-")) {
            neg = true;
            i = 1;
        }
        String body = t.substring(i);
        long v = 0;
        if (body.startsWith("0x") || body.startsWith("0X")) {
            String hex = body.substring(2);
            if (hex.isEmpty()) {
                return null;
            }
            for (char c : hex.toCharArray()) {
                int d = hexDigit(c);
                if (d < 0 || (v >>> 60) != 0) {
                    return null;
                }
                v = v * 16 + d;
            }
        } else {
            if (body.isEmpty()) {
                return null;
            }
            for (char c : body.toCharArray()) {
                if (c < '0' || c > '9') {
                    return null;
                }
                long nv = v * 10 + (c - '0');
                if (Long.divideUnsigned(nv, 10) != v) {
                    return null;
                }
                v = nv;
            }
        }
        return neg ? -v : v;
    }

    /** NAME|NAME|... from the table, or one integer. */
    static Long parseFlags(String t, Map<String, Long> table) {
        Long n = parse(t);
        if (n != null) {
            return n;
        }
        long v = 0;
        String[] parts = t.split("\\|", -1);
        for (String p : parts) {
            Long f = table.get(p);
            if (f == null) {
                return null;
            }
            v |= f;
        }
        return v;
    }

    /** One NAME from the table, or one integer. */
    static Long parseName(String t, Map<String, Long> table) {
        Long n = parse(t);
        return n != null ? n : table.get(t);
    }

    /** hex:0a0b... (an even number of hex digits, at most 1 MiB); null if malformed. */
    static byte[] parseHex(String t) {
        if (!t.startsWith("hex:")) {
            return null;
        }
        String h = t.substring(4);
        if (h.length() % 2 != 0 || h.length() / 2 > (1 << 20)) {
            return null;
        }
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = hexDigit(h.charAt(2 * i));
            int lo = hexDigit(h.charAt(2 * i + 1));
            if (hi < 0 || lo < 0) {
                return null;
            }
            out[i] = (byte) (hi * 16 + lo);
        }
        return out;
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(4 + bytes.length * 2).append("hex:");
        for (byte b : bytes) {
            sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return sb.toString();
    }
}
