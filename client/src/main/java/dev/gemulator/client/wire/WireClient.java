package dev.gemulator.client.wire;

import dev.gemulator.client.ConnectionLostException;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.DebugfsRequest;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.RunStatus;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.StatusRequest;
import dev.gemulator.proto.v1.ThreadExit;
import dev.gemulator.proto.v1.ThreadStart;
import dev.gemulator.proto.v1.TraceRequestMessage;
import dev.gemulator.proto.v1.ServerMode;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One client process's connection to a server, the wire protocol's client
 * side (proto/gemulator/v1/wire.proto): Hello on connect, then requests
 * that any of the process's threads may send, each waiting for its own
 * reply (matched by request id), and the control questions of observers.
 * The library's {@link dev.gemulator.client.Gemulator} is built on it; the
 * emulator's command line and tests use it directly. Netty's parts are
 * apart: {@link WireConnector} connects (the bootstrap), {@link WirePipeline}
 * frames and encodes (the initializer), {@link WireHandler} takes what the
 * server sends (the handler); this class is what the process asks.
 */
public final class WireClient implements AutoCloseable {
    /** The server refused or closed the connection, or cannot be reached. */
    public static final class ConnectionLost extends ConnectionLostException {
        /**
         * A lost connection.
         *
         * @param message what happened
         */
        public ConnectionLost(String message) {
            super(message);
        }
    }

    private final WireHandler in = new WireHandler();
    private final Channel channel;
    private final AtomicLong nextRequest = new AtomicLong(1);

    /**
     * Connects and says Hello as {@code process}, without waiting for a
     * server that is not listening yet.
     *
     * @param group the event loop the connection runs on
     * @param host the server's address
     * @param port the server's port
     * @param process the process's name on the device
     * @param token the server's token, or null
     */
    public WireClient(EventLoopGroup group, String host, int port, String process, String token) {
        this(group, host, port, process, token, false);
    }

    /**
     * As above; an {@code observer} only asks for the run's status and trace
     * (it is no process of the device).
     *
     * @param group the event loop the connection runs on
     * @param host the server's address
     * @param port the server's port
     * @param process the name it says Hello with
     * @param token the server's token, or null
     * @param observer whether it is an observer
     */
    public WireClient(EventLoopGroup group, String host, int port, String process, String token, boolean observer) {
        this(group, host, port, process, token, observer, Duration.ZERO, m -> { });
    }

    /**
     * Connects, trying again while nothing listens on {@code host:port} yet
     * (a client started together with its server) for up to
     * {@code retryFor}, and says Hello. The first failed attempt is told to
     * {@code notice} in one line; when the time is up the constructor throws
     * a {@link ConnectionLost} that says how long it tried.
     *
     * @param group the event loop the connection runs on
     * @param host the server's address
     * @param port the server's port
     * @param process the name it says Hello with
     * @param token the server's token, or null
     * @param observer whether it is an observer
     * @param retryFor how long to keep trying to connect (zero: once)
     * @param notice told once, in one line, that the client is waiting for the server
     */
    public WireClient(EventLoopGroup group, String host, int port, String process, String token, boolean observer,
            Duration retryFor, Consumer<String> notice) {
        this.channel = WireConnector.connect(group, host, port, retryFor, notice, new WirePipeline(in));
        channel.writeAndFlush(ClientMessage.newBuilder().setHello(Hello.newBuilder()
                .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                .setToken(token == null ? "" : token).setObserver(observer)).build());
    }

    /**
     * Waits for the server's Welcome.
     *
     * @return the server's mode: free-running or lockstep
     * @throws ConnectionLost when it refused the Hello or went away
     */
    public ServerMode mode() {
        return await(in.welcomed);
    }

    /**
     * How many iterations the server's lockstep run has.
     *
     * @return the count, 1 for a single run
     */
    public int iterations() {
        mode();
        return in.iterations;
    }

    /**
     * Lockstep: the first iteration this process takes part in (0 for a run
     * that waits for it from the start; a later one for a client that comes
     * back after its process was gone, which waits for that iteration's Again).
     *
     * @return the iteration, from the Welcome
     */
    public int joinIteration() {
        mode();
        return in.joinIteration;
    }

    /**
     * Lockstep: the iteration under way when the server welcomed this client.
     *
     * @return the iteration, from the Welcome
     */
    public int welcomedDuring() {
        mode();
        return in.welcomedDuring;
    }

    /**
     * Waits for the next iteration's Again.
     *
     * @return the iteration, -1 when the connection is gone
     */
    public int awaitAgain() {
        try {
            return in.again.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * Tells the server a new thread of the process starts.
     *
     * @param threadId the id its requests will carry
     * @param name lockstep: its scenario name ("A.t1"); free-running: any name for traces
     */
    public void threadStart(int threadId, String name) {
        mode();
        channel.writeAndFlush(ClientMessage.newBuilder().setThreadStart(ThreadStart.newBuilder()
                .setThreadId(threadId).setName(name)).build());
    }

    /**
     * Tells the server a thread of the process ended.
     *
     * @param threadId its id
     * @param iteration lockstep: the iteration it ran in
     */
    public void threadExit(int threadId, int iteration) {
        mode();
        channel.writeAndFlush(ClientMessage.newBuilder().setThreadExit(ThreadExit.newBuilder()
                .setThreadId(threadId).setIteration(iteration)).build());
    }

    /**
     * Asks the server how the run is going (one control question at a time).
     *
     * @return the run's status
     */
    public synchronized RunStatus status() {
        return control(ClientMessage.newBuilder().setStatus(StatusRequest.getDefaultInstance())
                .build()).getStatus();
    }

    /**
     * Asks for the device's debugfs views.
     *
     * @return clients, gem_names, bufinfo and the object counts, as text
     */
    public synchronized String debugfs() {
        return control(ClientMessage.newBuilder().setDebugfs(DebugfsRequest.getDefaultInstance())
                .build()).getDebugfs().getText();
    }

    /**
     * Fetches the trace of the last finished lockstep iteration.
     *
     * @return length-delimited trace records, empty when none has finished
     */
    public synchronized byte[] fetchTrace() {
        return control(ClientMessage.newBuilder().setFetchTrace(TraceRequestMessage
                .getDefaultInstance()).build()).getTrace().getRecords().toByteArray();
    }

    private ServerMessage control(ClientMessage question) {
        mode();
        channel.writeAndFlush(question);
        try {
            ServerMessage m = in.control.poll(30, TimeUnit.SECONDS);
            if (m == null) {
                throw new ConnectionLost(in.lost != null ? in.lost : "no answer from the server");
            }
            return m;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionLost("interrupted");
        }
    }

    /**
     * Sends a request and waits for its reply.
     *
     * @param request the request (its id is filled in)
     * @return the reply
     * @throws ConnectionLost when the connection is gone
     */
    public Reply call(Request.Builder request) {
        mode();
        long id = nextRequest.getAndIncrement();
        CompletableFuture<Reply> f = new CompletableFuture<>();
        in.pending.put(id, f);
        if (in.lost != null) {
            in.pending.remove(id);
            throw new ConnectionLost(in.lost);
        }
        channel.writeAndFlush(ClientMessage.newBuilder().setRequest(request.setRequestId(id)).build());
        return await(f);
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionLost("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof ConnectionLost c ? c : new ConnectionLost(String.valueOf(e.getCause()));
        }
    }

    /** Closes the connection (the server takes it as the process's exit). */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }
}
