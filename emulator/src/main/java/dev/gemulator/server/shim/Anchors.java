package dev.gemulator.server.shim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongConsumer;

/**
 * The anchors of emulated files: every open file that a program behind the C
 * shim has (a drm file, a dma-buf, a sync_file) is, in the program, the
 * client end of a Unix socket connection to this listener. The program's
 * descriptors for the file are descriptors of that socket, so the real
 * kernel does dup, dup2, fcntl, fork, exec, SCM_RIGHTS, EMFILE and
 * /proc/self/fd for it; the server end sees end-of-file exactly when the
 * last of them is gone, in whichever process.
 *
 * <pre>
 *  program                                  this listener
 *  socket(AF_UNIX) ... the file's fd
 *  connect(anchors)  ---------------------> accept
 *  write(ino: u64 LE, fstat of its end) --> registered under ino
 *                    <--------------------- 1 byte: registered
 *  ... descriptors of the socket come and go ...
 *  last one closed   ---------------------> read() == -1: the last close
 * </pre>
 *
 * <p>The inode of the program's end is the file's name on the wire
 * ({@code FileRef.ino}): any process holding a descriptor of the file finds
 * it with fstat. Whether an anchor is gone is asked synchronously
 * ({@link #gone}), at the moment the program says it closed a descriptor,
 * so the release runs before close returns, as fput does; a watcher thread
 * tells about anchors that went without a word ({@code onGone}).
 */
public final class Anchors implements AutoCloseable {
    private final Path path;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final Map<Long, SocketChannel> byIno = new ConcurrentHashMap<>();
    private final LongConsumer onGone;
    private final Thread acceptor;
    private final Thread watcher;
    private volatile boolean closed;

    private Anchors(Path path, ServerSocketChannel server, Selector selector, LongConsumer onGone) {
        this.path = path;
        this.server = server;
        this.selector = selector;
        this.onGone = onGone;
        this.watcher = Thread.ofPlatform().name("gemulator-anchor-watch").daemon().start(this::watch);
        this.acceptor = Thread.ofPlatform().name("gemulator-anchors").daemon().start(this::accept);
    }

    /**
     * Listens on {@code path} (replacing a socket file left over). {@code onGone}
     * hears (on the watcher thread) of anchors whose last descriptor went
     * without the program telling.
     */
    public static Anchors listen(Path path, LongConsumer onGone) {
        try {
            Files.deleteIfExists(path);
            ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            s.bind(UnixDomainSocketAddress.of(path), 1024);
            // a program that dropped root (setuid) still opens files: anyone may connect an anchor
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
            return new Anchors(path, s, Selector.open(), onGone);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + path + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    private void accept() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
                c.configureBlocking(false);
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("gemulator: the anchors socket failed: " + e.getMessage());
                }
                return;
            }
            accepted.add(c);
            selector.wakeup();
        }
    }

    /** Accepted anchors not yet watched (the watcher registers them). */
    private final ConcurrentLinkedQueue<SocketChannel> accepted =
            new ConcurrentLinkedQueue<>();

    /** An anchor that has not named its inode yet. */
    private static final class Naming {
        final ByteBuffer ino = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void watch() {
        ByteBuffer sink = ByteBuffer.allocate(256);
        while (!closed) {
            try {
                SocketChannel c;
                while ((c = accepted.poll()) != null) {
                    c.register(selector, SelectionKey.OP_READ, new Naming());
                }
                selector.select(1000);
                for (SelectionKey k : selector.selectedKeys()) {
                    SocketChannel ch = (SocketChannel) k.channel();
                    if (k.attachment() instanceof Naming n) {
                        name(k, ch, n);
                    } else {
                        long ino = (Long) k.attachment();
                        if (gone(ino, ch, sink)) {
                            k.cancel();
                            onGone.accept(ino);
                        }
                    }
                }
                selector.selectedKeys().clear();
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    System.err.println("gemulator: the anchor watcher: " + e);
                }
            }
        }
    }

    /** Reads the program end's inode; once whole, registers the anchor and answers with one byte. */
    private void name(SelectionKey k, SocketChannel c, Naming n) {
        try {
            if (c.read(n.ino) < 0) {
                k.cancel();
                closeQuietly(c);
                return;
            }
            if (n.ino.hasRemaining()) {
                return;
            }
            long ino = n.ino.flip().getLong();
            SocketChannel old = byIno.put(ino, c);
            if (old != null && old != c) {
                closeQuietly(old);
            }
            k.attach(ino);
            c.write(ByteBuffer.wrap(new byte[] {1}));
        } catch (IOException e) {
            k.cancel();
            closeQuietly(c);
        }
    }

    /** Whether an anchor is registered under {@code ino} (gone or not). */
    public boolean known(long ino) {
        return byIno.containsKey(ino);
    }

    /**
     * Whether the last descriptor of the anchor {@code ino} is gone (an
     * anchor never registered counts as gone). Non-blocking and exact: the
     * program's end closes when its last descriptor does.
     */
    public boolean gone(long ino) {
        SocketChannel c = byIno.get(ino);
        return c == null || gone(ino, c, ByteBuffer.allocate(64));
    }

    private boolean gone(long ino, SocketChannel c, ByteBuffer sink) {
        try {
            while (true) {
                sink.clear();
                int n = c.read(sink);
                if (n < 0) {
                    break;
                }
                if (n == 0) {
                    return false;
                }
                // a program wrote to its emulated file: nothing reads it
            }
        } catch (ClosedChannelException e) {
            // closed here already
        } catch (IOException e) {
            // reset: gone as well
        }
        byIno.remove(ino, c);
        closeQuietly(c);
        return true;
    }

    /** Forgets an anchor whose file is released (closing this end). */
    public void drop(long ino) {
        SocketChannel c = byIno.remove(ino);
        if (c != null) {
            closeQuietly(c);
        }
    }

    /** How many anchors are registered. */
    public int size() {
        return byIno.size();
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
            selector.wakeup();
            selector.close();
        } catch (IOException e) {
            // going away
        }
        byIno.values().forEach(Anchors::closeQuietly);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // the directory went first
        }
        try {
            acceptor.join(2000);
            watcher.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
