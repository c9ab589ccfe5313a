package dev.gemulator.client.wire;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The client's bootstrap: connects to a server's TCP port, trying again
 * while nothing listens there yet (a client started together with its
 * server) for up to a given time, pausing 50 ms doubling to 500 ms.
 */
final class WireConnector {
    private WireConnector() {
    }

    /**
     * The connected channel, its pipeline made by {@code pipeline}; the first
     * failed attempt is told to {@code notice} in one line; when the time is
     * up a {@link WireClient.ConnectionLost} says how long it tried.
     */
    static Channel connect(EventLoopGroup group, String host, int port, Duration retryFor, Consumer<String> notice,
            ChannelInitializer<Channel> pipeline) {
        if (port < 1 || port > 65535) {
            throw new WireClient.ConnectionLost("cannot connect to " + host + ":" + port + ": a port is 1 to 65535");
        }
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(pipeline);
        long deadline = System.nanoTime() + retryFor.toNanos();
        long pause = 50;
        boolean told = false;
        while (true) {
            Throwable why;
            try {
                return b.connect(host, port).sync().channel();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new WireClient.ConnectionLost("interrupted while connecting to " + host + ":" + port);
            } catch (Exception e) { // Netty rethrows the socket's checked exceptions without declaring them
                why = e;
            }
            String reason = reason(why);
            boolean refused = why instanceof ConnectException;
            if (!refused || System.nanoTime() >= deadline) {
                throw new WireClient.ConnectionLost("cannot connect to " + host + ":" + port + ": " + reason
                        + (refused && !retryFor.isZero() ? " (tried for " + retryFor.toSeconds() + " s)" : "")
                        + (refused ? "; is a server running there (./gemulator serve)?" : ""));
            }
            if (!told) {
                notice.accept("no server at " + host + ":" + port + " yet (" + reason + "); trying again for up to "
                        + retryFor.toSeconds() + " s");
                told = true;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new WireClient.ConnectionLost("interrupted while waiting for " + host + ":" + port);
            }
            pause = Math.min(500, pause * 2);
        }
    }

    /** A socket error in a few words: "connection refused", "unknown host nosuchhost". */
    private static String reason(Throwable e) {
        if (e instanceof UnknownHostException) {
            return "unknown host " + e.getMessage();
        }
        if (e instanceof ConnectException) {
            String m = String.valueOf(e.getMessage());
            int colon = m.indexOf(':');
            return (colon > 0 ? m.substring(0, colon) : m).toLowerCase(Locale.ROOT);
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
