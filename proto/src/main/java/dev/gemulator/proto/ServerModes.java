package dev.gemulator.proto;

import dev.gemulator.proto.v1.RunStatus;
import dev.gemulator.proto.v1.ServerMode;
import dev.gemulator.proto.v1.Welcome;
import java.util.Locale;

/**
 * The server mode on the wire: the enum field server_mode, and the same in a
 * word in the older string field mode, which the C shim reads ("seeded").
 * A server sets both with {@link #set}; a client reads server_mode.
 */
public final class ServerModes {

    private static final String PREFIX = "SERVER_MODE_";

    private ServerModes() {
    }

    /** The mode as a word: "free", "lockstep", "seeded" ("unspecified" for none). */
    public static String word(ServerMode mode) {
        return mode.name().substring(PREFIX.length()).toLowerCase(Locale.ROOT);
    }

    /** The Welcome says {@code mode}, in both fields. */
    public static Welcome.Builder set(Welcome.Builder b, ServerMode mode) {
        return b.setServerMode(mode).setMode(word(mode));
    }

    /** The RunStatus says {@code mode}, in both fields. */
    public static RunStatus.Builder set(RunStatus.Builder b, ServerMode mode) {
        return b.setServerMode(mode).setMode(word(mode));
    }
}
