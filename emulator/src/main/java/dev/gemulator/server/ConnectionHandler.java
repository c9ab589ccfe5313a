package dev.gemulator.server;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Refusal;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.Welcome;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.ArrayDeque;

/**
 * One client process's connection: a Hello names the process, then every
 * Request goes to the simulation and its Reply comes back. When the
 * simulation's inbox is full or the client does not read its replies, the
 * connection stops reading until there is room again. Bad input closes the
 * connection with a reason; it never reaches the machine.
 */
final class ConnectionHandler extends SimpleChannelInboundHandler<ClientMessage> {
    private final Simulation simulation;
    private final dev.gemulator.lockstep.LockstepRun lockstep;
    private final String token;
    private final io.netty.channel.group.ChannelGroup lockstepClients;
    private String process;
    private boolean observer;
    /** A program behind the C shim: the thread this connection is (0: the process's main connection), else -1. */
    private int shimThread = -1;
    private boolean helloPending;
    /** Tells a process's main connections apart (the one before an exec from the one after). */
    private final long connectionId = CONNECTIONS.incrementAndGet();
    private static final java.util.concurrent.atomic.AtomicLong CONNECTIONS = new java.util.concurrent.atomic.AtomicLong();
    /** Free-running: the process made its exit call; the connection has nothing more to do. */
    private boolean exited;
    private final java.util.concurrent.ConcurrentMap<String, io.netty.channel.Channel> processes;
    /** Lockstep: the scenario names of the process's threads, by thread id. */
    private final java.util.Map<Integer, String> threadNames = new java.util.HashMap<>();

    private final ArrayDeque<ClientMessage> waiting = new ArrayDeque<>();
    private int inFlight;
    private boolean reading = true;

    /** A connection to a free-running server ({@code simulation}) or to a lockstep run ({@code lockstep}). */
    ConnectionHandler(Simulation simulation, dev.gemulator.lockstep.LockstepRun lockstep, String token,
            io.netty.channel.group.ChannelGroup lockstepClients,
            java.util.concurrent.ConcurrentMap<String, io.netty.channel.Channel> processes) {
        this.processes = processes;
        this.simulation = simulation;
        this.lockstep = lockstep;
        this.token = token;
        this.lockstepClients = lockstepClients;
    }

    private static ServerMessage refusal(String reason) {
        return ServerMessage.newBuilder().setRefusal(Refusal.newBuilder().setReason(reason)).build();
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        ctx.writeAndFlush(refusal(reason)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
        switch (msg.getMessageCase()) {
            case HELLO -> hello(ctx, msg);
            case REQUEST -> {
                if (process == null) {
                    refuse(ctx, "a Request before Hello");
                    return;
                }
                if (observer) {
                    refuse(ctx, "an observer makes no system calls");
                    return;
                }
                if (exited) {
                    noSuchProcess(ctx, msg.getRequest());
                    return;
                }
                if (lockstep != null) {
                    askLockstep(ctx, msg.getRequest());
                    return;
                }
                waiting.add(msg);
                pump(ctx);
            }
            case THREAD_START, THREAD_EXIT -> thread(ctx, msg);
            case GOODBYE -> ctx.close();
            case CANCEL -> {
                if (process != null && shimThread >= 0) {
                    simulation.cancel(process, shimThread, msg.getCancel().getRequestId());
                }
            }
            case STATUS, FETCH_TRACE, DEBUGFS -> {
                if (process == null) {
                    refuse(ctx, "a question before Hello");
                } else if (msg.hasStatus()) {
                    status(ctx);
                } else if (msg.hasDebugfs()) {
                    debugfs(ctx);
                } else {
                    fetchTrace(ctx);
                }
            }
            case MESSAGE_NOT_SET -> refuse(ctx, "an empty message");
        }
    }

    private void hello(ChannelHandlerContext ctx, ClientMessage msg) {
        var h = msg.getHello();
        if (process != null || helloPending) {
            refuse(ctx, "a second Hello");
        } else if (h.hasShim()) {
            shimHello(ctx, h);
        } else if (h.getVersion() != ProtocolVersion.PROTOCOL_VERSION_1) {
            refuse(ctx, "protocol version " + h.getVersionValue() + " is not supported (this server speaks 1)");
        } else if (!h.getProcessName().matches("[A-Za-z][A-Za-z0-9_]{0,63}")) {
            refuse(ctx, "bad process name '" + h.getProcessName() + "'");
        } else if (token != null && !token.equals(h.getToken())) {
            refuse(ctx, "wrong token");
        } else if (lockstep != null && !h.getObserver() && !lockstep.hasProcess(h.getProcessName())) {
            refuse(ctx, "process " + h.getProcessName() + " has no part in the scenario this server runs");
        } else if (!h.getObserver() && processes.putIfAbsent(h.getProcessName(), ctx.channel()) != null) {
            refuse(ctx, "process " + h.getProcessName() + " is already connected: one connection per process");
        } else {
            process = h.getProcessName();
            ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(Welcome.newBuilder()
                    .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                    .setMode(lockstep != null ? "lockstep" : "free")
                    .setIterations(lockstep != null ? lockstep.iterations() : 1)).build());
            observer = h.getObserver();
            if (lockstepClients != null && !observer) {
                lockstepClients.add(ctx.channel());
                lockstep.clientJoined(process);
            }
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
        if (h.getVersion() != ProtocolVersion.PROTOCOL_VERSION_1) {
            refuse(ctx, "protocol version " + h.getVersionValue() + " is not supported (this server speaks 1)");
            return;
        }
        if (!h.getProcessName().matches("[A-Za-z][A-Za-z0-9_]{0,63}")) {
            refuse(ctx, "bad process name '" + h.getProcessName() + "'");
            return;
        }
        if (token != null && !token.equals(h.getToken())) {
            refuse(ctx, "wrong token");
            return;
        }
        if (simulation.anchorsPath() == null) {
            refuse(ctx, "this server has no anchors socket for emulated files");
            return;
        }
        helloPending = true;
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
            if (shimThread == 0) {
                processes.put(process, ctx.channel());
            }
            if (!ctx.channel().isActive()) {
                // gone while the simulation answered: channelInactive saw no process yet
                gone();
                return;
            }
            ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(Welcome.newBuilder()
                    .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process).setMode("free")
                    .setIterations(1).setShim(dev.gemulator.proto.v1.ShimWelcome.newBuilder()
                            .setAnchors(simulation.anchorsPath().toString())
                            .addAllFdFields(dev.gemulator.server.shim.HostCalls.fdFields())
                            .setClockNs(simulation.serverNanos()).setRoot(simulation.treePath().toString())
                            .addAllLive(dev.gemulator.server.shim.DeviceTree.LIVE))).build());
        }));
    }

    private void status(ChannelHandlerContext ctx) {
        if (lockstep != null) {
            var b = dev.gemulator.proto.v1.RunStatus.newBuilder().setMode("lockstep")
                    .setIteration(lockstep.iteration()).setIterations(lockstep.iterations()).setSeed(lockstep.seed())
                    .addAllProcesses(lockstep.liveClients()).setFinishedIterations(lockstep.results().size());
            lockstep.results().forEach(it -> it.reports().forEach(r -> b.addFindings(r.kind().label() + " " + r.function())));
            ctx.writeAndFlush(ServerMessage.newBuilder().setStatus(b).build());
            return;
        }
        boolean asked = simulation.status(names -> ctx.writeAndFlush(ServerMessage.newBuilder()
                .setStatus(dev.gemulator.proto.v1.RunStatus.newBuilder().setMode("free").addAllProcesses(names).addAllFindings(simulation.findings())).build()));
        if (!asked) {
            ctx.writeAndFlush(ServerMessage.newBuilder().setStatus(dev.gemulator.proto.v1.RunStatus.newBuilder()
                    .setMode("free")).build());
        }
    }

    private void debugfs(ChannelHandlerContext ctx) {
        java.util.function.Consumer<String> answer = text -> ctx.writeAndFlush(ServerMessage.newBuilder()
                .setDebugfs(dev.gemulator.proto.v1.DebugfsText.newBuilder().setText(text)).build());
        if (lockstep != null) {
            answer.accept("a lockstep run's device is read through its trace (status --trace), not while it runs\n");
        } else if (!simulation.debugfs(answer)) {
            answer.accept("the server is busy (its inbox is full); ask again\n");
        }
    }

    private void fetchTrace(ChannelHandlerContext ctx) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        if (lockstep != null) {
            try {
                dev.gemulator.trace.TraceRecorder.write(lockstep.lastTrace(), bytes);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        ctx.writeAndFlush(ServerMessage.newBuilder().setTrace(dev.gemulator.proto.v1.TraceBytes.newBuilder()
                .setRecords(com.google.protobuf.ByteString.copyFrom(bytes.toByteArray()))).build());
    }

    /** Lockstep: the request names the statement its thread wants to run next; the run answers with its line. */
    private void askLockstep(ChannelHandlerContext ctx, Request r) {
        String thread = r.getThread().isEmpty() ? process : r.getThread();
        if (!thread.equals(process) && !thread.startsWith(process + ".")) {
            refuse(ctx, "thread " + thread + " is not a thread of " + process);
            return;
        }
        if (!lockstep.hasThread(thread)) {
            refuse(ctx, "the scenario has no thread " + thread);
            return;
        }
        lockstep.ask(thread, r.getLine(), r.getOp(), text -> ctx.writeAndFlush(ServerMessage.newBuilder()
                .setReply(Reply.newBuilder().setRequestId(r.getRequestId()).setText(text)).build()));
    }

    /** A thread of the process starts or ends. */
    private void thread(ChannelHandlerContext ctx, ClientMessage msg) {
        if (process == null || observer) {
            refuse(ctx, process == null ? "a thread message before Hello" : "an observer has no threads");
            return;
        }
        if (lockstep == null) {
            waiting.add(msg);
            pump(ctx);
        } else if (msg.hasThreadStart()) {
            threadNames.put(msg.getThreadStart().getThreadId(), msg.getThreadStart().getName());
        } else {
            String name = threadNames.remove(msg.getThreadExit().getThreadId());
            if (name != null && (name.equals(process) || name.startsWith(process + "."))) {
                lockstep.threadExited(name, msg.getThreadExit().getIteration());
            }
        }
    }

    /**
     * Hands queued messages to the simulation while it takes them, this
     * connection has fewer than {@link Limits#maxInFlight()} requests in the
     * simulation and the client reads its replies; otherwise stops reading
     * the connection until a reply, room in the inbox or writability brings
     * it back here.
     */
    private void pump(ChannelHandlerContext ctx) {
        while (!waiting.isEmpty()) {
            if (inFlight >= simulation.limits().maxInFlight() || !ctx.channel().isWritable()) {
                reading(ctx, false);
                return;
            }
            ClientMessage m = waiting.peek();
            if (exited) {
                waiting.poll();
                if (m.hasRequest()) {
                    noSuchProcess(ctx, m.getRequest());
                }
                continue;
            }
            boolean taken = switch (m.getMessageCase()) {
                case THREAD_START -> simulation.threadStart(process, m.getThreadStart().getThreadId(),
                        m.getThreadStart().getName());
                case THREAD_EXIT -> simulation.threadExit(process, m.getThreadExit().getThreadId());
                default -> {
                    Request r = m.getRequest();
                    boolean ok = shimThread >= 0
                            ? simulation.submit(process, shimThread, r.getRequestId(), r.getCall(), answer -> {
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
                                    replied(ctx, reply);
                                });
                            })
                            : simulation.submit(process, r.getThreadId(), r.getCall(), result -> {
                        ServerMessage reply = ServerMessage.newBuilder().setReply(Reply.newBuilder()
                                .setRequestId(r.getRequestId()).setResult(result)).build();
                        ctx.executor().execute(() -> replied(ctx, reply));
                    });
                    if (ok) {
                        inFlight++;
                        if (r.getCall().hasExit()) {
                            // queued behind it, a new connection of the same name is a new process
                            exited = true;
                            processes.remove(process, ctx.channel());
                        }
                    }
                    yield ok;
                }
            };
            if (!taken) {
                reading(ctx, false);
                simulation.whenRoom(() -> ctx.executor().execute(() -> pump(ctx)));
                return;
            }
            waiting.poll();
        }
        reading(ctx, ctx.channel().isWritable());
    }

    /** A request sent after the process's exit call. */
    private void noSuchProcess(ChannelHandlerContext ctx, Request r) {
        ctx.writeAndFlush(ServerMessage.newBuilder().setReply(Reply.newBuilder().setRequestId(r.getRequestId())
                .setResult(dev.gemulator.proto.v1.SyscallResult.newBuilder()
                        .setErrno(dev.gemulator.kernel.Errno.ESRCH.number())
                        .setMessage("process " + process + " has exited"))).build());
    }

    private void replied(ChannelHandlerContext ctx, ServerMessage reply) {
        inFlight--;
        ctx.writeAndFlush(reply);
        if (!reading) {
            pump(ctx);
        }
    }

    private void reading(ChannelHandlerContext ctx, boolean on) {
        if (reading != on) {
            reading = on;
            ctx.channel().config().setAutoRead(on);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (lockstep == null) {
            if (ctx.channel().isWritable()) {
                pump(ctx);
            } else {
                reading(ctx, false);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (process != null && !observer && !exited) {
            gone(ctx);
        }
        ctx.fireChannelInactive();
    }

    private ChannelHandlerContext context;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.context = ctx;
    }

    private void gone() {
        gone(context);
    }

    /** The connection's process (or, for a shim thread's connection, the thread) is gone. */
    private void gone(ChannelHandlerContext ctx) {
        if (shimThread > 0) {
            simulation.threadGone(process, shimThread);
            return;
        }
        if (lockstep != null) {
            lockstep.processGone(process);
        } else if (shimThread == 0) {
            simulation.exitProcess(process, connectionId);
        } else {
            simulation.exitProcess(process);
        }
        processes.remove(process, ctx.channel());
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
}
