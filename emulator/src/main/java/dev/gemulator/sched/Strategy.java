package dev.gemulator.sched;

import dev.gemulator.kernel.StepKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Decides, at every preemption point where more than one thread could run,
 * which one runs the next step. Every random choice comes from the run's
 * seeded generator; {@link #describe()} prints every parameter derived from it.
 */
public interface Strategy {

    /**
     * The strategies a run can be asked for, by the name the command line, the
     * trace header and the reports use. Parsed once where the name comes in
     * (an option, an annotation); everything after holds the constant.
     */
    enum Name {
        RANDOM("random"),
        PCT("pct"),
        POS("pos"),
        CONFLICT("conflict");

        private final String label;

        Name(String label) {
            this.label = label;
        }

        /** The name as it is written: "random", "pct", "pos", "conflict". */
        public String label() {
            return label;
        }

        @Override
        public String toString() {
            return label;
        }

        /** The strategy of this name; PCT and conflict with their depth and PCT with k, the number of steps of a run. */
        public Strategy create(int pctDepth, long pctMaxSteps) {
            return switch (this) {
                case RANDOM -> new RandomWalk();
                case PCT -> new Pct(pctDepth, pctMaxSteps);
                case POS -> new Pos();
                case CONFLICT -> new Conflict(pctDepth);
            };
        }

        /** The strategy written {@code text}, or null when none is. */
        public static Name byLabel(String text) {
            for (Name n : values()) {
                if (n.label.equals(text)) {
                    return n;
                }
            }
            return null;
        }

        /**
         * The strategy written {@code text} among {@code known} (every one when
         * empty). Throws IllegalArgumentException with the one-line message
         * "unknown strategy 'X' (known: a, b, ...)", {@code more} named last
         * among the choices (explore's dfs).
         */
        public static Name parse(String text, List<Name> known, String... more) {
            List<Name> choices = known.isEmpty() ? List.of(values()) : known;
            Name n = byLabel(text);
            if (n == null || !choices.contains(n)) {
                List<String> names = new ArrayList<>();
                choices.forEach(c -> names.add(c.label));
                names.addAll(List.of(more));
                throw new IllegalArgumentException("unknown strategy '" + text + "' (known: " + String.join(", ", names)
                        + ")");
            }
            return n;
        }

        /** {@link #parse(String, List, String...)} among all of them. */
        public static Name parse(String text) {
            return parse(text, List.of());
        }
    }

    /** The strategies the seeded server, lockstep and {@code @GemulatorRace} runs take. */
    List<Name> SERVER_NAMES = List.of(Name.RANDOM, Name.PCT, Name.POS, Name.CONFLICT);

    /** Called once before the run with its threads. */
    default void start(List<KThread> threads, Random random) {
    }

    /** A thread was added while the run goes on ({@code all} includes it, last). */
    default void added(KThread thread, List<KThread> all, Random random) {
    }

    /**
     * The thread to run next among {@code runnable} (never empty, in thread
     * order). {@code running} is the thread that reached the point, or null
     * when it cannot go on (it sleeps or is done).
     */
    KThread pick(List<KThread> runnable, KThread running, long step, Random random);

    /** The runnable thread of highest priority; of equals, the first. */
    static KThread highestPriority(List<KThread> runnable) {
        KThread best = runnable.get(0);
        for (KThread t : runnable) {
            if (t.priority > best.priority) {
                best = t;
            }
        }
        return best;
    }

    /** Told after {@code ran} executed a step on {@code subject}. */
    default void stepped(KThread ran, Object subject, List<KThread> all, Random random) {
    }

    /** The strategy and its parameters, for the first line of a run. */
    String describe();

    /** Uniformly random among the runnable threads at every point. */
    final class RandomWalk implements Strategy {
        @Override
        public KThread pick(List<KThread> runnable, KThread running, long step, Random random) {
            return runnable.get(random.nextInt(runnable.size()));
        }

        @Override
        public String describe() {
            return "random";
        }
    }

    /**
     * PCT (Burckhardt et al., ASPLOS 2010): threads get distinct random
     * priorities above {@code depth}; the highest runnable one runs; at
     * {@code depth - 1} random steps in [1, maxSteps] the running thread
     * drops to a priority below all others.
     */
    final class Pct implements Strategy {
        private final int depth;
        private final long maxSteps;
        private long[] changePoints;

        public Pct(int depth, long maxSteps) {
            this.depth = depth;
            this.maxSteps = maxSteps;
        }

        @Override
        public void start(List<KThread> threads, Random random) {
            int n = threads.size();
            int[] prio = new int[n];
            for (int i = 0; i < n; i++) {
                prio[i] = depth + i;
            }
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = prio[i];
                prio[i] = prio[j];
                prio[j] = t;
            }
            for (int i = 0; i < n; i++) {
                threads.get(i).priority = prio[i];
            }
            changePoints = new long[Math.max(0, depth - 1)];
            for (int i = 0; i < changePoints.length; i++) {
                changePoints[i] = 1 + (long) (random.nextDouble() * maxSteps);
            }
        }

        /** A thread created during the run gets a random priority among the initial ones, above the change points'. */
        @Override
        public void added(KThread thread, List<KThread> all, Random random) {
            thread.priority = depth + random.nextDouble() * all.size();
        }

        @Override
        public KThread pick(List<KThread> runnable, KThread running, long step, Random random) {
            if (running != null) {
                for (int i = 0; i < changePoints.length; i++) {
                    if (changePoints[i] == step) {
                        running.priority = i + 1;
                    }
                }
            }
            return highestPriority(runnable);
        }

        @Override
        public String describe() {
            StringBuilder sb = new StringBuilder("pct depth=" + depth + " max-steps=" + maxSteps + " change-points=[");
            for (int i = 0; changePoints != null && i < changePoints.length; i++) {
                sb.append(i == 0 ? "" : ",").append(changePoints[i]);
            }
            return sb.append(']').toString();
        }
    }

    /**
     * POS (partial order sampling, Yuan et al., CAV 2018): every pending step
     * has a random priority and the highest runs; when a step runs, the
     * pending steps of other threads on the same object get new priorities,
     * so racing steps are reordered with equal chance.
     */
    final class Pos implements Strategy {
        @Override
        public void start(List<KThread> threads, Random random) {
            for (KThread t : threads) {
                t.priority = random.nextDouble();
            }
        }

        @Override
        public void added(KThread thread, List<KThread> all, Random random) {
            thread.priority = random.nextDouble();
        }

        @Override
        public KThread pick(List<KThread> runnable, KThread running, long step, Random random) {
            return highestPriority(runnable);
        }

        @Override
        public void stepped(KThread ran, Object subject, List<KThread> all, Random random) {
            ran.priority = random.nextDouble();
            if (subject == null) {
                return;
            }
            for (KThread t : all) {
                if (t != ran && t.nextSubject == subject) {
                    t.priority = random.nextDouble();
                }
            }
        }

        @Override
        public String describe() {
            return "pos";
        }
    }

    /**
     * Conflict-directed: a thread is preempted inside a system call only to
     * open a race window, and the window is held open for whole system calls
     * of the others. At a system call boundary (the running thread is about
     * to enter the kernel, or cannot go on) any runnable thread may run next,
     * uniformly. Inside a system call the running thread goes on until the
     * call has ended its first critical section: before that it has looked
     * nothing up (no handle, name or link read under a lock), so no other
     * thread can invalidate anything it holds, and a preemption there only
     * reorders whole calls, which the boundary choice already does. From then
     * on until the call returns to user space (a window is between a lookup
     * and a later use, never at the exit) the thread is parked at each step
     * with probability {@code 1/(depth + 2)} until its call has taken its
     * next lock (the gap after the first critical section, where a race of
     * one reordering is), and {@code 2/(depth + 2)} from then on: a window
     * further into the call (after a re-check under a second lock) is only
     * reached when every earlier chance was passed up, so its chance per
     * step grows. One thread is parked at a time. The others run; it comes
     * back after they have finished a random number of system calls
     * (geometric, mean {@code depth + 1}); at once when the running thread
     * is about to run a deferred release (an fput's __fput at syscall exit:
     * the file's count is already 0, its release has not run); when nothing
     * else can run; or, with probability {@code 1/depth}, when the running
     * thread is between two critical sections of its own call and about to
     * take a lock while holding none, which is then parked in its place (a
     * second window inside the first), unless that lock is the object the
     * parked thread's next step touches: there the swap would hand the
     * parked thread the very order its park reversed. Depth 3 (the default
     * of --pct-depth) is what bench sched measures. Every choice comes from
     * a generator seeded once from the run's.
     */
    final class Conflict implements Strategy {
        private final int depth;
        private final double parkFirstGap;
        private final double parkLater;
        private final double swap;
        private final double moreCalls;
        private KThread parked;
        /** The threads whose current system call has ended a critical section (released a lock since its entry). */
        private final Set<KThread> pastSection = Collections.newSetFromMap(new IdentityHashMap<>());
        /** The threads whose current system call has taken a lock since its first critical section ended. */
        private final Set<KThread> pastFirstGap = Collections.newSetFromMap(new IdentityHashMap<>());
        /** System calls the others must still finish before the parked thread comes back. */
        private int callsLeft;
        /**
         * Its own generator, seeded once from the run's: java.util.Random's
         * first outputs for consecutive seeds are nearly equal, so without
         * this the first choices (which thread starts) would be the same for
         * hundreds of seeds in a row.
         */
        private Random own;

        public Conflict(int depth) {
            this.depth = depth;
            int d = Math.max(1, depth);
            this.parkFirstGap = 1.0 / (d + 2);
            this.parkLater = 2.0 / (d + 2);
            this.swap = 1.0 / d;
            this.moreCalls = 1 - 1.0 / (d + 1);
        }

        /** Whether {@code t}'s next step takes a lock while it holds none: the start of a critical section. */
        private static boolean beforeLock(KThread t) {
            return (t.nextKind == StepKind.LOCK || t.nextKind == StepKind.SPIN_LOCK) && t.task().held().isEmpty();
        }

        /** A thread of {@code runnable} other than {@code but}, uniformly (there is one). */
        private static KThread anyBut(List<KThread> runnable, KThread but, Random random) {
            int k = random.nextInt(runnable.size() - (runnable.contains(but) ? 1 : 0));
            for (KThread t : runnable) {
                if (t != but && k-- == 0) {
                    return t;
                }
            }
            throw new IllegalStateException("no thread but " + but);
        }

        @Override
        public void start(List<KThread> threads, Random random) {
            own = new Random(scramble(random.nextLong()));
        }

        /** SplitMix64's finaliser: seeds that differ a little give unrelated generators. */
        static long scramble(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        @Override
        public KThread pick(List<KThread> runnable, KThread running, long step, Random seeded) {
            if (own == null) {
                start(List.of(), seeded);
            }
            Random random = own;
            boolean inCall = running != null && runnable.contains(running) && running.nextKind != StepKind.SYSCALL_ENTER;
            if (inCall) {
                boolean window = pastSection.contains(running) && running.nextKind != StepKind.SYSCALL_EXIT;
                if (parked == null) {
                    if (window && random.nextDouble() < (pastFirstGap.contains(running) ? parkLater : parkFirstGap)) {
                        park(running, random);
                        return anyBut(runnable, running, random);
                    }
                } else if (running != parked && running.nextKind == StepKind.RELEASE && runnable.contains(parked)) {
                    return unpark();
                } else if (window && running != parked && beforeLock(running) && runnable.contains(parked)
                        && running.nextSubject != parked.nextSubject && random.nextDouble() < swap) {
                    KThread back = parked;
                    park(running, random);
                    return back;
                }
                return running;
            }
            if (parked != null && callsLeft <= 0 && runnable.contains(parked)) {
                return unpark();
            }
            if (parked != null && runnable.contains(parked)) {
                return anyBut(runnable, parked, random);
            }
            return runnable.get(random.nextInt(runnable.size()));
        }

        /** Parks {@code t} for a geometric number of the others' system calls. */
        private void park(KThread t, Random random) {
            parked = t;
            callsLeft = 1;
            while (random.nextDouble() < moreCalls) {
                callsLeft++;
            }
        }

        private KThread unpark() {
            KThread p = parked;
            parked = null;
            return p;
        }

        @Override
        public void stepped(KThread ran, Object subject, List<KThread> all, Random random) {
            if (parked != null && ran != parked && ran.nextKind == StepKind.SYSCALL_EXIT) {
                callsLeft--;
            }
            switch (ran.nextKind) {
                case SYSCALL_ENTER -> {
                    pastSection.remove(ran);
                    pastFirstGap.remove(ran);
                }
                case UNLOCK, SPIN_UNLOCK -> pastSection.add(ran);
                case LOCK, SPIN_LOCK -> {
                    if (pastSection.contains(ran)) {
                        pastFirstGap.add(ran);
                    }
                }
                default -> {
                }
            }
        }

        @Override
        public String describe() {
            return "conflict depth=" + depth;
        }
    }

    /** A replayed decision names a thread that cannot run there: the run is not the recorded one. */
    final class ReplayDiverged extends IllegalStateException {
        public ReplayDiverged(String message) {
            super(message);
        }
    }

    /**
     * Replays a recorded list of decisions (thread indexes), shared by every
     * par block of the run in order. Past the end of the list it preempts no
     * more: the running thread goes on while it can, else the lowest runnable.
     * It wraps the strategy the recording used, so that it draws the same
     * random numbers and describes itself the same way: a replay prints and
     * records exactly what the original run did.
     */
    final class Replay implements Strategy {
        /**
         * As the last decision of a list: from here on the wrapped strategy
         * decides (with the run's seeded generator), and so it does from a
         * decision that names a thread that cannot run. A guided explore's
         * mutated schedules are a prefix of another schedule's decisions
         * and this.
         */
        public static final int STRATEGY = -1;
        private final int[] decisions;
        private final int[] cursor;
        private final Strategy original;
        private final boolean lenient;

        /** {@code cursor[0]} is the next decision to use; par blocks of one run share it. */
        public Replay(int[] decisions, int[] cursor, Strategy original) {
            this(decisions, cursor, original, false);
        }

        /**
         * With {@code lenient}, a decision that names a thread that cannot
         * run ends the list there (as if it had ended) instead of failing:
         * the shrinker's candidates for real programs, which may make other
         * calls under another schedule.
         */
        public Replay(int[] decisions, int[] cursor, Strategy original, boolean lenient) {
            this.decisions = decisions;
            this.cursor = cursor;
            this.original = original;
            this.lenient = lenient;
        }

        @Override
        public void start(List<KThread> threads, Random random) {
            original.start(threads, random);
        }

        @Override
        public KThread pick(List<KThread> runnable, KThread running, long step, Random random) {
            int handOver = decisions.length > 0 && decisions[decisions.length - 1] == STRATEGY ? decisions.length - 1 : -1;
            if (handOver >= 0 && cursor[0] >= handOver) {
                cursor[0] = handOver;
                return original.pick(runnable, running, step, random);
            }
            if (cursor[0] < decisions.length) {
                int next = cursor[0]++;
                int want = decisions[next];
                for (KThread t : runnable) {
                    if (t.index() == want) {
                        return t;
                    }
                }
                if (handOver >= 0) {
                    cursor[0] = handOver;
                    return original.pick(runnable, running, step, random);
                }
                if (!lenient) {
                    throw new ReplayDiverged("replay diverged at decision " + next + ": thread " + want
                            + " is not runnable");
                }
                cursor[0] = decisions.length;
            }
            return running != null && runnable.contains(running) ? running : runnable.get(0);
        }

        @Override
        public void added(KThread thread, List<KThread> all, Random random) {
            original.added(thread, all, random);
        }

        @Override
        public void stepped(KThread ran, Object subject, List<KThread> all, Random random) {
            original.stepped(ran, subject, all, random);
        }

        @Override
        public String describe() {
            return original.describe();
        }
    }
}
