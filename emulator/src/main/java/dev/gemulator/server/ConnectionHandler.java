package dev.gemulator.server;

import dev.gemulator.check.FindingKey;
import dev.gemulator.proto.ServerModes;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Refusal;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.RunStatus;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.ServerMode;
import dev.gemulator.proto.v1.Welcome;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One client process's connection: a Hello names the process, then every
 * Request goes to the simulation and its Reply comes back. Bad input closes
 * the connection with a reason; it never reaches the machine.
 *
 * <p>Everything a client sends is bounded: before Hello, frames of at most
 * {@link Limits#HELLO_FRAME_BYTES}, and the connection must say Hello within
 * {@link Limits#helloTimeoutMillis()} and not stay silent
 * {@link Limits#helloIdleMillis()} before it does; a wrong token waits for
 * its source's turn ({@link HelloGuard}); thread names have at most
 * {@link Limits#MAX_NAME_CHARS} visible characters. After Hello, the
 * connection's system calls and questions (status, debugfs, trace) alike
 * wait in one queue and at most {@link Limits#maxInFlight()} of them, and
 * {@link Limits#maxInFlightBytes()} of request and reply bytes, are in the
 * simulation at once; the connection is not read while they are, while the
 * inbox is full or while the client does not read its replies. In a
 * lockstep run a thread has at most one statement asked for.
 */
final class ConnectionHandler extends SimpleChannelInboundHandler<ClientMessage> {
    /** What a process may be called. */
    static final Pattern PROCESS_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");
    /** The largest frame of a lockstep client after Hello (its requests carry no system call). */
    static final int LOCKSTEP_FRAME_BYTES = 64 << 10;

    private final ServerInitializer.Shared shared;
    private final Simulation simulation;
    private final dev.gemulator.lockstep.LockstepRun lockstep;
    private final Limits limits;
    private String process;
    private boolean observer;
    private Simulation.Session session;
    /** Free-running: the process made its exit call; the connection has nothing more to do. */
    private boolean exited;
    /** Lockstep: the scenario names of the process's threads, by thread id. */
    private final java.util.Map<Integer, String> threadNames = new java.util.HashMap<>();
    private io.netty.util.concurrent.ScheduledFuture<?> helloDeadline;
    private boolean helloPending;
    /** A program behind the C shim: the thread this connection is (0: the process's main connection), else -1. */
    private int shimThread = -1;
    /** Tells a process's main connections apart (the one before an exec from the one after). */
    private final long connectionId = CONNECTIONS.incrementAndGet();
    private static final java.util.concurrent.atomic.AtomicLong CONNECTIONS = new java.util.concurrent.atomic.AtomicLong();

    private final ArrayDeque<ClientMessage> waiting = new ArrayDeque<>();
    private int inFlight;
    private long inFlightBytes;
    private boolean reading = true;
    private boolean closing;

    ConnectionHandler(ServerInitializer.Shared shared) {
        this.shared = shared;
        this.simulation = shared.simulation();
        this.lockstep = shared.lockstep();
        this.limits = simulation.limits();
    }

    private static ServerMessage refusal(String reason) {
        return ServerMessage.newBuilder().setRefusal(Refusal.newBuilder().setReason(reason)).build();
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        if (closing) {
            return;
        }
        closing = true;
        waiting.clear();
        reading(ctx, false);
        ctx.writeAndFlush(refusal(reason)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        helloDeadline = ctx.executor().schedule(() -> {
            if (process == null) {
                refuse(ctx, "no Hello within " + limits.helloTimeoutMillis() + " ms");
            }
        }, limits.helloTimeoutMillis(), TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && process == null && !helloPending) { // a Hello waiting for its turn is no silence
            refuse(ctx, "no Hello: the connection was silent for " + limits.helloIdleMillis() + " ms");
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
        if (closing) {
            return;
        }
        if (helloPending) { // a Hello waits for its turn: nothing else before it
            refuse(ctx, "a message before the Hello was answered");
            return;
        }
        switch (msg.getMessageCase()) {
            case HELLO -> hello(ctx, msg);
            case REQUEST -> {
                if (process == null) {
                    refuse(ctx, "a Request before Hello");
                } else if (observer) {
                    refuse(ctx, "an observer makes no system calls");
                } else {
                    queue(ctx, msg);
                }
            }
            case THREAD_START, THREAD_EXIT -> thread(ctx, msg);
            case GOODBYE -> ctx.close();
            case CANCEL -> {
                if (process != null && shimThread >= 0) {
                    session.cancel(shimThread, msg.getCancel().getRequestId());
                }
            }
            case STATUS, FETCH_TRACE, DEBUGFS -> {
                if (process == null) {
                    refuse(ctx, "a question before Hello");
                } else {
                    queue(ctx, msg);
                }
            }
            case MESSAGE_NOT_SET -> refuse(ctx, "an empty message");
        }
        if (session != null) {
            session.unreserve(); // the room admitted for a frame that needed no simulation
        }
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
        if (!waiting.isEmpty() || inFlight >= limits.maxInFlight() || !ctx.channel().isWritable()
                || (inFlight > 0 && inFlightBytes + frameBytes > limits.maxInFlightBytes())) {
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

    // --- Hello ---

    private void hello(ChannelHandlerContext ctx, ClientMessage msg) {
        var h = msg.getHello();
        if (process != null) {
            refuse(ctx, "a second Hello");
        } else if (h.getVersion() != ProtocolVersion.PROTOCOL_VERSION_1) {
            refuse(ctx, "protocol version " + h.getVersionValue() + " is not supported (this server speaks 1)");
        } else if (!PROCESS_NAME.matcher(h.getProcessName()).matches()) {
            refuse(ctx, "bad process name '" + abbreviate(h.getProcessName()) + "'");
        } else if (shared.guard().wantsToken()) {
            String source = source(ctx);
            long wait = shared.guard().waitMillis(source, System.currentTimeMillis());
            if (wait >= limits.helloTimeoutMillis()) {
                refuse(ctx, "too many wrong tokens from " + source + ": try again in " + (wait + 999) / 1000 + " s");
            } else if (wait > 0) {
                helloPending = true;
                reading(ctx, false);
                ctx.executor().schedule(() -> {
                    helloPending = false;
                    checkToken(ctx, h, source);
                }, wait, TimeUnit.MILLISECONDS);
            } else {
                checkToken(ctx, h, source);
            }
        } else {
            admit(ctx, h);
        }
    }

    /** Who a wrong token is counted against: a TCP client's address, a Unix socket client's user. */
    private static String source(ChannelHandlerContext ctx) {
        if (ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress a && a.getAddress() != null) {
            return a.getAddress().getHostAddress();
        }
        var peer = ctx.channel().attr(dev.gemulator.server.unix.UnixServer.PEER).get();
        return peer != null ? "uid " + peer.uid() : "a local socket";
    }

    private void checkToken(ChannelHandlerContext ctx, dev.gemulator.proto.v1.Hello h, String source) {
        if (closing || !ctx.channel().isActive()) {
            return;
        }
        if (!shared.guard().matches(h.getToken())) {
            shared.guard().failed(source, System.currentTimeMillis());
            refuse(ctx, "wrong token");
            return;
        }
        admit(ctx, h);
        if (!closing) {
            reading(ctx, true);
        }
    }

    private void admit(ChannelHandlerContext ctx, dev.gemulator.proto.v1.Hello h) {
        if (h.hasShim()) {
            shimHello(ctx, h);
            return;
        }
        String name = h.getProcessName();
        if (lockstep != null && !h.getObserver() && !lockstep.hasProcess(name)) {
            refuse(ctx, "process " + name + " has no part in the scenario this server runs");
            return;
        }
        if (!h.getObserver() && shared.processes().putIfAbsent(name, ctx.channel()) != null) {
            refuse(ctx, "process " + name + " is already connected: one connection per process");
            return;
        }
        process = name;
        observer = h.getObserver();
        helloDeadline.cancel(false);
        if (lockstep == null) {
            session = simulation.session(name, observer);
            ((FrameDecoder) ctx.pipeline().get("frames")).open(shared.maxFrameBytes(), bytes -> admit(ctx, bytes));
        } else { // a lockstep client's messages name statements: they are small
            ((FrameDecoder) ctx.pipeline().get("frames")).open(Math.min(LOCKSTEP_FRAME_BYTES, shared.maxFrameBytes()),
                    bytes -> true);
        }
        if (ctx.pipeline().get("hello-idle") != null) {
            ctx.pipeline().remove("hello-idle");
        }
        Welcome.Builder welcome = ServerModes.set(Welcome.newBuilder(), lockstep != null ? ServerMode.SERVER_MODE_LOCKSTEP
                : ServerMode.SERVER_MODE_FREE).setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                .setIterations(lockstep != null ? lockstep.iterations() : 1);
        if (lockstep != null && !observer) {
            // the join iteration is decided, the Welcome written and the channel made to hear Again together
            lockstep.join(process, (from, during) -> {
                ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(welcome.setJoinIteration(from)
                        .setIteration(during)).build());
                shared.lockstepClients().add(ctx.channel());
            });
        } else {
            ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(welcome).build());
        }
    }

    /**
     * A program behind the C shim: only on the Unix socket (its credentials
     * are the kernel's, its files and pages real); the simulation says which
     * process and thread the connection is.
     */
    private void shimHello(ChannelHandlerContext ctx, dev.gemulator.proto.v1.Hello h) {
        var peer = ctx.channel().attr(dev.gemulator.server.unix.UnixServer.PEER).get();
        if (peer == null || lockstep != null) {
            refuse(ctx, lockstep != null ? "a lockstep run has no programs behind the shim"
                    : "a program behind the shim connects to the Unix socket (serve --socket PATH)");
            return;
        }
        if (simulation.anchorsPath() == null) {
            refuse(ctx, "this server has no anchors socket for emulated files");
            return;
        }
        helloPending = true;
        reading(ctx, false);
        var creds = new dev.gemulator.kernel.proc.Credentials(peer.pid(), peer.uid(),
                peer.gids().length > 0 ? peer.gids()[0] : 0, peer.uid() == 0);
        simulation.shimHello(h.getProcessName(), h.getShim(), creds, connectionId, joined -> ctx.executor().execute(() -> {
            helloPending = false;
            if (joined.refusal() != null) {
                refuse(ctx, joined.refusal());
                return;
            }
            process = joined.process().name();
            shimThread = joined.thread();
            session = shimThread == 0 ? simulation.session(process, false) : simulation.threadSession(process, shimThread);
            if (shimThread == 0) {
                shared.processes().put(process, ctx.channel());
            }
            if (!ctx.channel().isActive()) {
                // gone while the simulation answered: channelInactive saw no process yet
                gone(ctx);
                simulation.forget(session);
                return;
            }
            helloDeadline.cancel(false);
            ((FrameDecoder) ctx.pipeline().get("frames")).open(shared.maxFrameBytes(), bytes -> admit(ctx, bytes));
            if (ctx.pipeline().get("hello-idle") != null) {
                ctx.pipeline().remove("hello-idle");
            }
            ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(ServerModes.set(Welcome.newBuilder(), ServerMode.SERVER_MODE_FREE)
                    .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                    .setIterations(1).setShim(dev.gemulator.proto.v1.ShimWelcome.newBuilder()
                            .setAnchors(simulation.anchorsPath().toString())
                            .addAllFdFields(dev.gemulator.server.shim.HostCalls.fdFields())
                            .setClockNs(simulation.serverNanos()).setRoot(simulation.treePath().toString())
                            .addAllLive(dev.gemulator.server.shim.DeviceTree.LIVE))).build());
            reading(ctx, true);
        }));
    }

    // --- threads ---

    /**
     * Why a thread name is refused, or null: at most {@link Limits#MAX_NAME_CHARS}
     * characters, none a control, invisible, separator or unassigned one.
     */
    static String badThreadName(String name) {
        if (name.codePointCount(0, name.length()) > Limits.MAX_NAME_CHARS) {
            return "a thread name of " + name.length() + " characters (at most " + Limits.MAX_NAME_CHARS + ")";
        }
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int type = Character.getType(cp);
            if (type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE
                    || type == Character.PRIVATE_USE || type == Character.UNASSIGNED) {
                return "a thread name with character U+" + String.format(java.util.Locale.ROOT, "%04X", cp)
                        + " (no control, invisible or unassigned characters)";
            }
            i += Character.charCount(cp);
        }
        return null;
    }

    /** A thread of the process starts or ends. */
    private void thread(ChannelHandlerContext ctx, ClientMessage msg) {
        if (process == null || observer) {
            refuse(ctx, process == null ? "a thread message before Hello" : "an observer has no threads");
            return;
        }
        if (msg.hasThreadStart()) {
            String why = badThreadName(msg.getThreadStart().getName());
            if (why != null) {
                refuse(ctx, why);
                return;
            }
        }
        if (lockstep == null) {
            queue(ctx, msg);
        } else if (msg.hasThreadStart()) {
            lockstepThreadStart(ctx, msg.getThreadStart());
        } else {
            String name = threadNames.remove(msg.getThreadExit().getThreadId());
            if (name != null) {
                lockstep.threadExited(name, msg.getThreadExit().getIteration());
            }
        }
    }

    private void lockstepThreadStart(ChannelHandlerContext ctx, dev.gemulator.proto.v1.ThreadStart start) {
        String name = start.getName();
        if (!name.startsWith(process + ".") || !lockstep.hasThread(name)) {
            refuse(ctx, "the scenario has no thread " + name + " of process " + process);
            return;
        }
        if (!threadNames.containsKey(start.getThreadId()) && threadNames.size() >= lockstep.threadsOf(process)) {
            refuse(ctx, "process " + process + " has all " + lockstep.threadsOf(process)
                    + " threads the scenario gives it running");
            return;
        }
        threadNames.put(start.getThreadId(), name);
    }

    // --- work in flight ---

    /** Queues a message for the simulation (or the lockstep run) and hands on what may go. */
    private void queue(ChannelHandlerContext ctx, ClientMessage msg) {
        waiting.add(msg);
        pump(ctx);
    }

    /** What a message holds in flight: its frame, and what it asks back (a read's bytes, a debugfs answer). */
    private static long bytesOf(ClientMessage m) {
        long n = m.getSerializedSize();
        if (m.hasRequest() && m.getRequest().getCall().hasRead()) {
            n += Math.min(m.getRequest().getCall().getRead().getLength(),
                    dev.gemulator.kernel.proc.Syscalls.MAX_ACCESS_BYTES);
        } else if (m.hasDebugfs()) {
            n += Limits.MAX_DEBUGFS_BYTES;
        }
        return n;
    }

    /**
     * Hands queued messages on while the connection has fewer than
     * {@link Limits#maxInFlight()} of them (and {@link Limits#maxInFlightBytes()})
     * in flight, the client reads its replies and the simulation takes them;
     * otherwise stops reading the connection until a reply, room in the inbox
     * or writability brings it back here.
     */
    private void pump(ChannelHandlerContext ctx) {
        while (!waiting.isEmpty() && !closing) {
            ClientMessage m = waiting.peek();
            long bytes = bytesOf(m);
            if (inFlight >= limits.maxInFlight() || (inFlight > 0 && inFlightBytes + bytes > limits.maxInFlightBytes())
                    || !ctx.channel().isWritable()) {
                reading(ctx, false);
                return;
            }
            if (exited && !m.hasStatus() && !m.hasDebugfs() && !m.hasFetchTrace()) {
                waiting.poll();
                if (m.hasRequest()) {
                    noSuchProcess(ctx, m.getRequest());
                }
                continue;
            }
            if (!start(ctx, m, bytes)) {
                reading(ctx, false);
                simulation.whenRoom(() -> ctx.executor().execute(() -> pump(ctx)));
                return;
            }
            waiting.poll();
        }
        reading(ctx, ctx.channel().isWritable() && !closing);
    }

    /** Starts one message; false when the simulation has no room for it now. */
    private boolean start(ChannelHandlerContext ctx, ClientMessage m, long bytes) {
        return switch (m.getMessageCase()) {
            case THREAD_START -> session.threadStart(m.getThreadStart().getThreadId(), m.getThreadStart().getName());
            case THREAD_EXIT -> session.threadExit(m.getThreadExit().getThreadId());
            case STATUS -> status(ctx, bytes);
            case DEBUGFS -> debugfs(ctx, bytes);
            case FETCH_TRACE -> {
                inFlight(bytes);
                replied(ctx, fetchTrace(), bytes);
                yield true;
            }
            case REQUEST -> lockstep != null ? askLockstep(ctx, m.getRequest(), bytes) : call(ctx, m.getRequest(), bytes);
            default -> throw new IllegalStateException("not queued: " + m.getMessageCase());
        };
    }

    private void inFlight(long bytes) {
        inFlight++;
        inFlightBytes += bytes;
    }

    private boolean call(ChannelHandlerContext ctx, Request r, long bytes) {
        boolean ok = shimThread >= 0
                ? session.submit(shimThread, r.getRequestId(), r.getCall(), answer -> {
                    ServerMessage reply = ServerMessage.newBuilder().setReply(Reply.newBuilder()
                            .setRequestId(r.getRequestId()).setResult(answer.result())).build();
                    ctx.executor().execute(() -> {
                        for (int fd : answer.fds()) {
                            dev.gemulator.server.unix.FdPassing.pass(ctx.channel(), fd);
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
                shared.processes().remove(process, ctx.channel());
            }
        }
        return ok;
    }

    private boolean status(ChannelHandlerContext ctx, long bytes) {
        if (lockstep != null) {
            inFlight(bytes);
            var b = ServerModes.set(RunStatus.newBuilder(), ServerMode.SERVER_MODE_LOCKSTEP)
                    .setIteration(lockstep.iteration()).setIterations(lockstep.iterations()).setSeed(lockstep.seed())
                    .addAllProcesses(lockstep.liveClients()).setFinishedIterations(lockstep.results().size())
                    .addAllFindings(lockstep.findings());
            replied(ctx, ServerMessage.newBuilder().setStatus(b).build(), bytes);
            return true;
        }
        boolean ok = session.status(names -> {
            ServerMessage answer = ServerMessage.newBuilder().setStatus(ServerModes.set(RunStatus.newBuilder(), ServerMode.SERVER_MODE_FREE)
                    .addAllProcesses(names).addAllFindings(simulation.findings().stream().map(FindingKey::toString).toList())).build();
            ctx.executor().execute(() -> replied(ctx, answer, bytes));
        });
        if (ok) {
            inFlight(bytes);
        }
        return ok;
    }

    private boolean debugfs(ChannelHandlerContext ctx, long bytes) {
        if (lockstep != null) {
            inFlight(bytes);
            replied(ctx, debugfsAnswer("a lockstep run's device is read through its trace (status --trace), not while"
                    + " it runs\n"), bytes);
            return true;
        }
        boolean ok = session.debugfs(text -> {
            ServerMessage answer = debugfsAnswer(text);
            ctx.executor().execute(() -> replied(ctx, answer, bytes));
        });
        if (ok) {
            inFlight(bytes);
        }
        return ok;
    }

    private static ServerMessage debugfsAnswer(String text) {
        return ServerMessage.newBuilder().setDebugfs(dev.gemulator.proto.v1.DebugfsText.newBuilder().setText(text))
                .build();
    }

    private ServerMessage fetchTrace() {
        com.google.protobuf.ByteString bytes = lockstep != null ? lockstep.lastTraceBytes()
                : com.google.protobuf.ByteString.EMPTY;
        return ServerMessage.newBuilder().setTrace(dev.gemulator.proto.v1.TraceBytes.newBuilder().setRecords(bytes))
                .build();
    }

    /**
     * Lockstep: the request names the statement its thread wants to run next;
     * the run answers with its line. A thread has one statement asked for at
     * a time.
     */
    private boolean askLockstep(ChannelHandlerContext ctx, Request r, long bytes) {
        String thread = r.getThread().isEmpty() ? process : r.getThread();
        if (!thread.equals(process) && !thread.startsWith(process + ".")) {
            refuse(ctx, "thread " + thread + " is not a thread of " + process);
            return true;
        }
        if (!lockstep.hasThread(thread)) {
            refuse(ctx, "the scenario has no thread " + thread);
            return true;
        }
        boolean asked = lockstep.ask(thread, r.getIteration(), r.getLine(), r.getOp(), text -> {
            ServerMessage reply = ServerMessage.newBuilder().setReply(Reply.newBuilder().setRequestId(r.getRequestId())
                    .setText(text)).build();
            ctx.executor().execute(() -> replied(ctx, reply, bytes));
        });
        if (!asked) {
            refuse(ctx, "thread " + thread + " asked for line " + r.getLine() + " while a statement it asked for is"
                    + " unanswered (one at a time)");
            return true;
        }
        inFlight(bytes);
        return true;
    }

    /** A request sent after the process's exit call. */
    private void noSuchProcess(ChannelHandlerContext ctx, Request r) {
        ctx.writeAndFlush(ServerMessage.newBuilder().setReply(Reply.newBuilder().setRequestId(r.getRequestId())
                .setResult(dev.gemulator.proto.v1.SyscallResult.newBuilder()
                        .setErrno(dev.gemulator.kernel.Errno.ESRCH.number())
                        .setMessage("process " + process + " has exited"))).build());
    }

    private void replied(ChannelHandlerContext ctx, ServerMessage reply, long bytes) {
        inFlight--;
        inFlightBytes -= bytes;
        ctx.writeAndFlush(reply);
        if (!reading) {
            pump(ctx);
        }
    }

    /**
     * Reads the connection or stops: the socket (auto-read) and the frames
     * already read alike, so that at most one decoded message waits here.
     */
    private void reading(ChannelHandlerContext ctx, boolean on) {
        if (reading != on) {
            reading = on;
            ctx.channel().config().setAutoRead(on);
        }
        if (ctx.pipeline().get("frames") instanceof FrameDecoder frames) {
            if (on) {
                frames.resume();
            } else {
                frames.pause();
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            if (!helloPending) {
                pump(ctx);
            }
        } else {
            reading(ctx, false);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (helloDeadline != null) {
            helloDeadline.cancel(false);
        }
        waiting.clear();
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
        if (lockstep != null) {
            lockstep.processGone(process);
        } else if (shimThread == 0) {
            session.gone(connectionId);
        } else {
            session.gone();
        }
        shared.processes().remove(process, ctx.channel());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        String why = cause instanceof TooLongFrameException ? "frame too long: " + cause.getMessage()
                : cause instanceof DecoderException ? "malformed message: " + cause.getMessage()
                : "connection error: " + cause;
        if (ctx.channel().isActive()) {
            refuse(ctx, why);
        }
    }

    private static String abbreviate(String name) {
        return dev.gemulator.trace.Traces.escape(name.length() <= 64 ? name : name.substring(0, 64) + "...");
    }
}
