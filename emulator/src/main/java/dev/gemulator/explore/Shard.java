package dev.gemulator.explore;

import java.math.BigInteger;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shard {@code index} of {@code count}: the part of a seed range (or of a
 * dfs tree) one machine runs. Seed ranges split into contiguous blocks that
 * differ in size by one at most, in index order, so the shards together run
 * every seed once and the shard holding a seed follows from the seed alone.
 *
 * @param index 0 to count - 1
 * @param count how many shards the whole run has
 */
public record Shard(int index, int count) {
    private static final Pattern FORM = Pattern.compile("(\\d+|\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)|\\$([A-Za-z_][A-Za-z0-9_]*))/(\\d+)");

    /** The whole run as one shard. */
    public static final Shard WHOLE = new Shard(0, 1);

    public Shard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard " + index + "/" + count + ": wants 0 <= I < N");
        }
    }

    /**
     * {@code I/N}; I may also be {@code $(VAR)} or {@code $VAR}, read from
     * the environment (a Kubernetes Indexed Job's JOB_COMPLETION_INDEX when
     * nothing expanded it). Throws IllegalArgumentException with the reason.
     */
    public static Shard parse(String text, Map<String, String> env) {
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("--shard wants I/N (0 <= I < N), not '" + text + "'");
        }
        String index = m.group(1);
        String var = m.group(2) != null ? m.group(2) : m.group(3);
        if (var != null) {
            index = env.get(var);
            if (index == null || !index.strip().matches("\\d+")) {
                throw new IllegalArgumentException("--shard " + text + ": the environment variable " + var
                        + (index == null ? " is not set" : " is '" + index + "', not a number"));
            }
            index = index.strip();
        }
        int i;
        int n;
        try {
            i = Integer.parseInt(index);
            n = Integer.parseInt(m.group(4));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shard wants I/N with small numbers, not '" + text + "'");
        }
        if (n < 1 || i >= n) {
            throw new IllegalArgumentException("--shard " + i + "/" + n + ": wants 0 <= I < N and N >= 1");
        }
        return new Shard(i, n);
    }

    /** The first seed of this shard's block of {@code total} seeds from {@code first}. */
    public long firstSeed(long first, long total) {
        return first + offset(index, total);
    }

    /** How many seeds of {@code total} this shard runs. */
    public long size(long total) {
        return offset(index + 1, total) - offset(index, total);
    }

    private long offset(int i, long total) {
        return Math.multiplyHigh(total, i) == 0 && total * i >= 0 ? total * i / count
                : BigInteger.valueOf(total).multiply(BigInteger.valueOf(i))
                        .divide(BigInteger.valueOf(count)).longValueExact();
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
