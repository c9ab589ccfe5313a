package dev.gemulator.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.gemulator.Machine;
import dev.gemulator.check.FindingKey;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.drm.DrmDebugfs;
import dev.gemulator.kernel.proc.Credentials;
import dev.gemulator.kernel.uapi.IoctlCmd;
import dev.gemulator.kernel.uapi.IoctlTable;
import dev.gemulator.proto.v1.ShimHello;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.sched.TaskHungException;
import dev.gemulator.server.shim.Anchors;
import dev.gemulator.server.shim.DeviceTree;
import dev.gemulator.server.shim.HostCalls;
import dev.gemulator.server.shim.TmpfsShmem;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The one thread that owns the emulated machine. Connections hand it work
 * through a bounded inbox, each through a {@link Session} of its own; it runs
 * each item to completion and hands the result back. Within a session items
 * run in the order they came; between sessions the inbox is fair
 * ({@link FairInbox}): the session that has used the least simulation time
 * goes next, so no connection's flood delays another's call by more than
 * one of its items. Nothing else touches the machine.
 *
 * <p>An exception of the emulator while running a call is answered
 * ENOTRECOVERABLE and the server goes on; an {@link Error} (an
 * OutOfMemoryError above all) ends the simulation: it is logged with its
 * stack, the trace is ended and flushed, {@link #failure()} completes, and
 * the server that owns it closes every connection with the reason and
 * stops (the serve command exits with {@link #FAILED_EXIT_STATUS}).
 *
 * <p>Time: the machine's clock moves with the server's own (monotonic) time,
 * so a vgem fence nobody signals expires 10 s after it was attached and the
 * timeouts of programs behind the C shim last what they say: such a call
 * that waits (poll with a timeout, sleep) does not hold the thread, it is
 * parked, looked at again whenever something woke the kernel's wait queues
 * (a fence signalled) and answered when ready, at its deadline, or when its
 * caller cancels it. Emulated processes (the Java client, the wire) keep
 * virtual time: their waits end at once, moving the clock to their end.
 */
public final class Simulation implements AutoCloseable {
    /** The serve command's exit status when the simulation thread failed. */
    public static final int FAILED_EXIT_STATUS = 70;

    /** What the simulation thread does next. */
    private enum Kind { CALL, THREAD_START, THREAD_EXIT, GONE, CONTROL, DEBUGFS, STOP, CANCEL }

    /**
     * What a call gives back: its result and the descriptors (of this JVM) to
     * pass to the caller just before it, with SCM_RIGHTS; {@code passed}
     * runs once they are written.
     */
    public record Answer(SyscallResult result, List<Integer> fds, Runnable passed) {
        static Answer of(SyscallResult r) {
            return new Answer(r, List.of(), () -> { });
        }
    }

    /**
     * One piece of work: a request of a thread of a named process (and where
     * its result goes), a control event, or debugfs views being written (a
     * slice a turn, and where the text goes). {@code requestId} names a
     * call of a program behind the shim for {@link Session#cancel} (for GONE:
     * the main connection that went).
     */
    private record Work(Kind kind, String process, int thread, String name, Syscall call, long requestId,
            Consumer<Answer> reply, Runnable control, DebugfsSlices slices, Consumer<String> answer) {
        static Work control(Kind kind, String process, int thread, String name) {
            return new Work(kind, process, thread, name, null, 0, a -> { }, null, null, null);
        }

        static Work call(String process, int thread, Syscall call, long requestId, Consumer<Answer> reply) {
            return new Work(Kind.CALL, process, thread, "", call, requestId, reply, null, null, null);
        }

        static Work run(Runnable r) {
            return new Work(Kind.CONTROL, "", 0, "", null, 0, null, r, null, null);
        }

        static Work debugfs(DebugfsSlices slices, Consumer<String> answer) {
            return new Work(Kind.DEBUGFS, "", 0, "", null, 0, null, null, slices, answer);
        }
    }

    /** A waiting call: its work, the same call with timeout 0, and when it gives up (server clock). */
    private record Parked(Work work, Syscall once, long deadlineNanos) {
    }

    /**
     * One connection's way into the simulation: its items run in order, and
     * it is charged the simulation time they take.
     */
    public final class Session {
        private final String process;
        private final FairInbox<Work>.Queue queue;
        /** Bytes of room reserved for the next item, or -1 (used by one connection's event loop only). */
        private long reservation = -1;

        private Session(String process) {
            this.process = process;
            this.queue = inbox.newQueue();
        }

        /**
         * Queues a request; {@code done} runs on the simulation thread with
         * the result. Returns false when the inbox is full (the caller stops
         * reading its connection and retries from {@link #whenRoom}).
         */
        public boolean submit(int thread, Syscall call, Consumer<SyscallResult> done) {
            return offer(Work.call(process, thread, call, 0, a -> done.accept(a.result())), call.getSerializedSize());
        }

        /**
         * As above, for a caller that can receive descriptors (a Unix socket
         * connection of a program behind the C shim): {@code answer} gets them
         * with the result. {@code requestId} names the call for {@link #cancel}.
         */
        public boolean submit(int thread, long requestId, Syscall call, Consumer<Answer> answer) {
            return offer(Work.call(process, thread, call, requestId, answer), call.getSerializedSize());
        }

        /** Answers a waiting call of the thread now, with what is ready (false when the inbox is full). */
        public boolean cancel(int thread, long requestId) {
            return offer(new Work(Kind.CANCEL, process, thread, "", null, requestId, a -> { }, null, null, null));
        }

        /** A thread of a program behind the shim ended (its connection went away): queued, never refused. */
        public void threadGone(int thread) {
            if (!failure.isDone()) {
                inbox.put(queue, Work.control(Kind.THREAD_EXIT, process, thread, ""));
            }
        }

        /**
         * The main connection {@code connection} of a program behind the shim
         * went away: its process exits, unless that connection is no longer the
         * process's (an exec's new program connected already). Never refused.
         */
        public void gone(long connection) {
            if (!failure.isDone()) {
                inbox.put(queue, new Work(Kind.GONE, process, 0, "", null, connection, a -> { }, null, null, null));
            }
        }

        /** A thread of the process starts (its own kernel task from now on); false when the inbox is full. */
        public boolean threadStart(int thread, String name) {
            return offer(Work.control(Kind.THREAD_START, process, thread, name));
        }

        /** A thread of the process ended; false when the inbox is full. */
        public boolean threadExit(int thread) {
            return offer(Work.control(Kind.THREAD_EXIT, process, thread, ""));
        }

        /** The process exits (its connection went away): queued behind its requests, never refused. */
        public void gone() {
            if (failure.isDone()) {
                return;
            }
            inbox.put(queue, Work.control(Kind.GONE, process, 0, ""));
        }

        /**
         * Answers with the debugfs views of the device (at most {@link
         * Limits#MAX_DEBUGFS_BYTES}), written a slice per turn of this
         * session ({@link DebugfsSlices}); false when the inbox is full.
         */
        public boolean debugfs(Consumer<String> answer) {
            return offer(Work.debugfs(new DebugfsSlices(machine.kernel()), answer));
        }

        /** Answers with the names of the live processes; false when the inbox is full. */
        public boolean status(Consumer<List<String>> answer) {
            return offer(Work.run(() -> answer.accept(machine.kernel().processes().stream()
                    .map(dev.gemulator.kernel.proc.Process::name).toList())));
        }

        /** Items of this session waiting in the inbox. */
        public int waiting() {
            return queue.size();
        }

        /** The simulation time this session's work has taken. */
        public long chargedNanos() {
            return queue.chargedNanos();
        }

        /**
         * Reserves room in the inbox for the next item, of {@code bytes}, before
         * its frame is decoded; false when the inbox is full (try again from
         * {@link #whenRoom}). The next offer of this session uses it.
         */
        public boolean reserve(long bytes) {
            if (reservation >= 0) {
                throw new IllegalStateException("a reservation is held already");
            }
            if (failure.isDone() || !inbox.reserve(bytes)) {
                return false;
            }
            reservation = bytes;
            return true;
        }

        /** Whether room is reserved for the next item. */
        public boolean reserved() {
            return reservation >= 0;
        }

        /** Gives back the reservation, if one is held (its frame needed no simulation). */
        public void unreserve() {
            if (reservation >= 0) {
                inbox.unreserve(reservation);
                reservation = -1;
            }
        }

        private boolean offer(Work w) {
            return offer(w, 64);
        }

        private boolean offer(Work w, long bytes) {
            if (failure.isDone()) {
                unreserve();
                return false;
            }
            if (reservation >= 0) {
                inbox.offerReserved(queue, w, reservation);
                reservation = -1;
                return true;
            }
            return inbox.offer(queue, w, bytes);
        }
    }

    private static final Work STOP = Work.control(Kind.STOP, "", 0, "");
    private final List<Parked> parked = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    private long lastTickNanos = startNanos;
    private long wakesSeen;
    private long nextExecCheckNanos;
    /** What a STOP that waits for others is charged, so that they go first. */
    private static final long STOP_NANOS = 1_000_000_000L;

    private final Machine machine;
    private volatile long executed;
    private final Limits limits;
    private volatile ServerMetrics metrics;
    private final PrintStream log;
    private final TraceRecorder recorder;
    private final OutputStream traceStream;
    private int reported;
    /** "kind function" of every report, and "emulator-bug op" of every distinct bug, each once. */
    private final Set<FindingKey> findings = ConcurrentHashMap.newKeySet();
    private final List<FindingKey> findingsInOrder = new CopyOnWriteArrayList<>();
    private final SyscallDispatcher dispatcher;
    private final FairInbox<Work> inbox;
    private final Session internal;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> waitingForRoom =
            new ConcurrentLinkedQueue<>();
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    /** Freed when the thread fails, so that ending the trace has memory to work with. */
    private byte[] reserve = new byte[1 << 20];

    public Simulation(Profile profile, int inboxCapacity) {
        this(profile, inboxCapacity, null, System.err);
    }

    /**
     * With a {@code trace} stream, records every request (in the order they
     * run, numbered), its kernel steps, its result line and every report;
     * the trace is flushed whenever the inbox runs empty and at every
     * report, and ends when the simulation closes. Reports also go to
     * {@code log} as they happen.
     */
    public Simulation(Profile profile, int inboxCapacity, OutputStream trace, PrintStream log) {
        this(profile, inboxCapacity, trace, log, Limits.DEFAULT);
    }

    /** As above, with the server's {@code limits} applied to the device and its processes. */
    public Simulation(Profile profile, int inboxCapacity, OutputStream trace, PrintStream log,
            Limits limits) {
        this.machine = new Machine(profile);
        this.limits = limits;
        machine.scheduler().interruptEndlessSleeps(true);
        machine.kernel().setIdrBudget(limits.maxIdSlots());
        machine.kernel().devices().forEach(d -> {
            d.setMemoryLimit(limits.deviceMemoryBytes());
            d.setObjectLimit(limits.maxObjectsPerDevice());
            d.setHandleLimit(limits.maxHandlesPerFile());
            d.setFenceSlotLimit(limits.maxFenceSlotsPerObject());
            d.setFenceIdLimit(limits.maxFenceIdsPerFile());
        });
        this.log = log;
        if (trace != null) {
            recorder = new TraceRecorder(machine.kernel(), TraceHeader
                    .newBuilder().setEmulatorVersion(Traces.EMULATOR_VERSION)
                    .setScenarioPath("(free-running server)").setProfile(profile.name()).setStrategy("arrival")
                    .setFormatVersion(Traces.FORMAT_VERSION)
                    .build(), trace);
            machine.observe(recorder);
            traceStream = trace;
        } else {
            recorder = null;
            traceStream = null;
        }
        this.dispatcher = new SyscallDispatcher(machine, limits.maxFdsPerProcess(), limits);
        this.inbox = new FairInbox<>(inboxCapacity, Limits.INBOX_BYTES);
        this.internal = new Session("");
        this.thread = Thread.ofPlatform().name("gemulator-simulation").daemon().start(this::loop);
    }

    public Machine machine() {
        return machine;
    }

    /**
     * A session for the connection of {@code process}, or of an observer
     * that said Hello as {@code process} ({@link #waiting} knows it as
     * "observer:" and its name).
     */
    public Session session(String process, boolean observer) {
        Session s = new Session(observer ? "" : process);
        sessions.put(observer ? "observer:" + process : process, s);
        return s;
    }

    /** A session for connection {@code thread} (k > 0) of a program behind the shim, process {@code process}. */
    public Session threadSession(String process, int thread) {
        Session s = new Session(process);
        sessions.put(process + ".t" + thread, s);
        return s;
    }

    /** Forgets the session of a connection that closed (its work still runs). */
    public void forget(Session session) {
        sessions.values().remove(session);
    }

    /** Starts counting into {@code metrics} (before requests arrive). */
    public void metrics(ServerMetrics metrics) {
        this.metrics = metrics;
        // the device gauges are copied on this thread when scraped, not after every request
        metrics.beforeScrape(() -> {
            var copied = new CompletableFuture<Void>();
            if (internal.offer(Work.run(() -> {
                metrics.devices(machine.kernel());
                copied.complete(null);
            }))) {
                try {
                    copied.get(1, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    // busy: the scrape shows the values copied last time
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
    }

    public Limits limits() {
        return limits;
    }

    /** How many requests have run so far. */
    public long executed() {
        return executed;
    }

    /** Completes with the Error that ended the simulation thread (never, while it runs). */
    public CompletableFuture<Throwable> failure() {
        return failure;
    }

    /** Runs {@code r} once (on the simulation thread) when the inbox next has room. */
    public void whenRoom(Runnable r) {
        waitingForRoom.add(r);
        if (inbox.hasRoom()) {
            runWaiting();
        }
    }

    private void runWaiting() {
        Runnable r;
        while ((r = waitingForRoom.poll()) != null) {
            r.run();
        }
    }

    /** How many items of {@code process}'s connection wait in the inbox now (a glance for tests and status). */
    public int waiting(String process) {
        Session s = sessions.get(process);
        return s == null ? 0 : s.waiting();
    }

    /**
     * Runs {@code answer} on the simulation thread with the debugfs views
     * of the device, written in one go (false when the inbox is full).
     */
    public boolean debugfs(Consumer<String> answer) {
        return internal.offer(Work.run(() -> answer.accept(debugfsText())));
    }

    private volatile long injectErrorAfter = -1;

    /** Testing: the simulation thread throws an OutOfMemoryError instead of running request {@code n}+1. */
    public void injectErrorAfter(long n) {
        this.injectErrorAfter = n;
    }

    /**
     * Runs {@code r} on the simulation thread as the server's own work, the
     * only thread that may touch the machine (tests and benchmarks set up a
     * device with it; what it throws is the thread's). False when the inbox is full.
     */
    public boolean runOnSimulationThread(Runnable r) {
        return internal.offer(Work.run(r));
    }

    /** Runs {@code r} on the simulation thread, in turn, whether or not the inbox is full. */
    public void onThread(Runnable r) {
        if (!failure.isDone()) {
            inbox.put(internal.queue, Work.run(r));
        }
    }

    /** The server's clock: nanoseconds since it started (the machine's clock follows it). */
    public long serverNanos() {
        return System.nanoTime() - startNanos;
    }

    private volatile Path anchors;
    private volatile Path tree;

    /**
     * Programs behind the C shim: their emulated files' anchors listen at
     * {@code anchorsListener}, object pages go to {@code shmem}'s files, the
     * device tree they see is {@code tree}.
     */
    public void hostFiles(Anchors anchorsListener, TmpfsShmem shmem,
            DeviceTree tree) {
        this.anchors = anchorsListener.path();
        this.tree = tree.root();
        onThread(() -> {
            dispatcher.host().anchors(anchorsListener);
            dispatcher.host().shmem(shmem);
            dispatcher.host().tree(tree);
        });
    }

    /** The device tree programs behind the shim see, or null before {@link #hostFiles}. */
    public Path treePath() {
        return tree;
    }

    /** Where anchors connect, or null before {@link #hostFiles}. */
    public Path anchorsPath() {
        return anchors;
    }

    /** An anchor went without a word from its program (the watcher saw it). */
    public void anchorGone(long ino) {
        onThread(() -> dispatcher.host().anchorGone(ino));
    }

    /**
     * A connection of a program behind the C shim says who it is; {@code answer}
     * gets (on the simulation thread) the process and thread it is, or why not.
     */
    public void shimHello(String name, ShimHello hello, Credentials peer,
            long connection, Consumer<HostCalls.Joined> answer) {
        onThread(() -> {
            var joined = dispatcher.shimHello(name, hello, peer, connection);
            newReports();
            answer.accept(joined);
        });
    }

    /** The debugfs views, cut at {@link Limits#MAX_DEBUGFS_BYTES}. */
    private String debugfsText() {
        String text = DrmDebugfs.all(machine.kernel());
        if (text.length() <= Limits.MAX_DEBUGFS_BYTES) {
            return text;
        }
        int cut = text.lastIndexOf('\n', Limits.MAX_DEBUGFS_BYTES - 200) + 1;
        return text.substring(0, cut) + "... (cut: the views have " + text.length() + " characters, an answer at most "
                + Limits.MAX_DEBUGFS_BYTES + ")\n";
    }

    private void loop() {
        try {
            while (true) {
                long wait = waitNanos();
                FairInbox.Taken<Work> taken = inbox.take(wait < 0 ? Long.MAX_VALUE : wait);
                tick();
                if (taken == null) { // a parked call's deadline, a kernel timer or the exec check is due
                    lookAgain();
                    continue;
                }
                Work w = taken.item();
                long t0 = System.nanoTime();
                if (w.kind() == Kind.STOP) {
                    if (!inbox.isEmpty()) { // what other sessions queued before it runs first
                        inbox.put(taken.queue(), STOP);
                        inbox.done(taken.queue(), STOP_NANOS);
                        continue;
                    }
                    endTrace(0, null);
                    return;
                }
                try {
                    if (w.kind() == Kind.DEBUGFS && !w.slices().slice()) {
                        inbox.putFirst(taken.queue(), w); // the rest at this session's next turn
                    } else {
                        run(w, t0);
                    }
                } catch (RejectedExecutionException e) {
                    // the answer's connection has gone with its event loop (the server is closing): nobody to tell
                } catch (RuntimeException e) { // a bug of ours outside a call (an answer, a control item): not fatal
                    log.println("gemulator: EMULATOR BUG on the simulation thread:");
                    e.printStackTrace(log);
                    log.flush();
                    finding(new FindingKey(FindingKey.Kind.EMULATOR_BUG, w.kind().name().toLowerCase(Locale.ROOT)));
                }
                lookAgain();
                inbox.done(taken.queue(), System.nanoTime() - t0);
                if (!waitingForRoom.isEmpty()) {
                    runWaiting();
                }
                if (recorder != null && inbox.isEmpty()) {
                    recorder.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) { // an Error: the machine's state is lost; say so and stop
            fail(t);
        }
    }

    private void run(Work w, long t0) {
        switch (w.kind()) {
            case STOP -> throw new IllegalStateException("STOP is handled by the loop");
            case CONTROL -> w.control().run();
            case DEBUGFS -> w.answer().accept(w.slices().text());
            case GONE -> {
                parked.removeIf(p -> p.work().process().equals(w.process()));
                dispatcher.exitIfLive(w.process(), w.requestId());
                newReports();
            }
            case THREAD_START -> dispatcher.threadStart(w.process(), w.thread(), w.name());
            case THREAD_EXIT -> {
                parked.removeIf(p -> p.work().process().equals(w.process()) && p.work().thread() == w.thread());
                dispatcher.threadExit(w.process(), w.thread());
            }
            case CANCEL -> cancelParked(w);
            case CALL -> call(w);
        }
    }

    /** Moves the machine's clock on by the server's time since the last tick (firing due timers). */
    private void tick() {
        long now = System.nanoTime();
        long elapsed = now - lastTickNanos;
        lastTickNanos = now;
        if (elapsed > 0) {
            machine.scheduler().advanceTo(clockNanos() + elapsed);
        }
    }

    private long clockNanos() {
        return machine.kernel().clock().nowNanos();
    }

    /** Runs a request; one of a program behind the shim that would wait is parked instead (see the class comment). */
    private void call(Work w) {
        Syscall once = dispatcher.isHost(w.process()) ? waitingCall(w.call()) : null;
        if (once == null) {
            w.reply().accept(run(w, w.call()));
            return;
        }
        long timeoutMs = timeoutMs(w.call());
        long deadline = timeoutMs < 0 ? Long.MAX_VALUE : clockNanos() + timeoutMs * 1_000_000L;
        Parked p = new Parked(w, once, deadline);
        if (w.call().hasSleep()) {
            parked.add(p);
            return;
        }
        Answer a = run(w, once);
        if (ready(a.result()) || timeoutMs == 0) {
            w.reply().accept(a);
        } else {
            parked.add(p);
        }
    }

    /** The same call with timeout 0, when {@code call} may wait (a poll with a timeout, a sleep); else null. */
    private static Syscall waitingCall(Syscall call) {
        if (call.hasPollFds() && call.getPollFds().getTimeoutMs() != 0) {
            return call.toBuilder().setPollFds(call.getPollFds().toBuilder().setTimeoutMs(0)).build();
        }
        if (call.hasPoll() && call.getPoll().getTimeoutMs() != 0) {
            return call.toBuilder().setPoll(call.getPoll().toBuilder().setTimeoutMs(0)).build();
        }
        if (call.hasSleep() && call.getSleep().getMilliseconds() > 0) {
            return call.toBuilder().setSleep(call.getSleep().toBuilder().setMilliseconds(0)).build();
        }
        return null;
    }

    private static long timeoutMs(Syscall call) {
        if (call.hasPollFds()) {
            return call.getPollFds().getTimeoutMs();
        }
        if (call.hasPoll()) {
            return call.getPoll().getTimeoutMs();
        }
        return call.getSleep().getMilliseconds();
    }

    /** Whether a waiting call's answer ends the wait: an error, or some fd ready. */
    private static boolean ready(SyscallResult r) {
        return r.getErrno() != 0 || r.getValuesCount() > 0 && r.getValues(0) != 0;
    }

    /** Answers parked calls that are ready (after a wake-up) or due. */
    private void lookAgain() {
        if (!parked.isEmpty()) {
            long wakes = machine.scheduler().wakes();
            boolean woken = wakes != wakesSeen;
            wakesSeen = wakes;
            long now = clockNanos();
            for (Parked p : List.copyOf(parked)) {
                boolean due = now >= p.deadlineNanos();
                if (!due && (!woken || p.work().call().hasSleep())) {
                    continue;
                }
                Answer a = run(p.work(), p.once());
                if (due || ready(a.result())) {
                    parked.remove(p);
                    p.work().reply().accept(a);
                }
            }
        }
        long now = System.nanoTime() - startNanos;
        if (now >= nextExecCheckNanos) {
            nextExecCheckNanos = now + 1_000_000_000L;
            dispatcher.exitLostInExec();
            newReports();
        }
    }

    private void cancelParked(Work c) {
        for (Parked p : List.copyOf(parked)) {
            Work w = p.work();
            if (w.process().equals(c.process()) && w.thread() == c.thread() && w.requestId() == c.requestId()) {
                parked.remove(p);
                w.reply().accept(run(w, p.once()));
            }
        }
    }

    /** How long the loop may wait for work: until the next parked deadline, kernel timer or exec check; -1 for ever. */
    private long waitNanos() {
        long next = Long.MAX_VALUE;
        for (Parked p : parked) {
            next = Math.min(next, p.deadlineNanos());
        }
        next = Math.min(next, machine.kernel().clock().nextDeadlineNanos());
        long wait = next == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, next - clockNanos());
        if (dispatcher.host().waitingForExec()) {
            wait = Math.min(wait, Math.max(0, nextExecCheckNanos - (System.nanoTime() - startNanos)));
        }
        return wait == Long.MAX_VALUE ? -1 : wait;
    }

    /** Runs one call (traced, counted) and takes the descriptors it passes. */
    private Answer run(Work w, Syscall call) {
        long t0 = System.nanoTime();
        String task = dispatcher.taskName(w.process(), w.thread());
        // a thread that never said ThreadStart gets the task the dispatcher names so
        String who = task != null ? task : w.thread() == 0 ? w.process() : w.process() + ".t" + w.thread();
        String op = CallText.op(call);
        if (recorder != null) {
            recorder.request((int) executed + 1, who, op, CallText.arguments(call));
        }
        if (injectErrorAfter >= 0 && executed >= injectErrorAfter) {
            throw new OutOfMemoryError("injected after " + executed + " requests (--inject-error-after)");
        }
        SyscallResult r = executeSafely(w, call);
        executed++;
        ServerMetrics m = metrics;
        if (m != null) {
            m.ioctl(op, CallText.errno(r.getErrno()), System.nanoTime() - t0);
        }
        if (recorder != null) {
            recorder.line(executed + " " + who + " " + op + " " + CallText.outcome(r));
        }
        newReports();
        List<Integer> fds = dispatcher.host().takePassed();
        if (fds.isEmpty()) {
            return Answer.of(r);
        }
        var files = dispatcher.host().takePassedFiles();
        return new Answer(r, fds, () -> files.forEach(TmpfsShmem.TmpfsFile::passed));
    }

    /**
     * The simulation thread met an Error: log it loudly, end and flush the
     * trace with a line that says why, and let the server stop.
     */
    private void fail(Throwable t) {
        reserve = null;
        try {
            log.println("gemulator: FATAL: the simulation thread failed after " + executed + " requests: " + t);
            t.printStackTrace(log);
            log.println("gemulator: the machine's state is lost; the server stops (exit status " + FAILED_EXIT_STATUS + ")");
            log.flush();
        } catch (Throwable ignored) { // logging must not keep the rest from happening
        }
        try {
            endTrace(FAILED_EXIT_STATUS, "server stopped: the simulation thread failed: " + t);
        } catch (Throwable e) {
            try {
                log.println("gemulator: the trace could not be ended: " + e);
            } catch (Throwable ignored) { // nothing left to say it with
            }
        }
        failure.complete(t);
        runWaiting();
    }

    /**
     * Runs a request. A modelled kernel deadlock (the checkers report it)
     * answers EDEADLK; an exception from the emulator itself is a bug of
     * ours: it is logged loudly with its stack, counted as a finding and
     * answered ENOTRECOVERABLE, and the server goes on serving. An Error is
     * not caught here: it ends the simulation ({@link #fail}).
     */
    private SyscallResult executeSafely(Work w, Syscall call) {
        try {
            return dispatcher.execute(w.process(), w.thread(), call);
        } catch (TaskHungException e) {
            return SyscallResult.newBuilder().setErrno(Errno.EDEADLK.number())
                    .setMessage("the kernel deadlocked: " + e.getMessage()).build();
        } catch (RuntimeException e) {
            log.println("gemulator: EMULATOR BUG while running " + w.process() + " " + call.getCallCase() + ":");
            e.printStackTrace(log);
            log.flush();
            finding(new FindingKey(FindingKey.Kind.EMULATOR_BUG, call.getCallCase().name().toLowerCase(Locale.ROOT)));
            return SyscallResult.newBuilder().setErrno(Errno.ENOTRECOVERABLE.number())
                    .setMessage("emulator bug (not the modelled kernel's): " + e).build();
        }
    }

    private void finding(FindingKey f) {
        if (findings.add(f)) {
            findingsInOrder.add(f);
        }
    }

    /** The reports the checkers made since the last look: logged, traced (and flushed), counted. */
    private void newReports() {
        var reports = machine.checkers().reports();
        while (reported < reports.size()) {
            var r = reports.get(reported++);
            log.println("gemulator: " + Traces.escape(r.toString()));
            log.flush();
            finding(FindingKey.of(r));
            if (metrics != null) {
                metrics.report(r.kind().label());
            }
            if (recorder != null) {
                recorder.report(r);
            }
        }
    }

    /** The key of every distinct report so far (and of every distinct bug of ours, emulator-bug OP), in order. */
    public List<FindingKey> findings() {
        return Collections.unmodifiableList(findingsInOrder);
    }

    private void endTrace(int exitStatus, String why) {
        if (recorder != null) {
            if (why != null) {
                recorder.line(why);
            }
            recorder.end(exitStatus);
            try {
                traceStream.close();
            } catch (IOException e) {
                log.println("gemulator: cannot close the trace: " + e.getMessage());
            }
        }
    }

    /** The trace's hash so far (null without a trace). */
    public String traceHash() {
        return recorder == null ? null : recorder.streamedHash();
    }

    /** Finishes what is queued, then stops (at once if the thread has failed). */
    @Override
    public void close() {
        try {
            if (thread.isAlive()) {
                inbox.put(internal.queue, STOP);
            }
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
