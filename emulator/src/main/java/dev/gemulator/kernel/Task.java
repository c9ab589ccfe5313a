package dev.gemulator.kernel;

import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.uapi.UserMemory;
import dev.gemulator.kernel.vfs.KFile;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A task: one thread of a user process while it runs kernel code (current).
 * It carries what the kernel keeps per task: the locks it holds (for the
 * checkers) and its task work, the deferred file releases that run when it
 * returns to user space (spec §6).
 */
public final class Task {
    private final Process process;
    private final String name;
    private final List<Lock> held = new ArrayList<>(2);
    private final ArrayDeque<KFile> taskWork = new ArrayDeque<>();
    private boolean taskWorkDead;
    private int preemptCount;
    private boolean hung;
    private UserMemory userMemory = UserMemory.NONE;
    private long ioctlArg;

    public Task(Process process, String name) {
        this.process = process;
        this.name = name;
    }

    public Process process() {
        return process;
    }

    public String name() {
        return name;
    }

    /** The locks this task holds, in the order it took them (read-only). */
    public List<Lock> held() {
        return Collections.unmodifiableList(held);
    }

    /** {@code lock} was taken by this task. */
    void lockTaken(Lock lock) {
        held.add(lock);
    }

    /** {@code lock}, held by this task, was released. */
    void lockReleased(Lock lock) {
        held.remove(lock);
    }

    /**
     * task_work_add for a final fput. Returns false once the task has passed
     * its last task-work run at exit (the caller falls back to delayed fput).
     */
    public boolean addTaskWork(KFile file) {
        if (taskWorkDead) {
            return false;
        }
        taskWork.add(file);
        return true;
    }

    /**
     * Takes every pending deferred release, in the order they were queued
     * (task_work_run takes the whole list at once; what is queued while it
     * runs them waits for its next round).
     */
    public List<KFile> takeTaskWork() {
        List<KFile> batch = new ArrayList<>(taskWork);
        taskWork.clear();
        return batch;
    }

    /** exit_task_work: from now on final puts go to the delayed-fput list. */
    public void killTaskWork() {
        taskWorkDead = true;
    }

    /**
     * preempt_disable: the task runs in atomic context (under a lock the model
     * does not name, such as a fence's spinlock while its callbacks run) and
     * the scheduler must not switch away from it. Nests.
     */
    public void preemptDisable() {
        preemptCount++;
    }

    /** preempt_enable. */
    public void preemptEnable() {
        if (preemptCount == 0) {
            throw new IllegalStateException("preempt_enable without preempt_disable in " + name);
        }
        preemptCount--;
    }

    /** Whether {@link #preemptDisable} is in force. */
    public boolean preemptDisabled() {
        return preemptCount > 0;
    }

    /** Whether the task sleeps forever (nothing can wake it): it never returns to user space. */
    public boolean isHung() {
        return hung;
    }

    public void markHung() {
        hung = true;
    }

    /** The user memory copy_from_user and copy_to_user reach during the current system call. */
    public UserMemory userMemory() {
        return userMemory;
    }

    public void setUserMemory(UserMemory userMemory) {
        this.userMemory = userMemory;
    }

    /** The current ioctl's argument (its address in user memory). */
    public long ioctlArg() {
        return ioctlArg;
    }

    public void setIoctlArg(long ioctlArg) {
        this.ioctlArg = ioctlArg;
    }

    @Override
    public String toString() {
        return name;
    }
}
