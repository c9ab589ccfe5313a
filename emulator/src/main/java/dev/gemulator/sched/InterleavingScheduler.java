package dev.gemulator.sched;

import dev.gemulator.kernel.Clock;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Lock;
import dev.gemulator.kernel.Scheduler;
import dev.gemulator.kernel.SleepInterrupted;
import dev.gemulator.kernel.StepKind;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.WaitQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.function.Predicate;

/**
 * Runs several user threads under a seeded strategy. Each thread is a Java
 * virtual thread that runs only while it holds the baton; at every
 * preemption point of the kernel model the strategy picks which runnable
 * thread takes the next step, so the same seed gives the same interleaving.
 *
 * <p>Mutexes and waits put a thread to sleep; a sleeping thread is not
 * runnable until woken or until virtual time reaches its deadline. Every
 * step costs {@link #STEP_NANOS} of virtual time; when nothing is runnable,
 * time jumps to the next timer or deadline. When nothing is runnable and
 * nothing can ever wake anyone, the run is deadlocked: each sleeping thread
 * is reported with what it waits for and the locks it holds, and unwound.
 *
 * <p>No switch happens while the running task holds a spinlock, or in timer
 * context.
 *
 * <p>A run whose threads are real programs (the seeded server) adds
 * threads while it runs ({@link #spawn}), takes the entry decision of a
 * thread's next system call as soon as it is back in user space
 * ({@link #pointAhead}), and ends sleeps of threads whose process dies
 * ({@link #signal}) or that nothing could ever wake
 * ({@link #interruptEndlessSleeps}).
 */
public final class InterleavingScheduler implements Scheduler {
    /** Virtual time one step takes. */
    public static final long STEP_NANOS = 100;

    /** Unwinds a thread of a run that has ended (deadlock or emulator failure). */
    static final class Abort extends RuntimeException {
        Abort() {
            super(null, null, false, false);
        }
    }

    /** Told of every decision: the step count, the chosen thread and the runnable ones. */
    public interface DecisionListener {
        void decided(long step, int thread, List<Integer> runnable, int running);
    }

    /** One thread to run: its task and what it does. */
    public record ThreadSpec(String name, Task task, Runnable body) {
    }

    private final Kernel kernel;
    private final Strategy strategy;
    private final Random random;
    private final List<KThread> threads = new ArrayList<>();
    private final List<Integer> decisions = new ArrayList<>();
    private final Semaphore finished = new Semaphore(0);
    private Carrier carrier;
    private KThread running;
    private long steps;
    private int live;
    private boolean aborted;
    private Throwable failure;
    private DecisionListener listener;
    private Thread.Builder.OfVirtual builder;
    private Predicate<Task> interruptible;

    public InterleavingScheduler(Kernel kernel, Strategy strategy, Random random) {
        this.kernel = kernel;
        this.strategy = strategy;
        this.random = random;
    }

    public InterleavingScheduler onDecision(DecisionListener l) {
        this.listener = l;
        return this;
    }

    /** The decisions taken where more than one thread could run, as thread indexes. */
    public List<Integer> decisions() {
        return decisions;
    }

    public long steps() {
        return steps;
    }

    /**
     * Sleeps that nothing could ever end, of tasks for which {@code sleepsMayBreak}
     * holds and that hold no lock, end with {@link dev.gemulator.kernel.SleepInterrupted}
     * (their system call answers EINTR, as a signal would make it) instead of
     * being reported as a deadlock. The same predicate says which sleeps a
     * {@link #signal} ends. Call before {@link #run}.
     */
    public InterleavingScheduler interruptEndlessSleeps(Predicate<Task> sleepsMayBreak) {
        this.interruptible = sleepsMayBreak;
        return this;
    }

    /**
     * Runs the threads to the end (or to a deadlock) and returns. The
     * calling thread waits; the kernel's scheduler is this one meanwhile.
     */
    public void run(List<ThreadSpec> specs) {
        for (ThreadSpec s : specs) {
            threads.add(new KThread(threads.size(), s.name(), s.task(), s.body()));
        }
        strategy.start(threads, random);
        Scheduler saved = kernel.scheduler();
        Task savedCurrent = kernel.current();
        kernel.setScheduler(this);
        live = threads.size();
        carrier = Carrier.forCurrentThread();
        builder = carrier != null ? carrier.builder() : Thread.ofVirtual();
        for (KThread t : threads) {
            builder.name("kthread-" + t.name()).start(() -> threadMain(t));
        }
        KThread first = chooseNext();
        if (first != null) {
            handTo(first);
        }
        if (carrier != null) {
            carrier.drain();
        }
        finished.acquireUninterruptibly();
        kernel.setScheduler(saved);
        kernel.setCurrent(savedCurrent);
        if (failure != null) {
            throw new IllegalStateException("a thread of the run failed: " + failure, failure);
        }
    }

    /**
     * Adds a thread to the run, runnable from now on; called by the running
     * thread (clone, fork). Its index is the number of threads before it.
     */
    public void spawn(ThreadSpec spec) {
        KThread t = new KThread(threads.size(), spec.name(), spec.task(), spec.body());
        threads.add(t);
        strategy.added(t, threads, random);
        synchronized (this) {
            live++;
        }
        builder.name("kthread-" + t.name()).start(() -> threadMain(t));
    }

    /**
     * The running thread is back in user space and its next step is the
     * entry of its next system call, which is not known yet: the decision
     * of that point is taken now, exactly as {@link #point} would take it.
     * The thread's next point (the call's entry, once it is known) only
     * names the step. A thread of a real program calls this after each
     * reply, so that a strategy that picks another thread lets it run while
     * this one's program computes its next call.
     */
    public void pointAhead() {
        KThread me = running;
        if (kernel.current() == null || me == null || kernel.current() != me.task()) {
            throw new IllegalStateException("pointAhead outside the running thread");
        }
        steps++;
        strategy.stepped(me, me.nextSubject, threads, random);
        me.nextFunction = "user";
        me.nextKind = StepKind.SYSCALL_ENTER;
        me.nextSubject = null;
        me.decidedAhead = true;
        advanceTo(kernel.clock().nowNanos() + STEP_NANOS);
        KThread next = decide(runnable(), me);
        if (next != me) {
            handTo(next);
            park(me);
        }
    }

    /**
     * A fatal signal for {@code task}'s thread (its process is exiting):
     * its current sleep ends at once if it may break, and so does every
     * later one that may, with {@link dev.gemulator.kernel.SleepInterrupted}.
     * Called by the running thread.
     */
    public void signal(Task task) {
        KThread t = threadOf(task);
        if (t == null || t.state == KThread.State.DONE) {
            return;
        }
        t.signalPending = true;
        if (t.state == KThread.State.SLEEPING && mayBreak(t)) {
            t.state = KThread.State.RUNNABLE;
            t.sleepingOn = null;
            t.interrupted = true;
        }
    }

    private boolean mayBreak(KThread t) {
        return interruptible != null && interruptible.test(t.task()) && t.task().held().isEmpty()
                && !(t.sleepingOn != null && t.sleepingOn.owner() instanceof Lock);
    }

    /**
     * Ends the run from its running thread (the server stops, the run timed
     * out): every other thread unwinds where it is parked, and so does the
     * caller (this throws).
     */
    public void abortFromRunning() {
        KThread me = running;
        if (me == null || aborted) {
            throw new Abort();
        }
        abortAll(me);
        throw new Abort();
    }

    /** Whether the run was aborted (a deadlock, a failure, {@link #abortFromRunning}). */
    public boolean aborted() {
        return aborted;
    }

    private void threadMain(KThread me) {
        me.await();
        try {
            if (!aborted) {
                me.body().run();
            }
        } catch (Abort a) {
            // the run ended while this thread slept; it stops here
        } catch (Throwable t) {
            if (failure == null) {
                failure = t;
            }
        }
        me.state = KThread.State.DONE;
        if (failure != null && !aborted) {
            abortAll(me);
        }
        if (aborted) {
            exitThread();
            return;
        }
        KThread next = chooseNext();
        if (next != null) {
            handTo(next);
        }
        exitThread();
    }

    private synchronized void exitThread() {
        live--;
        if (live == 0) {
            finished.release();
            if (carrier != null) {
                carrier.stop();
            }
        }
    }

    private void handTo(KThread next) {
        running = next;
        kernel.setCurrent(next.task());
        next.pass();
    }

    /** Parks the calling thread until it has the baton again; unwinds it if the run ended meanwhile. */
    private void park(KThread me) {
        me.await();
        if (aborted) {
            throw new Abort();
        }
        running = me;
        kernel.setCurrent(me.task());
    }

    private List<KThread> runnable() {
        List<KThread> out = new ArrayList<>(threads.size());
        for (KThread t : threads) {
            if (t.state == KThread.State.RUNNABLE) {
                out.add(t);
            }
        }
        return out;
    }

    private KThread decide(List<KThread> runnable, KThread runningOrNull) {
        if (runnable.size() == 1) {
            return runnable.get(0);
        }
        KThread t = strategy.pick(runnable, runningOrNull, steps, random);
        decisions.add(t.index());
        if (listener != null) {
            listener.decided(steps, t.index(), runnable.stream().map(KThread::index).toList(),
                    runningOrNull == null ? -1 : runningOrNull.index());
        }
        return t;
    }

    /**
     * The next thread to run when the current one cannot go on: time moves
     * to the next timer or deadline while nothing is runnable. Null when
     * every thread is done, or on a deadlock (then the run is aborted).
     */
    private KThread chooseNext() {
        while (true) {
            List<KThread> r = runnable();
            if (!r.isEmpty()) {
                return decide(r, null);
            }
            boolean anySleeping = false;
            long next = kernel.clock().nextDeadlineNanos();
            for (KThread t : threads) {
                if (t.state == KThread.State.SLEEPING) {
                    anySleeping = true;
                    next = Math.min(next, t.deadlineNanos);
                }
            }
            if (!anySleeping) {
                return null;
            }
            if (next == Clock.NEVER) {
                if (interruptEndless()) {
                    continue;
                }
                deadlock();
                return null;
            }
            advanceTo(Math.max(next, kernel.clock().nowNanos()));
        }
    }

    /** Nothing can run and nothing will wake anyone: ends the sleeps that may break. Whether there were any. */
    private boolean interruptEndless() {
        boolean any = false;
        for (KThread t : threads) {
            if (t.state == KThread.State.SLEEPING && mayBreak(t)) {
                t.state = KThread.State.RUNNABLE;
                t.sleepingOn = null;
                t.interrupted = true;
                any = true;
            }
        }
        return any;
    }

    /** Moves virtual time, firing due timers in timer context and ending expired sleeps. */
    private void advanceTo(long target) {
        if (kernel.clock().nextDeadlineNanos() > target) {
            kernel.clock().advanceTo(target);
        } else {
            Task saved = kernel.current();
            kernel.setCurrent(null);
            kernel.clock().advanceTo(target);
            kernel.setCurrent(saved);
        }
        long now = kernel.clock().nowNanos();
        for (KThread t : threads) {
            if (t.state == KThread.State.SLEEPING && t.deadlineNanos <= now) {
                t.state = KThread.State.RUNNABLE;
                t.timedOut = true;
                t.sleepingOn = null;
            }
        }
    }

    @Override
    public void point(String function, StepKind kind, Object subject) {
        KThread me = running;
        if (kernel.current() == null || me == null || kernel.current() != me.task()) {
            return;
        }
        if (me.decidedAhead) {
            // the entry of a call whose decision pointAhead took
            me.decidedAhead = false;
            me.nextFunction = function;
            me.nextKind = kind;
            me.nextSubject = subject;
            return;
        }
        steps++;
        strategy.stepped(me, me.nextSubject, threads, random);
        me.nextFunction = function;
        me.nextKind = kind;
        me.nextSubject = subject;
        advanceTo(kernel.clock().nowNanos() + STEP_NANOS);
        if (me.preemptionDisabled()) {
            return;
        }
        KThread next = decide(runnable(), me);
        if (next != me) {
            handTo(next);
            park(me);
        }
    }

    @Override
    public boolean sleep(WaitQueue queue, long deadlineNanos) {
        KThread me = running;
        if (kernel.current() == null || me == null) {
            throw new IllegalStateException("sleep outside a thread of the run");
        }
        me.state = KThread.State.SLEEPING;
        me.sleepingOn = queue;
        me.deadlineNanos = deadlineNanos;
        me.timedOut = false;
        me.interrupted = false;
        if (me.signalPending && mayBreak(me)) {
            me.state = KThread.State.RUNNABLE;
            me.sleepingOn = null;
            me.deadlineNanos = Clock.NEVER;
            throw new SleepInterrupted(me.name() + ": its process is exiting");
        }
        KThread next = chooseNext();
        if (next == null) {
            throw new Abort();
        }
        if (next != me) {
            handTo(next);
            park(me);
        } else {
            running = me;
            kernel.setCurrent(me.task());
        }
        me.deadlineNanos = Clock.NEVER;
        if (me.interrupted) {
            me.interrupted = false;
            throw new SleepInterrupted(me.name() + (me.signalPending
                    ? ": its process is exiting" : " would sleep on " + queue + " forever: nothing can wake it"));
        }
        return !me.timedOut;
    }

    @Override
    public void wake(WaitQueue queue) {
        for (KThread t : threads) {
            if (t.state == KThread.State.SLEEPING && t.sleepingOn == queue) {
                t.state = KThread.State.RUNNABLE;
                t.sleepingOn = null;
            }
        }
    }

    /** Nothing can run and nothing can wake anyone: report every sleeper and end the run. */
    private void deadlock() {
        Task saved = kernel.current();
        for (KThread t : threads) {
            if (t.state == KThread.State.SLEEPING) {
                kernel.setCurrent(t.task());
                kernel.observer().hung(t.task(), t.nextFunction, describeWait(t));
                t.task().markHung();
            }
        }
        kernel.setCurrent(saved);
        abortAll(null);
    }

    /** What the thread waits for, following lock owners into a wait-for chain. */
    private String describeWait(KThread t) {
        StringBuilder sb = new StringBuilder(String.valueOf(t.sleepingOn));
        List<KThread> seen = new ArrayList<>();
        KThread cur = t;
        while (cur != null && cur.sleepingOn != null && cur.sleepingOn.owner() instanceof Lock l && l.owner() != null) {
            seen.add(cur);
            KThread owner = threadOf(l.owner());
            sb.append(" held by ").append(l.owner());
            if (owner == null || seen.contains(owner)) {
                if (owner != null) {
                    sb.append(" (cycle)");
                }
                break;
            }
            if (owner.sleepingOn != null) {
                sb.append(", which waits for ").append(owner.sleepingOn);
            }
            cur = owner;
        }
        return sb.toString();
    }

    private KThread threadOf(Task task) {
        for (KThread t : threads) {
            if (t.task() == task) {
                return t;
            }
        }
        return null;
    }

    /** Ends the run: every parked thread is released to unwind. */
    private void abortAll(KThread self) {
        aborted = true;
        for (KThread t : threads) {
            if (t != self && t.state != KThread.State.DONE) {
                t.pass();
            }
        }
    }
}
