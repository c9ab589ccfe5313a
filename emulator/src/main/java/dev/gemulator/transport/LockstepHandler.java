package dev.gemulator.transport;

import dev.gemulator.lockstep.LockstepRun;
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
import dev.gemulator.proto.v1.ThreadStart;
import dev.gemulator.proto.v1.TraceBytes;
import dev.gemulator.proto.v1.Welcome;
import dev.gemulator.server.Limits;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.group.ChannelGroup;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

/**
 * One client process's connection to a lockstep server: the server runs
 * the scenario and each statement waits until the client thread that owns
 * it asks for it (a Request naming the line); the run answers with the
 * statement's output line. A thread has one statement asked for at a time,
 * a process only the threads the scenario gives it; Again tells every
 * client that the next iteration starts (the connections in
 * {@code clients}).
 */
final class LockstepHandler extends QueuedHandler {
    /** The largest frame of a lockstep client after Hello (its requests carry no system call). */
    static final int LOCKSTEP_FRAME_BYTES = 64 << 10;

    private final LockstepRun run;
    private final int maxFrameBytes;
    private final ConcurrentMap<String, Channel> processes;
    private final ChannelGroup clients;
    private String process;
    /** The scenario names of the process's threads, by thread id. */
    private final Map<Integer, String> threadNames = new HashMap<>();

    LockstepHandler(LockstepRun run, Limits limits, int maxFrameBytes, ConcurrentMap<String, Channel> processes,
            ChannelGroup clients) {
        super(limits);
        this.run = run;
        this.maxFrameBytes = maxFrameBytes;
        this.processes = processes;
        this.clients = clients;
    }

    @Override
    protected void hello(ChannelHandlerContext ctx, Hello h) {
        if (h.hasShim()) {
            refuse(ctx, "a lockstep run has no programs behind the shim");
            return;
        }
        String name = h.getProcessName();
        if (!h.getObserver() && !run.hasProcess(name)) {
            refuse(ctx, "process " + name + " has no part in the scenario this server runs");
            return;
        }
        if (!h.getObserver() && processes.putIfAbsent(name, ctx.channel()) != null) {
            refuse(ctx, "process " + name + " is already connected: one connection per process");
            return;
        }
        process = name;
        observer = h.getObserver();
        // a lockstep client's messages name statements: they are small
        open(ctx, Math.min(LOCKSTEP_FRAME_BYTES, maxFrameBytes), bytes -> true);
        Welcome.Builder welcome = ServerModes.set(Welcome.newBuilder(), ServerMode.SERVER_MODE_LOCKSTEP)
                .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process).setIterations(run.iterations());
        if (observer) {
            ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(welcome).build());
            return;
        }
        // the join iteration is decided, the Welcome written and the channel made to hear Again together
        run.join(process, (from, during) -> {
            ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(welcome.setJoinIteration(from)
                    .setIteration(during)).build());
            clients.add(ctx.channel());
        });
    }

    /** A thread of the process starts or ends: one of the scenario's threads of this process. */
    @Override
    protected void thread(ChannelHandlerContext ctx, ClientMessage msg) {
        if (observer) {
            refuse(ctx, "an observer has no threads");
            return;
        }
        if (msg.hasThreadExit()) {
            String name = threadNames.remove(msg.getThreadExit().getThreadId());
            if (name != null) {
                run.threadExited(name, msg.getThreadExit().getIteration());
            }
            return;
        }
        ThreadStart start = msg.getThreadStart();
        String name = start.getName();
        String why = badThreadName(name);
        if (why != null) {
            refuse(ctx, why);
            return;
        }
        if (!name.startsWith(process + ".") || !run.hasThread(name)) {
            refuse(ctx, "the scenario has no thread " + name + " of process " + process);
            return;
        }
        if (!threadNames.containsKey(start.getThreadId()) && threadNames.size() >= run.threadsOf(process)) {
            refuse(ctx, "process " + process + " has all " + run.threadsOf(process)
                    + " threads the scenario gives it running");
            return;
        }
        threadNames.put(start.getThreadId(), name);
    }

    @Override
    protected void whenRoom(Runnable pump) {
        pump.run(); // the run takes every question at once
    }

    @Override
    protected boolean start(ChannelHandlerContext ctx, ClientMessage m, long bytes) {
        inFlight(bytes);
        switch (m.getMessageCase()) {
            case STATUS -> replied(ctx, ServerMessage.newBuilder().setStatus(ServerModes.set(RunStatus.newBuilder(), ServerMode.SERVER_MODE_LOCKSTEP)
                    .setIteration(run.iteration()).setIterations(run.iterations()).setSeed(run.seed())
                    .addAllProcesses(run.liveClients()).setFinishedIterations(run.results().size())
                    .addAllFindings(run.findings())).build(), bytes);
            case DEBUGFS -> replied(ctx, ServerMessage.newBuilder().setDebugfs(DebugfsText.newBuilder().setText(
                    "a lockstep run's device is read through its trace (status --trace), not while it runs\n")).build(),
                    bytes);
            case FETCH_TRACE -> replied(ctx, ServerMessage.newBuilder().setTrace(TraceBytes.newBuilder()
                    .setRecords(run.lastTraceBytes())).build(), bytes);
            case REQUEST -> ask(ctx, m.getRequest(), bytes);
            default -> throw new IllegalStateException("not queued: " + m.getMessageCase());
        }
        return true;
    }

    /**
     * The request names the statement its thread wants to run next; the run
     * answers with its line. A thread has one statement asked for at a time.
     */
    private void ask(ChannelHandlerContext ctx, Request r, long bytes) {
        String thread = r.getThread().isEmpty() ? process : r.getThread();
        if (!thread.equals(process) && !thread.startsWith(process + ".")) {
            refuse(ctx, "thread " + thread + " is not a thread of " + process);
            return;
        }
        if (!run.hasThread(thread)) {
            refuse(ctx, "the scenario has no thread " + thread);
            return;
        }
        boolean asked = run.ask(thread, r.getIteration(), r.getLine(), r.getOp(), text -> {
            ServerMessage reply = ServerMessage.newBuilder().setReply(Reply.newBuilder().setRequestId(r.getRequestId())
                    .setText(text)).build();
            ctx.executor().execute(() -> replied(ctx, reply, bytes));
        });
        if (!asked) {
            refuse(ctx, "thread " + thread + " asked for line " + r.getLine() + " while a statement it asked for is"
                    + " unanswered (one at a time)");
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        clear();
        if (process != null && !observer) {
            run.processGone(process);
            processes.remove(process, ctx.channel());
        }
        ctx.fireChannelInactive();
    }
}
