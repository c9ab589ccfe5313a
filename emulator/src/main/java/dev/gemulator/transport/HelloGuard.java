package dev.gemulator.transport;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checks the token of a Hello without telling a guesser anything, and makes
 * guessing slow. The token is compared in constant time (its SHA-256 with
 * the one given's, so not even its length shows). Every source (the address
 * of a TCP client; the user of a Unix socket client, from SO_PEERCRED) has
 * a turn at which its next Hello is checked: a wrong token pushes the turn
 * out by a penalty that doubles with each failure (from
 * {@link #FIRST_PENALTY_MILLIS} to {@link #MAX_PENALTY_MILLIS}) and halves
 * for every {@link #DECAY_MILLIS} without one, so a source guesses at most
 * about once per {@link #MAX_PENALTY_MILLIS} however many connections it
 * opens, while a source that never failed waits for nothing. A Hello whose
 * turn is further away than the handshake timeout is refused at once. At
 * most {@link #MAX_SOURCES} sources are remembered (the oldest forgotten).
 * Thread-safe.
 */
final class HelloGuard {
    static final long FIRST_PENALTY_MILLIS = 100;
    static final long MAX_PENALTY_MILLIS = 2000;
    static final long DECAY_MILLIS = 10_000;
    static final int MAX_SOURCES = 4096;

    private final byte[] tokenHash;

    private static final class Source {
        long penaltyMillis;
        long nextTurnMillis;
        long lastFailureMillis;
    }

    private final Map<String, Source> sources = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Source> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    /** A guard for {@code token} (null: the server wants none, and every Hello passes at once). */
    HelloGuard(String token) {
        this.tokenHash = token == null ? null : sha256(token);
    }

    boolean wantsToken() {
        return tokenHash != null;
    }

    /** Whether {@code given} is the token, in time that does not depend on either. */
    boolean matches(String given) {
        return tokenHash == null || MessageDigest.isEqual(tokenHash, sha256(given));
    }

    /** How long a Hello from {@code source} that arrives now must wait for its turn (0: none). */
    synchronized long waitMillis(String source, long nowMillis) {
        if (tokenHash == null) {
            return 0;
        }
        Source s = sources.get(source);
        if (s == null) {
            return 0;
        }
        decay(s, nowMillis);
        long turn = Math.max(nowMillis, s.nextTurnMillis);
        s.nextTurnMillis = turn + s.penaltyMillis;
        return turn - nowMillis;
    }

    /** A Hello from {@code source} had a wrong token: its next turn is further away. */
    synchronized void failed(String source, long nowMillis) {
        Source s = sources.computeIfAbsent(source, a -> new Source());
        decay(s, nowMillis);
        s.penaltyMillis = Math.min(MAX_PENALTY_MILLIS, Math.max(FIRST_PENALTY_MILLIS, s.penaltyMillis * 2));
        s.nextTurnMillis = Math.max(s.nextTurnMillis, nowMillis + s.penaltyMillis);
        s.lastFailureMillis = nowMillis;
    }

    private static void decay(Source s, long nowMillis) {
        long quiet = nowMillis - s.lastFailureMillis;
        if (s.penaltyMillis > 0 && quiet >= DECAY_MILLIS) {
            s.penaltyMillis >>= Math.min(62, quiet / DECAY_MILLIS);
            s.lastFailureMillis = nowMillis;
        }
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
