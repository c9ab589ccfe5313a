package dev.gemulator.client;

import dev.gemulator.proto.v1.Exit;
import dev.gemulator.proto.v1.Join;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The transport for races: to a seeded server ({@code serve --seed},
 * {@code gemulator race}) or, the same program unchanged, to a free-running
 * one. Against a seeded server every thread of a process has an identity
 * the server can place deterministically: the first Java thread that uses
 * a process is its main thread (thread 0); every other thread is started
 * with {@link ClientThread#start}, which announces it from its parent before
 * it runs and names it as the server does ("A.t1", "A.t1.t1"). A Java thread
 * acts for one process only.
 */
public final class RaceTransport implements Transport {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final String host;
    private final int port;
    private final String token;
    private final boolean iterates;
    private final Map<String, Proc> processes = new ConcurrentHashMap<>();
    /** The calling Java thread's thread id in each process it acts for. */
    private final ThreadLocal<Map<String, Integer>> bound = ThreadLocal.withInitial(HashMap::new);

    /** One process: its connection, its main Java thread and its threads of the current run. */
    private static final class Proc {
        final RaceConnection connection;
        volatile Thread main;
        final AtomicInteger nextId = new AtomicInteger(1);
        final Map<Integer, String> names = new ConcurrentHashMap<>();
        final Map<String, Integer> clones = new ConcurrentHashMap<>();
        final List<ClientThread> started = new ArrayList<>();
        volatile boolean exited;

        Proc(RaceConnection connection, String name) {
            this.connection = connection;
            names.put(0, name);
        }

        void reset(String name) {
            nextId.set(1);
            names.clear();
            names.put(0, name);
            clones.clear();
            synchronized (started) {
                started.clear();
            }
            exited = false;
        }
    }

    /**
     * Connects each process on its first use to {@code host:port}; with
     * {@code iterates} the processes say they run their part once per seed
     * ({@link Race#iterate}).
     *
     * @param host the server's address
     * @param port its port
     * @param token its token, or null
     * @param iterates whether the program runs its part once per seed (a persistent client)
     */
    public RaceTransport(String host, int port, String token, boolean iterates) {
        this.host = host;
        this.port = port;
        this.token = token;
        this.iterates = iterates;
    }

    private Proc proc(String process) {
        return processes.computeIfAbsent(process, p -> new Proc(new RaceConnection(group, host, port, p, token, iterates), p));
    }

    /**
     * Whether the server is a seeded one (it interleaves the calls under a seed); connects the process.
     *
     * @param process the process's name
     * @return whether it is
     */
    public boolean seeded(String process) {
        return proc(process).connection.seeded();
    }

    /**
     * The seed of the run the process joined; connects the process.
     *
     * @param process the process's name
     * @return a seeded server's seed; 0 otherwise
     */
    public long seed(String process) {
        return proc(process).connection.seed();
    }

    /** The calling thread's id in {@code p}: bound already, or the main thread when the process has none yet. */
    private int threadId(String process, Proc p) {
        Integer id = bound.get().get(process);
        if (id != null) {
            return id;
        }
        Thread me = Thread.currentThread();
        synchronized (p) {
            if (p.main == null || p.main == me) {
                p.main = me;
                bound.get().put(process, 0);
                return 0;
            }
        }
        if (p.connection.seeded()) {
            throw new IllegalStateException("Java thread '" + me.getName() + "' is not a thread of process " + process
                    + ": against a seeded server every thread but a process's first is started with"
                    + " ClientThread.start (and a Java thread acts for one process only)");
        }
        int fresh = p.nextId.getAndIncrement();
        p.connection.threadStart(fresh, 0, false, me.getName());
        bound.get().put(process, fresh);
        return fresh;
    }

    @Override
    public SyscallResult call(String process, Syscall call) {
        Proc p = proc(process);
        Reply r = p.connection.call(threadId(process, p), call);
        if (call.hasExit() && r.getResult().getErrno() == 0) {
            p.exited = true;
        }
        return r.getResult();
    }

    /** Starts {@code body} as a new thread of the process, announced by the calling thread (its parent). */
    ClientThread startThread(String process, Runnable body) {
        Proc p = proc(process);
        int parent = threadId(process, p);
        int child = p.nextId.getAndIncrement();
        String parentName = p.names.get(parent);
        String name = parentName + ".t" + p.clones.merge(parentName, 1, Integer::sum);
        p.names.put(child, name);
        p.connection.threadStart(child, parent, true, name);
        ClientThread ct = new ClientThread(this, process, child, name);
        synchronized (p.started) {
            p.started.add(ct);
        }
        Thread t = Thread.ofPlatform().name(name).unstarted(() -> {
            bound.get().put(process, child);
            try {
                body.run();
            } catch (Throwable e) {
                ct.failed(e);
            } finally {
                bound.get().remove(process);
                if (!p.exited) {
                    p.connection.threadExit(child);
                }
            }
        });
        ct.thread(t);
        t.start();
        return ct;
    }

    /** The calling thread waits for {@code t} in the kernel (so that others run), then for the Java thread. */
    void join(ClientThread t) {
        Proc p = proc(t.process());
        if (!p.exited && p.connection.seeded()) {
            p.connection.call(threadId(t.process(), p), Syscall.newBuilder().setJoin(Join.newBuilder()
                    .setThreadId(t.id())).build());
        }
        synchronized (p.started) {
            p.started.remove(t);
        }
    }

    /**
     * Ends the process's part of this run: joins the threads it started and
     * did not join, then exits with {@code status} (as its main thread).
     */
    void exit(String process, int status) {
        Proc p = processes.get(process);
        if (p == null || p.exited) {
            return;
        }
        List<ClientThread> left;
        synchronized (p.started) {
            left = List.copyOf(p.started);
        }
        for (ClientThread t : left) {
            t.join();
        }
        p.connection.call(0, Syscall.newBuilder().setExit(Exit.newBuilder().setStatus(status)).build());
        p.exited = true;
    }

    /** Waits for the seeded server's next run of this persistent process; its seed, or null when there is none. */
    Long awaitAgain(String process) {
        Proc p = proc(process);
        Long seed = p.connection.awaitAgain();
        if (seed != null) {
            p.reset(process);
        }
        return seed;
    }

    /** Exits every process that has not (status 0), then closes the connections. */
    @Override
    public void close() {
        for (String name : List.copyOf(processes.keySet())) {
            try {
                exit(name, 0);
            } catch (RuntimeException e) {
                // the connection is gone already
            }
        }
        processes.values().forEach(p -> p.connection.close());
        processes.clear();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
