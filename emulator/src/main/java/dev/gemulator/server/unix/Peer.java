package dev.gemulator.server.unix;

import io.netty.channel.unix.PeerCredentials;
import io.netty.util.AttributeKey;

/** Who is at the other end of a Unix socket connection (SO_PEERCRED, read once when it opens). */
public final class Peer {
    /** The connected process's credentials: its real pid, uid and gids, kept on the channel. */
    public static final AttributeKey<PeerCredentials> CREDENTIALS = AttributeKey.valueOf("gemulator.peer");

    private Peer() {
    }
}
