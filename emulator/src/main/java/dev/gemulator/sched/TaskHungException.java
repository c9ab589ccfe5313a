package dev.gemulator.sched;

import dev.gemulator.kernel.Task;

/**
 * Unwinds a task that went to sleep where nothing can ever wake it (a
 * self-deadlock, a wait with no timer left). The kernel task would sleep
 * forever; the sequential scheduler cannot run anything else, so it stops the
 * system call here. The locks the task holds stay held, as they would.
 */
public final class TaskHungException extends RuntimeException {
    private final transient Task task;

    public TaskHungException(Task task, String message) {
        super(message, null, false, false);
        this.task = task;
    }

    public Task task() {
        return task;
    }
}
