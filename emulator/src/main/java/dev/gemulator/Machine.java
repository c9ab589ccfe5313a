package dev.gemulator;

import dev.gemulator.check.Checkers;
import dev.gemulator.check.LeakScan;
import dev.gemulator.check.Report;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.KernelObserver;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.kernel.vgem.Vgem;
import dev.gemulator.sched.SequentialScheduler;
import dev.gemulator.sched.TaskHungException;
import java.util.List;

/**
 * An emulated machine ready to run: a kernel with one vgem device (card0 and
 * render0), the checkers watching it, a scheduler, and the system call layer
 * processes use.
 */
public final class Machine {
    private final Checkers checkers = new Checkers();
    private final SequentialScheduler scheduler = new SequentialScheduler();
    private final Kernel kernel;
    private final Syscalls syscalls;
    private boolean tornDown;

    public Machine(Profile profile) {
        this.kernel = new Kernel(profile, scheduler, checkers);
        scheduler.attach(kernel);
        kernel.addDevice(new DrmDevice(kernel, 0, new Vgem()));
        this.syscalls = new Syscalls(kernel);
    }

    public Machine() {
        this(Profile.MODERN);
    }

    /** Adds an observer beside the checkers (a trace recorder). */
    public void observe(KernelObserver observer) {
        kernel.setObserver(KernelObserver.tee(kernel.observer(), observer));
    }

    public Kernel kernel() {
        return kernel;
    }

    public Syscalls sys() {
        return syscalls;
    }

    public Checkers checkers() {
        return checkers;
    }

    public SequentialScheduler scheduler() {
        return scheduler;
    }

    public DrmDevice device(int index) {
        return kernel.devices().get(index);
    }

    /** A new process whose first fd will be 3. */
    public Process spawn(String name) {
        return syscalls.spawn(name);
    }

    /**
     * Ends every live process (oldest first), runs what is still deferred,
     * and scans the devices for leaks. Returns every report of the run. A
     * process with a hung task cannot exit (the task never leaves the
     * kernel), so what it holds shows up in the leak scan.
     */
    public List<Report> teardown() {
        if (!tornDown) {
            tornDown = true;
            for (Process p : List.copyOf(kernel.processes())) {
                if (p.tasks().stream().noneMatch(Task::isHung)) {
                    try {
                        syscalls.exit(p);
                    } catch (TaskHungException e) {
                        // the exiting task sleeps for ever (reported); what it holds stays
                    }
                }
            }
            syscalls.runDelayedFput();
            LeakScan.scan(kernel, checkers);
        }
        return checkers.reports();
    }
}
