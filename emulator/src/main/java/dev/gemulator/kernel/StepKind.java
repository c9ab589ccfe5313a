package dev.gemulator.kernel;

/**
 * What an atomic step of kernel code does. Every step starts at a preemption
 * point (spec/kernel-model.md §2.9): the scheduler may run another task there.
 */
public enum StepKind {
    /** A task enters the kernel for a system call. */
    SYSCALL_ENTER,
    /** A task is about to return to user space (task work has run). */
    SYSCALL_EXIT,
    /** mutex_lock: may sleep while another task holds it. */
    LOCK,
    /** mutex_unlock. */
    UNLOCK,
    /** spin_lock: never sleeps, never held across a preemption point of the model. */
    SPIN_LOCK,
    /** spin_unlock. */
    SPIN_UNLOCK,
    /** A reference is taken (kref_get, get_file, dma_fence_get). */
    GET,
    /** A reference is dropped (kref_put, fput, dma_fence_put). */
    PUT,
    /** An unlocked read or check between locked sections. */
    READ,
    /** A shared structure is changed (idr insert/remove, link set/clear). */
    WRITE,
    /** A deferred file release (task work, delayed fput) runs. */
    RELEASE,
    /** A timer fires (vgem fence expiry). */
    TIMER
}
