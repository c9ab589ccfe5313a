package dev.gemulator.client;

import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A connection to an emulated device, the entry point of the client
 * library:
 *
 * <pre>{@code
 * try (Gemulator g = Gemulator.connect("127.0.0.1", 7070, null)) {
 *     DrmFd card = g.process("A").open("card0");
 *     DrmFd.Dumb bo = card.createDumb(64, 64, 32);
 * }
 * }</pre>
 *
 * <p>Each {@link ClientProcess} is one process of the device, named by the
 * program; several processes may share one {@code Gemulator}, and several
 * programs (JVMs, or C programs through the shim) may use one server at
 * once, each with its own processes. A failed system call throws a
 * {@link DrmException} carrying its {@link Errno}; a server that cannot be
 * reached, refuses or goes away throws a {@link ConnectionLostException}.
 * Closing the {@code Gemulator} closes its connections, which the server
 * takes as the exit of their processes.
 */
public final class Gemulator implements AutoCloseable {
    /** How long {@link #connect(String, int, String)} waits for a server that is not listening yet. */
    public static final Duration DEFAULT_CONNECT_RETRY = Duration.ofSeconds(10);

    private final Transport transport;
    /** The channel fd each receiving process opened for each sender ("B" -> "A" -> fd). */
    private final Map<String, Map<String, Integer>> channels = new HashMap<>();

    /**
     * A device reached through {@code transport}.
     *
     * @param transport how the calls travel (the emulator module's in-process transport, or a test's own)
     */
    public Gemulator(Transport transport) {
        this.transport = transport;
    }

    /**
     * A connection to a gemulator server ({@code ./gemulator serve}). Each
     * process connects on its first call; while nothing listens at the
     * address yet, it tries again for {@link #DEFAULT_CONNECT_RETRY}.
     *
     * @param host the server's address ("127.0.0.1")
     * @param port its port (7070 unless it was started with another)
     * @param token the token the server was started with, or null
     * @return the connection (no network traffic yet)
     */
    public static Gemulator connect(String host, int port, String token) {
        return connect(host, port, token, DEFAULT_CONNECT_RETRY, m -> { });
    }

    /**
     * As {@link #connect(String, int, String)}, choosing how long to wait for
     * the server and who hears that the program is waiting.
     *
     * @param host the server's address
     * @param port its port
     * @param token the server's token, or null
     * @param retryFor how long a process's first call keeps trying to connect (zero: once)
     * @param notice told once, in one line, when a connection has to wait for the server
     * @return the connection
     */
    public static Gemulator connect(String host, int port, String token, Duration retryFor, Consumer<String> notice) {
        return new Gemulator(new ServerTransport(host, port, token, retryFor, notice));
    }

    /**
     * The transport underneath.
     *
     * @return what this connection was made with
     */
    public Transport transport() {
        return transport;
    }

    /**
     * The process with this name. The device creates it on its first call
     * (or when another process passes it an fd); the name is its identity.
     *
     * @param name letters, digits and underscores, starting with a letter
     * @return the process
     */
    public ClientProcess process(String name) {
        return new ClientProcess(this, name);
    }

    /** The channel {@code receiver} opened for {@code sender}, opened now if it has none. */
    int channel(ClientProcess receiver, String sender) {
        synchronized (channels) {
            var mine = channels.computeIfAbsent(receiver.name(), r -> new HashMap<>());
            Integer fd = mine.get(sender);
            if (fd == null) {
                fd = receiver.openChannel(sender);
                mine.put(sender, fd);
            }
            return fd;
        }
    }

    /** A process exits: its channels go with it. */
    void forgetChannels(String process) {
        synchronized (channels) {
            channels.remove(process);
        }
    }

    SyscallResult call(String process, Syscall call, String operation) {
        SyscallResult r = transport.call(process, call);
        if (r.getErrno() != 0) {
            Errno e = Errno.byNumber(r.getErrno());
            throw new DrmException(e == null ? Errno.EINVAL : e, operation, r.getMessage());
        }
        return r;
    }

    static Syscall open(String node) {
        return Syscall.newBuilder().setOpen(Open.newBuilder().setNode(node)).build();
    }

    /** Closes every connection: the server ends their processes as if they exited. */
    @Override
    public void close() {
        transport.close();
    }
}
