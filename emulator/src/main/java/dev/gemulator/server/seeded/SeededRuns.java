package dev.gemulator.server.seeded;

import dev.gemulator.server.shim.Anchors;
import dev.gemulator.server.shim.DeviceTree;
import dev.gemulator.server.shim.TmpfsShmem;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a seeded server serves: its runs, one after the other ({@link #next}),
 * and the connections of the client processes in them (the transport's
 * seeded server listens and hands each connection's messages to its
 * {@link SeededConnection}); their system calls run in the current
 * {@link SeededRun}. The persistent clients of one run (Hello.iterates)
 * that exited cleanly join the next one and are told so with Again; every
 * other client connects anew (a relaunched program).
 */
public final class SeededRuns implements AutoCloseable {
    private final PrintStream log;
    private final Set<SeededConnection> connections = ConcurrentHashMap.newKeySet();
    private volatile SeededRun current;
    private volatile int iteration = -1;

    /** No run yet ({@link #next} makes one); {@code log} is told what the runs do. */
    public SeededRuns(PrintStream log) {
        this.log = log;
    }

    /**
     * Readies the files of programs behind the C shim that connect to the
     * Unix socket at {@code path}: their emulated files' anchors at
     * PATH.anchors, object pages in a fresh directory under /dev/shm, the
     * device tree at PATH.root (before the socket exists: a program may
     * connect the moment it appears).
     */
    public void hostFiles(Path path) {
        anchors = Anchors.listen(path.resolveSibling(path.getFileName() + ".anchors"),
                ino -> { }); // a seeded run looks at its anchors at deterministic points (close, exit), never from here
        shmem = TmpfsShmem.fresh();
        tree = DeviceTree.make(path.resolveSibling(path.getFileName() + ".root"));
    }

    private volatile Anchors anchors;
    private volatile TmpfsShmem shmem;
    private volatile DeviceTree tree;

    /** Where the emulated files of programs behind the C shim anchor, or null without a Unix socket. */
    Anchors anchors() {
        return anchors;
    }

    /** The device tree programs behind the C shim see, or null without a Unix socket. */
    Path treePath() {
        return tree == null ? null : tree.root();
    }

    PrintStream log() {
        return log;
    }

    void add(SeededConnection c) {
        connections.add(c);
    }

    void remove(SeededConnection c) {
        connections.remove(c);
    }

    /** The run new connections join, or null before the first {@link #next}. */
    public SeededRun current() {
        return current;
    }

    /** The index of the current run (0 for the first). */
    public int iteration() {
        return iteration;
    }

    /**
     * Makes the next run current. The persistent clients of the previous
     * one join it (each gets Again with its seed); a client still waiting
     * for a reply of a run that ended without answering it is disconnected.
     */
    public synchronized SeededRun next(SeededRun.Config config) {
        SeededRun run = new SeededRun(config, log);
        if (anchors != null) {
            run.hostFiles(anchors, shmem, tree);
        }
        int it = ++iteration;
        current = run;
        run.finished().whenComplete((r, t) -> connections.forEach(c -> c.runEnded(run)));
        for (SeededConnection c : connections) {
            c.again(run, it);
        }
        return run;
    }

    /** The processes connected as persistent clients ready for the next run (they exited the last one cleanly). */
    public Set<String> persistentProcesses() {
        Set<String> out = new TreeSet<>();
        for (SeededConnection c : connections) {
            String p = c.persistentProcess();
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    /** Whether process {@code name} is connected as a persistent client (it said Hello.iterates). */
    public boolean iterating(String name) {
        for (SeededConnection c : connections) {
            if (c.iterating(name)) {
                return true;
            }
        }
        return false;
    }

    /** Stops the current run (the transport has closed every connection). */
    public void abort(String reason) {
        SeededRun run = current;
        if (run != null) {
            run.abort(reason);
        }
    }

    /** Removes the files of programs behind the C shim, if any. */
    @Override
    public void close() {
        if (anchors != null) {
            anchors.close();
            shmem.close();
            tree.delete();
        }
    }
}
