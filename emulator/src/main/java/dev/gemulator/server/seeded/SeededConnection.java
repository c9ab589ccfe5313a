package dev.gemulator.server.seeded;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.proc.Credentials;
import dev.gemulator.proto.ServerModes;
import dev.gemulator.proto.v1.Again;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.DebugfsText;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Refusal;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.RunStatus;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.ServerMode;
import dev.gemulator.proto.v1.ShimWelcome;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.ThreadExit;
import dev.gemulator.proto.v1.ThreadStart;
import dev.gemulator.proto.v1.TraceBytes;
import dev.gemulator.proto.v1.Welcome;
import dev.gemulator.server.shim.DeviceTree;
import dev.gemulator.server.shim.HostCalls;
import dev.gemulator.server.shim.TmpfsShmem;
import dev.gemulator.server.unix.FdPassing;
import dev.gemulator.server.unix.Peer;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection to a seeded server: a process's (its main thread's, and
 * any thread's that multiplexes on it), or a per-thread channel of one of
 * its threads. Requests, thread starts and ends go to the run's mailboxes in
 * the order they arrive; the run's threads answer. The transport's seeded
 * handler hands it the connection's messages once the shared handshake has
 * checked the Hello (version, name, token); it calls {@code welcomed} when
 * the Welcome goes out. Every field is touched on the connection's event
 * loop only.
 */
public final class SeededConnection {
    private final SeededRuns server;
    private final ChannelHandlerContext ctx;
    private final Runnable welcomed;
    private boolean helloSeen;
    private String process;
    private boolean observer;
    private boolean iterates;
    /** A per-thread channel's thread id, or -1 for the process's connection. */
    private int threadChannel = -1;
    private SeededRun run;
    /** Calls sent to the run and not answered yet (answers come from the run's threads). */
    private final AtomicInteger pending = new AtomicInteger();
    /** The process's exit was answered in its run (a close afterwards is no death); set by the run's thread. */
    private volatile boolean exited;
    /** This main connection announced an exec that did not fail: its close is the exec, not a death. */
    private volatile boolean execing;
    /** A thread channel's thread said ThreadExit. */
    private boolean threadEnded;

    /** The connection of {@code ctx} to {@code server}; {@code welcomed} runs when its Welcome goes out. */
    public SeededConnection(SeededRuns server, ChannelHandlerContext ctx, Runnable welcomed) {
        this.server = server;
        this.ctx = ctx;
        this.welcomed = welcomed;
        server.add(this);
    }

    static ServerMessage refusal(String reason) {
        return ServerMessage.newBuilder().setRefusal(Refusal.newBuilder().setReason(reason)).build();
    }

    /** Refuses the connection with {@code reason} and closes it. */
    public void refuse(String reason) {
        ctx.writeAndFlush(refusal(reason)).addListener(ChannelFutureListener.CLOSE);
    }

    /** One message of the connection, in the order they came. */
    public void read(ClientMessage msg) {
        switch (msg.getMessageCase()) {
            case HELLO -> hello(msg);
            case REQUEST -> {
                if (ready("a Request")) {
                    request(msg.getRequest());
                }
            }
            case THREAD_START -> {
                if (ready("a ThreadStart")) {
                    threadStart(msg.getThreadStart());
                }
            }
            case THREAD_EXIT -> {
                if (ready("a ThreadExit")) {
                    threadExit(msg.getThreadExit());
                }
            }
            case GOODBYE -> ctx.close();
            case STATUS -> {
                if (process == null) {
                    refuse("a question before Hello");
                } else {
                    status();
                }
            }
            case FETCH_TRACE -> ctx.writeAndFlush(ServerMessage.newBuilder().setTrace(
                    TraceBytes.getDefaultInstance()).build());
            case DEBUGFS -> ctx.writeAndFlush(ServerMessage.newBuilder().setDebugfs(DebugfsText
                    .newBuilder().setText("a seeded run's device is read through its trace (serve --trace), not while"
                            + " it runs\n")).build());
            case MESSAGE_NOT_SET -> refuse("an empty message");
        }
    }

    /** Whether the connection may send {@code what} now (else it is refused). */
    private boolean ready(String what) {
        if (process == null) {
            refuse(what + " before Hello");
            return false;
        }
        if (observer) {
            refuse("an observer makes no system calls");
            return false;
        }
        return true;
    }

    /** The Hello the handshake passed (its version, name and token are right). */
    private void hello(ClientMessage msg) {
        var h = msg.getHello();
        if (helloSeen) {
            refuse("a second Hello");
            return;
        }
        helloSeen = true;
        SeededRun r = server.current();
        if (h.hasShim()) {
            shimHello(h, r);
            return;
        }
        if (!h.getObserver()) {
            if (r == null) {
                refuse("the seeded server has no run yet");
                return;
            }
            String refused = h.getThreadChannel() ? r.attach(h.getProcessName(), h.getThreadId())
                    : r.join(h.getProcessName());
            if (refused != null) {
                refuse(refused);
                return;
            }
        }
        process = h.getProcessName();
        observer = h.getObserver();
        iterates = h.getIterates() && !h.getThreadChannel();
        threadChannel = h.getThreadChannel() ? h.getThreadId() : -1;
        run = r;
        welcomed.run();
        ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(ServerModes.set(Welcome.newBuilder(), ServerMode.SERVER_MODE_SEEDED)
                .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                .setSeed(r == null ? 0 : r.seed())).build());
    }

    private static final AtomicLong CONNECTIONS = new AtomicLong();

    /**
     * A program behind the C shim (Unix socket only): a new process (its
     * main connection), the child of a Fork of the run (fork_token), or a
     * thread its parent announced (thread k: waits until the announcement
     * has arrived on the parent's connection). Exec and posix_spawn are not
     * part of a seeded run.
     */
    private void shimHello(Hello h, SeededRun r) {
        var peer = ctx.channel().attr(Peer.CREDENTIALS).get();
        var anchors = server.anchors();
        if (peer == null || anchors == null) {
            refuse("a program behind the C shim connects to the seeded server's Unix socket");
            return;
        }
        if (r == null) {
            refuse("the seeded server has no run yet");
            return;
        }
        var shim = h.getShim();
        if (!shim.getParent().isEmpty()) {
            refuse("a seeded run has no posix_spawn yet: process " + h.getProcessName()
                    + " started a program (fork and exec, or race them as separate commands)");
            return;
        }
        var creds = new Credentials(peer.pid(), peer.uid(),
                peer.gids().length > 0 ? peer.gids()[0] : 0, peer.uid() == 0);
        long id = CONNECTIONS.incrementAndGet();
        if (shim.getThread() > 0) {
            attachThread(h, r, shim.getThread(), System.nanoTime() + 10_000_000_000L);
            return;
        }
        String refused = shim.getExec() ? r.execed(h.getProcessName(), new SeededRun.ShimJoin(shim, creds, id))
                : shim.getForkToken() != 0 ? r.forked(h.getProcessName(), new SeededRun.ShimJoin(shim, creds, id))
                : r.join(h.getProcessName(), new SeededRun.ShimJoin(shim, creds, id));
        if (refused != null) {
            refuse(refused);
            return;
        }
        welcomeShim(h, r, -1);
    }

    /** A shim thread's connection: attaches once its parent's ThreadStart has been read (another connection). */
    private void attachThread(Hello h, SeededRun r, int thread, long deadline) {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (!r.hasThread(h.getProcessName(), thread) && System.nanoTime() < deadline) {
            ctx.executor().schedule(() -> attachThread(h, r, thread, deadline), 1, TimeUnit.MILLISECONDS);
            return;
        }
        String refused = r.attach(h.getProcessName(), thread);
        if (refused != null) {
            refuse(refused);
            return;
        }
        welcomeShim(h, r, thread);
    }

    private void welcomeShim(Hello h, SeededRun r, int thread) {
        process = h.getProcessName();
        threadChannel = thread;
        run = r;
        welcomed.run();
        ctx.writeAndFlush(ServerMessage.newBuilder().setWelcome(ServerModes.set(Welcome.newBuilder(), ServerMode.SERVER_MODE_SEEDED)
                .setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(process)
                .setSeed(r.seed()).setShim(ShimWelcome.newBuilder()
                        .setAnchors(server.anchors().path().toString())
                        .addAllFdFields(HostCalls.fdFields())
                        .setClockNs(0).setRoot(server.treePath().toString())
                        .addAllLive(DeviceTree.LIVE))).build());
    }

    private void request(Request q) {
        int thread = threadChannel >= 0 ? threadChannel : q.getThreadId();
        if (exited) {
            reply(q, SyscallResult.newBuilder()
                    .setErrno(Errno.ESRCH.number()).setMessage("process " + process
                            + " has exited").build(), false);
            return;
        }
        SeededRun r = run;
        boolean exit = q.getCall().hasExit();
        pending.incrementAndGet();
        String refused = r.request(process, thread, q.getCall(), result -> {
            // on the run's thread, before the run can end: the flags are right when it has
            if (exit && result.getErrno() == 0) {
                exited = true;
            }
            if (q.getCall().hasExecStart()) {
                // its connection closes at the exec: that is no death (the new program continues the process)
                execing = !q.getCall().getExecStart().getFailed() && result.getErrno() == 0;
            }
            pending.decrementAndGet();
            SeededRun.Passed passed = r.passed();
            if (passed.fds().isEmpty()) {
                reply(q, result, true);
                return;
            }
            ctx.executor().execute(() -> {
                for (int fd : passed.fds()) {
                    FdPassing.pass(ctx.channel(), fd);
                }
                ctx.flush();
                passed.files().forEach(TmpfsShmem.TmpfsFile::passed);
                reply(q, result, true);
            });
        });
        if (refused != null) {
            pending.decrementAndGet();
            refuse(refused);
        }
    }

    private void reply(Request q, SyscallResult result, boolean flush) {
        ctx.writeAndFlush(ServerMessage.newBuilder().setReply(Reply.newBuilder().setRequestId(q.getRequestId())
                .setResult(result)).build());
    }

    private void threadStart(ThreadStart ts) {
        if (!ts.getByParent()) {
            refuse("a seeded server needs every thread announced by its parent before it runs (ThreadStart with"
                    + " by_parent, as the client library's ClientThread.start sends it): thread " + ts.getThreadId()
                    + " of " + process + " was not");
            return;
        }
        int parent = threadChannel >= 0 ? threadChannel : ts.getParentThreadId();
        String refused = ts.getFailed() ? run.threadNeverRan(process, ts.getThreadId())
                : run.threadStart(process, ts.getThreadId(), parent);
        if (refused != null) {
            refuse(refused);
        }
    }

    private void threadExit(ThreadExit te) {
        int thread = threadChannel >= 0 ? threadChannel : te.getThreadId();
        String refused = run.threadExit(process, thread);
        if (refused != null) {
            refuse(refused);
            return;
        }
        if (threadChannel >= 0) {
            threadEnded = true;
        }
    }

    private void status() {
        SeededRun r = server.current();
        RunStatus.Builder b = ServerModes.set(RunStatus.newBuilder(), ServerMode.SERVER_MODE_SEEDED).setIteration(Math.max(0, server.iteration()));
        if (r != null) {
            b.setSeed(r.seed()).addAllProcesses(r.joinedProcesses());
        }
        ctx.writeAndFlush(ServerMessage.newBuilder().setStatus(b).build());
    }

    /** The process name when this is a persistent client that exited its run cleanly and is still connected. */
    String persistentProcess() {
        return iterates && exited && pending.get() == 0 && ctx.channel().isActive() ? process : null;
    }

    /** Whether this is process {@code name}'s connection, open, of a persistent client. */
    boolean iterating(String name) {
        return iterates && name.equals(process) && ctx.channel().isActive();
    }

    /** The next run starts: a persistent client that exited the last one cleanly joins it; others stay out. */
    void again(SeededRun next, int iteration) {
        ctx.executor().execute(() -> {
            if (process == null || observer || !ctx.channel().isActive()) {
                return;
            }
            if (!iterates) {
                if (pending.get() > 0) {
                    ctx.close(); // its run ended without answering it
                }
                return;
            }
            if (!exited || pending.get() > 0) {
                refuse("the run of seed " + (run == null ? "?" : run.seed()) + " ended before process " + process
                        + " exited it");
                return;
            }
            String refused = next.join(process);
            if (refused != null) {
                refuse(refused);
                return;
            }
            run = next;
            exited = false;
            ctx.writeAndFlush(ServerMessage.newBuilder().setAgain(Again.newBuilder().setIteration(iteration)
                    .setSeed(next.seed())).build());
        });
    }

    /** A run ended: a client still waiting for one of its replies will not get it. */
    void runEnded(SeededRun ended) {
        ctx.executor().execute(() -> {
            if (run == ended && pending.get() > 0 && ctx.channel().isActive()) {
                refuse("the run of seed " + ended.seed() + " ended without answering " + pending.get() + " call(s) of "
                        + process + (ended.finished().isDone() && !ended.finished().isCompletedExceptionally()
                        && ended.finished().join().aborted() ? " (" + ended.finished().join().abortReason() + ")" : ""));
            }
        });
    }

    /** The connection closed: a process that did not exit (or a thread that did not end) is gone from its run. */
    public void inactive() {
        server.remove(this);
        if (process != null && !observer && run != null) {
            boolean normal = threadChannel >= 0 ? threadEnded : exited || execing;
            if (!normal) {
                run.gone(process);
            }
        }
    }
}
