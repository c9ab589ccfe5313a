package dev.gemulator.server;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.Exit;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;

/**
 * The one thread that owns the emulated machine. Connections hand it work
 * through a bounded inbox; it runs each request to completion in arrival
 * order (the free-running mode) and hands the result back. Nothing else
 * touches the machine.
 */
public final class Simulation implements AutoCloseable {
    /** What the simulation thread does next. */
    private enum Kind { CALL, THREAD_START, THREAD_EXIT, GONE, STATUS, STOP }

    /** One piece of work: a request of a thread of a named process (and where its result goes), or a control event. */
    private record Work(Kind kind, String process, int thread, String name, Syscall call, Consumer<SyscallResult> done) {
        static Work control(Kind kind, String process, int thread, String name, Consumer<SyscallResult> done) {
            return new Work(kind, process, thread, name, null, done);
        }
    }

    private static final Work STOP = Work.control(Kind.STOP, "", 0, "", r -> { });

    private final Machine machine;
    private volatile long executed;
    private final SyscallDispatcher dispatcher;
    private final BlockingQueue<Work> inbox;
    private final Thread thread;
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> waitingForRoom =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    public Simulation(Profile profile, int inboxCapacity) {
        this.machine = new Machine(profile);
        this.dispatcher = new SyscallDispatcher(machine);
        this.inbox = new ArrayBlockingQueue<>(inboxCapacity);
        this.thread = Thread.ofPlatform().name("gemulator-simulation").daemon().start(this::loop);
    }

    public Machine machine() {
        return machine;
    }

    /** How many requests have run so far. */
    public long executed() {
        return executed;
    }

    /** Runs {@code r} once (on the simulation thread) when the inbox next has room. */
    public void whenRoom(Runnable r) {
        waitingForRoom.add(r);
        if (inbox.remainingCapacity() > 0) {
            runWaiting();
        }
    }

    private void runWaiting() {
        Runnable r;
        while ((r = waitingForRoom.poll()) != null) {
            r.run();
        }
    }

    /**
     * Queues a request; {@code done} runs on the simulation thread with the
     * result. Returns false when the inbox is full (the caller stops reading
     * its connection and retries from {@link #whenRoom}).
     */
    public boolean submit(String process, int thread, Syscall call, Consumer<SyscallResult> done) {
        return inbox.offer(new Work(Kind.CALL, process, thread, "", call, done));
    }

    /** A thread of the process starts (its own kernel task from now on); false when the inbox is full. */
    public boolean threadStart(String process, int thread, String name) {
        return inbox.offer(Work.control(Kind.THREAD_START, process, thread, name, r -> { }));
    }

    /** A thread of the process ended; false when the inbox is full. */
    public boolean threadExit(String process, int thread) {
        return inbox.offer(Work.control(Kind.THREAD_EXIT, process, thread, "", r -> { }));
    }

    /** The process exits (its connection went away): queued behind its requests, never refused. */
    public void exitProcess(String process) {
        try {
            inbox.put(Work.control(Kind.GONE, process, 0, "", r -> { }));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Answers with the names of the live processes, from the simulation thread (false when the inbox is full). */
    public boolean status(Consumer<java.util.List<String>> answer) {
        return inbox.offer(Work.control(Kind.STATUS, "", 0, "", r -> answer.accept(
                machine.kernel().processes().stream().map(dev.gemulator.kernel.proc.Process::name).toList())));
    }

    private void loop() {
        while (true) {
            Work w;
            try {
                w = inbox.take();
            } catch (InterruptedException e) {
                return;
            }
            switch (w.kind()) {
                case STOP -> {
                    return;
                }
                case STATUS -> w.done().accept(null);
                case GONE -> dispatcher.exitIfLive(w.process());
                case THREAD_START -> dispatcher.threadStart(w.process(), w.thread(), w.name());
                case THREAD_EXIT -> dispatcher.threadExit(w.process(), w.thread());
                case CALL -> {
                    SyscallResult r = dispatcher.execute(w.process(), w.thread(), w.call());
                    executed++;
                    w.done().accept(r);
                }
            }
            if (!waitingForRoom.isEmpty()) {
                runWaiting();
            }
        }
    }

    /** Finishes what is queued, then stops. */
    @Override
    public void close() {
        try {
            inbox.put(STOP);
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
