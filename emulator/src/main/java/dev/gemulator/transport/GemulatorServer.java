package dev.gemulator.transport;

import dev.gemulator.kernel.Profile;
import dev.gemulator.lockstep.LockstepRun;
import dev.gemulator.proto.v1.Again;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.server.Limits;
import dev.gemulator.server.Simulation;
import dev.gemulator.server.shim.Anchors;
import dev.gemulator.server.shim.DeviceTree;
import dev.gemulator.server.shim.TmpfsShmem;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The server of a simulation: client processes connect on a TCP port
 * (loopback unless told otherwise) and, with {@link #listenUnix}, a Unix
 * domain socket; one simulation thread owns the emulated machine. It runs
 * free (each request as it comes, {@link FreeRunningHandler}) or one
 * lockstep run of a scenario ({@link LockstepHandler}); either way every
 * connection goes through the same pipeline ({@link WireInitializer}).
 */
public final class GemulatorServer implements AutoCloseable {
    /** The largest frame accepted (a 1 MiB write plus the envelope). */
    public static final int DEFAULT_MAX_FRAME_BYTES = (1 << 20) + 4096;

    private final Simulation simulation;
    private final LockstepRun lockstepRun;
    private final WireInitializer pipeline;
    private final Listener tcp;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Listener unix;
    private volatile Anchors anchors;
    private volatile TmpfsShmem shmem;
    private volatile DeviceTree tree;

    /** Starts a free-running server on {@code host:port} (port 0: any free port). */
    public static GemulatorServer start(String host, int port, Profile profile, int maxFrameBytes, String token,
            int inboxCapacity) throws InterruptedException {
        return start(host, port, new Simulation(profile, inboxCapacity), null, maxFrameBytes, token);
    }

    /** Starts a free-running server on a simulation of its own making (a traced one). */
    public static GemulatorServer start(String host, int port, Simulation simulation, int maxFrameBytes, String token)
            throws InterruptedException {
        return start(host, port, simulation, null, maxFrameBytes, token);
    }

    /** Starts a server for one lockstep run (already started). */
    public static GemulatorServer startLockstep(String host, int port, LockstepRun run, int maxFrameBytes, String token)
            throws InterruptedException {
        return startLockstep(host, port, run, maxFrameBytes, token, Limits.DEFAULT);
    }

    /** As above, with a limit on connections ({@code limits.maxClients()}). */
    public static GemulatorServer startLockstep(String host, int port, LockstepRun run, int maxFrameBytes, String token,
            Limits limits) throws InterruptedException {
        return start(host, port, new Simulation(Profile.MODERN, 1, null, System.err, limits), run, maxFrameBytes, token);
    }

    private static GemulatorServer start(String host, int port, Simulation sim, LockstepRun run, int maxFrameBytes,
            String token) throws InterruptedException {
        WireInitializer pipeline = pipeline(sim, run, maxFrameBytes, token);
        Listener tcp;
        try {
            tcp = Listener.tcp(host, port, pipeline);
        } catch (InterruptedException | RuntimeException e) {
            sim.close();
            throw e;
        }
        GemulatorServer server = new GemulatorServer(sim, run, pipeline, tcp);
        sim.failure().thenAccept(t -> {
            // nothing can be answered any more: say why to everyone and stop listening
            tcp.stopListening();
            if (server.unix != null) {
                server.unix.stopListening();
            }
            pipeline.closeAll("the server stopped: its simulation thread failed (" + t + ")");
        });
        return server;
    }

    /**
     * The pipeline of a free-running server (run null) or of a lockstep
     * run's: the same handshake, the one handler of the mode behind it.
     */
    static WireInitializer pipeline(Simulation sim, LockstepRun run, int maxFrameBytes, String token) {
        ConcurrentMap<String, Channel> processes = new ConcurrentHashMap<>();
        WireInitializer.Mode mode;
        if (run == null) {
            mode = new WireInitializer.Mode() {
                @Override
                public String stopped() {
                    return sim.failure().isDone() ? "the server has stopped: its simulation failed" : null;
                }

                @Override
                public FreeRunningHandler newConnection(Channel channel) {
                    return new FreeRunningHandler(sim, maxFrameBytes, processes);
                }
            };
        } else {
            ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
            run.onAgain((iteration, seed) -> clients.writeAndFlush(ServerMessage.newBuilder().setAgain(
                    Again.newBuilder().setIteration(iteration).setSeed(seed)).build()));
            mode = new WireInitializer.Mode() {
                @Override
                public String stopped() {
                    return sim.failure().isDone() ? "the server has stopped: its simulation failed" : null;
                }

                @Override
                public LockstepHandler newConnection(Channel channel) {
                    return new LockstepHandler(run, sim.limits(), maxFrameBytes, processes, clients);
                }
            };
        }
        return new WireInitializer(sim.limits(), sim.limits().maxClients(), maxFrameBytes, token, mode);
    }

    private GemulatorServer(Simulation simulation, LockstepRun run, WireInitializer pipeline, Listener tcp) {
        this.simulation = simulation;
        this.lockstepRun = run;
        this.pipeline = pipeline;
        this.tcp = tcp;
    }

    public int port() {
        return tcp.port();
    }

    /**
     * Serves the same clients on a Unix domain socket at {@code path} too:
     * the same connections table (one connection per process, whichever
     * transport), the same simulation; it closes with the server.
     */
    public Listener listenUnix(Path path) throws InterruptedException {
        return listenUnix(path, null);
    }

    /**
     * As above, and ready for programs behind the C shim: their emulated
     * files' anchors listen at PATH.anchors, and object pages become real
     * shared memory, files in {@code shmDir} (a tmpfs; null: a fresh
     * directory under /dev/shm).
     */
    public Listener listenUnix(Path path, Path shmDir) throws InterruptedException {
        if (lockstepRun == null) {
            // ready before the socket exists: a program may connect the moment it appears
            anchors = Anchors.listen(path.resolveSibling(path.getFileName() + ".anchors"), simulation::anchorGone);
            shmem = shmDir != null ? new TmpfsShmem(shmDir) : TmpfsShmem.fresh();
            tree = DeviceTree.make(path.resolveSibling(path.getFileName() + ".root"));
            simulation.hostFiles(anchors, shmem, tree);
        }
        Listener u = Listener.unix(path, pipeline);
        unix = u;
        return u;
    }

    public Simulation simulation() {
        return simulation;
    }

    /** Connections open now, those that have not said Hello included. */
    public int connections() {
        return pipeline.connections();
    }

    /** Direct memory the server's connections hold now (partial frames, replies not yet sent). */
    public static long bufferBytes() {
        return Listener.bufferBytes();
    }

    /** Closes the listening sockets, then the connections, then finishes the queued work. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        tcp.close();
        if (unix != null) {
            unix.close();
        }
        simulation.close();
        if (anchors != null) {
            anchors.close();
        }
        if (shmem != null) {
            shmem.close();
        }
        if (tree != null) {
            tree.delete();
        }
    }
}
