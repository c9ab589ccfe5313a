package dev.gemulator.kernel;

import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.vfs.KFile;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import java.util.TreeMap;

/**
 * The emulated machine: its devices, its processes, virtual time, and the
 * two things the model hands control to, the scheduler (at every preemption
 * point) and the observer (the checkers and tracer).
 *
 * <p>Exactly one task runs kernel code at a time; {@link #current()} is that
 * task, as in the kernel. The scheduler sets it whenever it switches.
 */
public final class Kernel {
    /** The kinds of object that get a sequence number for reports. */
    public enum IdKind { GEM, DMA_BUF, FILE, FENCE, SYNC_FILE, PROCESS, MASTER }

    private final Clock clock = new Clock();
    private final Profile profile;
    private Scheduler scheduler;
    private KernelObserver observer;
    private Task current;
    private final WaitQueue fenceWait;
    private final ArrayDeque<KFile> delayedFput = new ArrayDeque<>();
    private final List<DrmDevice> devices = new ArrayList<>();
    private final LinkedHashSet<DmaBuf> dmaBufs = new LinkedHashSet<>();
    private final List<Process> processes = new ArrayList<>();
    private final Map<IdKind, int[]> ids = new EnumMap<>(IdKind.class);
    private final Map<String, Integer> faults = new TreeMap<>();
    private Idr.Budget idrBudget = new Idr.Budget(Long.MAX_VALUE);

    public Kernel(Profile profile, Scheduler scheduler, KernelObserver observer) {
        this.profile = profile;
        this.scheduler = scheduler;
        this.observer = observer;
        this.fenceWait = new WaitQueue(this, "dma_fence");
        for (IdKind k : IdKind.values()) {
            ids.put(k, new int[] {1});
        }
    }

    public Profile profile() {
        return profile;
    }

    public Clock clock() {
        return clock;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public void setScheduler(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    public KernelObserver observer() {
        return observer;
    }

    public void setObserver(KernelObserver observer) {
        this.observer = observer;
    }

    /** The task running kernel code now, or null in timer context. */
    public Task current() {
        return current;
    }

    /** Called by the scheduler when it hands the CPU to {@code task}. */
    public void setCurrent(Task task) {
        this.current = task;
    }

    /**
     * A preemption point of the current task followed by the start of a step:
     * the scheduler may switch here, then the observer sees the step.
     */
    public void point(String function, StepKind kind, Object subject) {
        scheduler.point(function, kind, subject);
        observer.step(current, function, kind, subject);
    }

    /** The wait queue every dma-fence signal wakes (pollers, sync waits). */
    public WaitQueue fenceWait() {
        return fenceWait;
    }

    /** The next sequence number for an object of this kind (1, 2, ...). */
    public int nextId(IdKind kind) {
        return ids.get(kind)[0]++;
    }

    /** WARN_ON(condition): reports when true and returns the condition. */
    public boolean warnOn(boolean condition, String function, String what, Object... objects) {
        if (condition) {
            observer.warn(function, what, objects);
        }
        return condition;
    }

    /**
     * The allocations that fault injection can fail, each named by the kernel
     * function that allocates, with ENOMEM: a PRIME cache member, a dma-buf,
     * an attachment to a foreign dma-buf, a handle id, a flink name.
     */
    public static final List<String> FAULT_SITES = List.of(
            "drm_prime_add_buf_handle", "dma_buf_export", "dma_buf_attach", "drm_gem_handle_create",
            "drm_gem_flink_ioctl");

    /**
     * Fault injection: the next {@code count} allocations at {@code site}
     * (one of {@link #FAULT_SITES}) fail.
     */
    public void injectFault(String site, int count) {
        if (!FAULT_SITES.contains(site)) {
            throw new IllegalArgumentException("no fault site " + site);
        }
        if (count <= 0) {
            faults.remove(site);
        } else {
            faults.put(site, count);
        }
    }

    /** Whether the allocation at {@code site} fails now (consumes one injected fault). */
    public boolean shouldFail(String site) {
        Integer n = faults.get(site);
        if (n == null) {
            return false;
        }
        if (n <= 1) {
            faults.remove(site);
        } else {
            faults.put(site, n - 1);
        }
        return true;
    }

    /**
     * The slots the handle and fence-id tables of this machine's files may
     * grow to (beyond their first few); a table that cannot grow is full.
     */
    public Idr.Budget idrBudget() {
        return idrBudget;
    }

    /** Limits the slots of {@link #idrBudget()} (before any file is opened). */
    public void setIdrBudget(long slots) {
        this.idrBudget = new Idr.Budget(slots);
    }

    /** Queues a final put from timer context or after a task's exit on the delayed-fput list. */
    public void delayedFputAdd(KFile file) {
        delayedFput.add(file);
    }

    /** Whether the delayed-fput list holds a file. */
    public boolean hasDelayedFput() {
        return !delayedFput.isEmpty();
    }

    /** Takes the oldest file of the delayed-fput list, or null when it is empty. */
    public KFile delayedFputTake() {
        return delayedFput.poll();
    }

    /** Every live dma-buf, oldest first (dma-buf core's db_list, what bufinfo shows), read-only. */
    public SequencedSet<DmaBuf> dmaBufs() {
        return Collections.unmodifiableSequencedSet(dmaBufs);
    }

    /** __dma_buf_list_add: a new dma-buf joins db_list. */
    public void dmaBufListAdd(DmaBuf buf) {
        dmaBufs.add(buf);
    }

    /** __dma_buf_list_del: a released dma-buf leaves db_list. */
    public void dmaBufListDel(DmaBuf buf) {
        dmaBufs.remove(buf);
    }

    public void addDevice(DrmDevice device) {
        devices.add(device);
    }

    public List<DrmDevice> devices() {
        return Collections.unmodifiableList(devices);
    }

    public void addProcess(Process process) {
        processes.add(process);
    }

    public void removeProcess(Process process) {
        processes.remove(process);
    }

    /** Live processes, oldest first. */
    public List<Process> processes() {
        return Collections.unmodifiableList(processes);
    }
}
