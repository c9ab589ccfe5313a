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
    /** A request of a named process, and where its result goes. */
    private record Work(String process, Syscall call, Consumer<SyscallResult> done) {
    }

    private static final Work STOP = new Work("", Syscall.getDefaultInstance(), r -> { });
    /** Marks a status question (answered with the live processes). */
    private static final Syscall STATUS = Syscall.newBuilder().setSleep(dev.gemulator.proto.v1.Sleep.newBuilder()
            .setMilliseconds(-1)).build();
    /** Marks the exit of a process whose connection went away (it may have exited already). */
    private static final Syscall GONE = Syscall.newBuilder().setExit(Exit.getDefaultInstance()).build();

    private final Machine machine;
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
    public boolean submit(String process, Syscall call, Consumer<SyscallResult> done) {
        return inbox.offer(new Work(process, call, done));
    }

    /** The process exits (its connection went away): queued behind its requests, never refused. */
    public void exitProcess(String process) {
        try {
            inbox.put(new Work(process, GONE, r -> { }));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Answers with the names of the live processes, from the simulation thread (false when the inbox is full). */
    public boolean status(Consumer<java.util.List<String>> answer) {
        return inbox.offer(new Work("", STATUS, r -> answer.accept(
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
            if (w == STOP) {
                return;
            }
            if (w.call() == STATUS) {
                w.done().accept(null);
            } else if (w.call() == GONE) {
                dispatcher.exitIfLive(w.process());
            } else {
                w.done().accept(dispatcher.execute(w.process(), w.call()));
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
