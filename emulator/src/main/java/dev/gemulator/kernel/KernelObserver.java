package dev.gemulator.kernel;

/**
 * What the kernel model tells the outside world while it runs: every step,
 * and every place where the real kernel would print a splat (KASAN, refcount_t,
 * WARN_ON, lockdep, the hung task detector). The model only states the facts;
 * the checkers (package check) decide what is a finding and keep the reports,
 * and the tracer records steps. The model carries on after each call, as the
 * kernel does after a WARN.
 */
public interface KernelObserver {

    /** A step of the current task starts (called after the scheduler's preemption point). */
    default void step(Task task, String function, StepKind kind, Object subject) {
    }

    /** A kernel object that was already freed is touched. */
    default void useAfterFree(String function, KObject object, String access) {
    }

    /** A reference is dropped from a count that is already 0 (or saturated). */
    default void refcountUnderflow(String function, KObject object) {
    }

    /** A reference is taken on a count that is 0: the object is dead. */
    default void refcountAddOnZero(String function, KObject object) {
    }

    /** A count would pass its maximum. */
    default void refcountOverflow(String function, KObject object) {
    }

    /** A WARN_ON site of the modelled kernel fired. */
    default void warn(String function, String condition, Object... objects) {
    }

    /** A lock is used against its rules (unlock when not the owner, ...). */
    default void lockMisuse(String function, Lock lock, String what) {
    }

    /** {@code task} has taken {@code lock}; it is last in the task's held locks. */
    default void lockAcquired(Task task, Lock lock) {
    }

    /** A task is about to return to user space while holding a lock. */
    default void lockHeldAtSyscallExit(Task task, Lock lock) {
    }

    /** A task sleeps on something that nothing can ever wake: the task hangs. */
    default void hung(Task task, String function, Object waitingFor) {
    }

    /** A kernel object is born. */
    default void created(KObject object) {
    }

    /** A kernel object is freed (its memory goes back). */
    default void freed(String function, KObject object) {
    }

    /** Both observers, {@code first} told first. */
    static KernelObserver tee(KernelObserver first, KernelObserver second) {
        return new KernelObserver() {
            @Override
            public void step(Task task, String function, StepKind kind, Object subject) {
                first.step(task, function, kind, subject);
                second.step(task, function, kind, subject);
            }

            @Override
            public void useAfterFree(String function, KObject object, String access) {
                first.useAfterFree(function, object, access);
                second.useAfterFree(function, object, access);
            }

            @Override
            public void refcountUnderflow(String function, KObject object) {
                first.refcountUnderflow(function, object);
                second.refcountUnderflow(function, object);
            }

            @Override
            public void refcountAddOnZero(String function, KObject object) {
                first.refcountAddOnZero(function, object);
                second.refcountAddOnZero(function, object);
            }

            @Override
            public void refcountOverflow(String function, KObject object) {
                first.refcountOverflow(function, object);
                second.refcountOverflow(function, object);
            }

            @Override
            public void warn(String function, String condition, Object... objects) {
                first.warn(function, condition, objects);
                second.warn(function, condition, objects);
            }

            @Override
            public void lockMisuse(String function, Lock lock, String what) {
                first.lockMisuse(function, lock, what);
                second.lockMisuse(function, lock, what);
            }

            @Override
            public void lockAcquired(Task task, Lock lock) {
                first.lockAcquired(task, lock);
                second.lockAcquired(task, lock);
            }

            @Override
            public void lockHeldAtSyscallExit(Task task, Lock lock) {
                first.lockHeldAtSyscallExit(task, lock);
                second.lockHeldAtSyscallExit(task, lock);
            }

            @Override
            public void hung(Task task, String function, Object waitingFor) {
                first.hung(task, function, waitingFor);
                second.hung(task, function, waitingFor);
            }

            @Override
            public void created(KObject object) {
                first.created(object);
                second.created(object);
            }

            @Override
            public void freed(String function, KObject object) {
                first.freed(function, object);
                second.freed(function, object);
            }
        };
    }
}
