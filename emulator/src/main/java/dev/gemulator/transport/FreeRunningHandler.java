package dev.gemulator.transport;

import dev.gemulator.check.FindingKey;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.proc.Credentials;
import dev.gemulator.proto.ServerModes;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.DebugfsText;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.RunStatus;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.ServerMode;
import dev.gemulator.proto.v1.ShimWelcome;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.TraceBytes;
import dev.gemulator.proto.v1.Welcome;
import dev.gemulator.server.Simulation;
import dev.gemulator.server.shim.DeviceTree;
import dev.gemulator.server.shim.HostCalls;
import dev.gemulator.server.unix.FdPassing;
import dev.gemulator.server.unix.Peer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client process's connection to a free-running server: after the
 * Hello every Request goes to the simulation and its Reply comes back, in
 * the order the simulation runs them (each connection in turn). A frame is
 * decoded only once the simulation's inbox has room reserved for it; a
 * process's system calls after its exit call get ESRCH. A program behind
 * the C shim (Unix socket only) is told by the simulation which process and
 * thread its connection is, and gets the descriptors its calls pass.
 */
final class FreeRunningHandler extends QueuedHandler {
    /** Tells a process's main connections apart (the one before an exec from the one after). */
    private static final AtomicLong CONNECTIONS = new AtomicLong();

    private final Simulation simulation;
    private final int maxFrameBytes;
    /** The connected processes' connections, one per process (shared by the server's connections). */
    private final ConcurrentMap<String, Channel> processes;
    private final long connectionId = CONNECTIONS.incrementAndGet();
    private String process;
    private Simulation.Session session;
    /** The process made its exit call; the connection has nothing more to do. */
    private boolean exited;
    /** A program behind the C shim: the thread this connection is (0: the process's main connection), else -1. */
    private int shimThread = -1;

    FreeRunningHandler(Simulation simulation, int maxFrameBytes, ConcurrentMap<String, Channel> processes) {
        super(simulation.limits());
        this.simulation = simulation;
        this.maxFrameBytes = maxFrameBytes;
        this.processes = processes;
    }

    /**
     * Whether the next frame, of {@code frameBytes}, may be decoded now: the
     * connection has room in flight, the client reads its replies, and the
     * simulation's inbox has room reserved for it. When not, the decoder
     * pauses, and a reply, writability or room in the inbox resumes it.
     */
    private boolean admit(ChannelHandlerContext ctx, long frameBytes) {
        if (closing || session.reserved()) {
            return closing;
        }
        if (!roomFor(ctx, frameBytes)) {
            reading(ctx, false);
            return false;
        }
        if (!session.reserve(frameBytes + 64)) {
            reading(ctx, false);
            simulation.whenRoom(() -> ctx.executor().execute(() -> pump(ctx)));
            return false;
        }
        return true;
    }

    @Override
    protected void hello(ChannelHandlerContext ctx, Hello h) {
        if (h.hasShim()) {
            shimHello(ctx, h);
            return;
        }
        String name = h.getProcessName();
        if (!h.getObserver() && processes.putIfAbsent(name, ctx.channel()) != null) {
            refuse(ctx, "process " + name + " is already connected: one connection per process");
            return;
        }
        process = name;
        observer = h.getObserver();
        session = simulation.session(name, observer);
        open(ctx, maxFrameBytes, bytes -> admit(ctx, bytes));
        ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(welcome()).build());
    }

    /** The Welcome of this connection's process (a free-running server has one iteration). */
    private Welcome.Builder welcome() {
        return ServerModes.set(Welcome.newBuilder(), ServerMode.SERVER_MODE_FREE)
                .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process).setIterations(1);
    }

    /**
     * A program behind the C shim: only on the Unix socket (its credentials
     * are the kernel's, its files and pages real); the simulation says which
     * process and thread the connection is.
     */
    private void shimHello(ChannelHandlerContext ctx, Hello h) {
        var peer = ctx.channel().attr(Peer.CREDENTIALS).get();
        if (peer == null) {
            refuse(ctx, "a program behind the shim connects to the Unix socket (serve --socket PATH)");
            return;
        }
        if (simulation.anchorsPath() == null) {
            refuse(ctx, "this server has no anchors socket for emulated files");
            return;
        }
        reading(ctx, false);
        var creds = new Credentials(peer.pid(), peer.uid(), peer.gids().length > 0 ? peer.gids()[0] : 0, peer.uid() == 0);
        simulation.shimHello(h.getProcessName(), h.getShim(), creds, connectionId, joined -> ctx.executor().execute(() -> {
            if (joined.refusal() != null) {
                refuse(ctx, joined.refusal());
                return;
            }
            process = joined.process().name();
            shimThread = joined.thread();
            session = shimThread == 0 ? simulation.session(process, false) : simulation.threadSession(process, shimThread);
            if (shimThread == 0) {
                processes.put(process, ctx.channel());
            }
            if (!ctx.channel().isActive()) {
                // gone while the simulation answered: channelInactive saw no session yet
                gone(ctx);
                simulation.forget(session);
                return;
            }
            open(ctx, maxFrameBytes, bytes -> admit(ctx, bytes));
            ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(welcome().setShim(ShimWelcome.newBuilder()
                            .setAnchors(simulation.anchorsPath().toString())
                            .addAllFdFields(HostCalls.fdFields())
                            .setClockNs(simulation.serverNanos()).setRoot(simulation.treePath().toString())
                            .addAllLive(DeviceTree.LIVE))).build());
            reading(ctx, true);
        }));
    }

    /** A thread of the process starts or ends. */
    @Override
    protected void cancel(ClientMessage msg) {
        if (shimThread >= 0) {
            session.cancel(shimThread, msg.getCancel().getRequestId());
        }
    }

    @Override
    protected void afterRead() {
        if (session != null) {
            session.unreserve(); // the room admitted for a frame that needed no simulation
        }
    }

    @Override
    protected void thread(ChannelHandlerContext ctx, ClientMessage msg) {
        if (observer) {
            refuse(ctx, "an observer has no threads");
            return;
        }
        if (msg.hasThreadStart()) {
            String why = badThreadName(msg.getThreadStart().getName());
            if (why != null) {
                refuse(ctx, why);
                return;
            }
        }
        queue(ctx, msg);
    }

    @Override
    protected boolean drop(ChannelHandlerContext ctx, ClientMessage m) {
        if (!exited || m.hasStatus() || m.hasDebugfs() || m.hasFetchTrace()) {
            return false;
        }
        if (m.hasRequest()) { // a request sent after the process's exit call
            ctx.writeAndFlush(ServerMessage.newBuilder().setReply(Reply.newBuilder()
                    .setRequestId(m.getRequest().getRequestId()).setResult(SyscallResult.newBuilder()
                            .setErrno(Errno.ESRCH.number()).setMessage("process " + process + " has exited"))).build());
        }
        return true;
    }

    @Override
    protected void whenRoom(Runnable pump) {
        simulation.whenRoom(pump);
    }

    @Override
    protected boolean start(ChannelHandlerContext ctx, ClientMessage m, long bytes) {
        return switch (m.getMessageCase()) {
            case THREAD_START -> session.threadStart(m.getThreadStart().getThreadId(), m.getThreadStart().getName());
            case THREAD_EXIT -> session.threadExit(m.getThreadExit().getThreadId());
            case STATUS -> answered(session.status(names -> {
                ServerMessage answer = ServerMessage.newBuilder().setStatus(ServerModes.set(RunStatus.newBuilder(), ServerMode.SERVER_MODE_FREE)
                        .addAllProcesses(names).addAllFindings(simulation.findings().stream().map(FindingKey::toString).toList())).build();
                ctx.executor().execute(() -> replied(ctx, answer, bytes));
            }), bytes);
            case DEBUGFS -> answered(session.debugfs(text -> {
                ServerMessage answer = ServerMessage.newBuilder().setDebugfs(DebugfsText.newBuilder().setText(text))
                        .build();
                ctx.executor().execute(() -> replied(ctx, answer, bytes));
            }), bytes);
            case FETCH_TRACE -> { // a free-running server streams its trace to --trace
                inFlight(bytes);
                replied(ctx, ServerMessage.newBuilder().setTrace(TraceBytes.getDefaultInstance()).build(), bytes);
                yield true;
            }
            case REQUEST -> call(ctx, m.getRequest(), bytes);
            default -> throw new IllegalStateException("not queued: " + m.getMessageCase());
        };
    }

    /** Counts a question the simulation took as in flight. */
    private boolean answered(boolean taken, long bytes) {
        if (taken) {
            inFlight(bytes);
        }
        return taken;
    }

    private boolean call(ChannelHandlerContext ctx, Request r, long bytes) {
        boolean ok = shimThread >= 0
                ? session.submit(shimThread, r.getRequestId(), r.getCall(), answer -> {
                    ServerMessage reply = ServerMessage.newBuilder().setReply(Reply.newBuilder()
                            .setRequestId(r.getRequestId()).setResult(answer.result())).build();
                    ctx.executor().execute(() -> {
                        for (int fd : answer.fds()) {
                            FdPassing.pass(ctx.channel(), fd);
                        }
                        if (!answer.fds().isEmpty()) {
                            ctx.flush();
                        }
                        answer.passed().run();
                        replied(ctx, reply, bytes);
                    });
                })
                : session.submit(r.getThreadId(), r.getCall(), result -> {
                    ServerMessage reply = ServerMessage.newBuilder().setReply(Reply.newBuilder()
                            .setRequestId(r.getRequestId()).setResult(result)).build();
                    ctx.executor().execute(() -> replied(ctx, reply, bytes));
                });
        if (ok) {
            inFlight(bytes);
            if (r.getCall().hasExit()) {
                // queued behind it, a new connection of the same name is a new process
                exited = true;
                processes.remove(process, ctx.channel());
            }
        }
        return ok;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        clear();
        if (process != null && !observer && !exited) {
            gone(ctx);
        }
        if (session != null) {
            simulation.forget(session);
        }
        ctx.fireChannelInactive();
    }

    /** The connection's process (or, for a shim thread's connection, the thread) is gone. */
    private void gone(ChannelHandlerContext ctx) {
        if (shimThread > 0) {
            session.threadGone(shimThread);
            return;
        }
        if (shimThread == 0) {
            session.gone(connectionId);
        } else {
            session.gone();
        }
        processes.remove(process, ctx.channel());
    }
}
