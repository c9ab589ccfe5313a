package dev.gemulator.server.unix;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.FileDescriptor;

/**
 * Passing a descriptor to the process at the other end of a Unix socket
 * connection: one sendmsg with SCM_RIGHTS, whose one data byte (0) carries
 * the descriptor in the stream. The receiver reads with recvmsg and a
 * control buffer; the byte that came with a descriptor is the last one that
 * recvmsg returned (Linux stops a read at a message carrying descriptors),
 * and it is not part of the framed protocol.
 *
 * <p>The sender keeps its own descriptor: the receiver gets a new one for
 * the same open file, as with any SCM_RIGHTS.
 */
public final class FdPassing {
    private FdPassing() {
    }

    /** Whether {@code channel} can carry descriptors (a Unix socket connection). */
    public static boolean canPass(Channel channel) {
        return channel instanceof EpollDomainSocketChannel;
    }

    /** Queues {@code fd} (a descriptor of this JVM) for the peer of {@code channel}, in stream order. */
    public static ChannelFuture pass(Channel channel, int fd) {
        if (!canPass(channel)) {
            throw new IllegalArgumentException(channel + " is not a Unix socket connection");
        }
        return channel.write(new FileDescriptor(fd));
    }
}
