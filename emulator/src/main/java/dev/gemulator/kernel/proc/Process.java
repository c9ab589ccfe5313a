package dev.gemulator.kernel.proc;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Task;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A user process: its descriptors, its mappings, its credentials and its
 * threads. Processes start as root (uid 0 with CAP_SYS_ADMIN), as the
 * reference harness's children do, until they drop root for good.
 */
public final class Process {
    /** The RLIMIT_NOFILE every process starts with. */
    public static final int DEFAULT_FD_LIMIT = 1024;

    private final Kernel kernel;
    private final String name;
    private final int pid;
    private final FdTable files;
    private final Map<Long, Vma> mappings = new LinkedHashMap<>();
    private final List<Task> tasks = new ArrayList<>();
    private long nextMapId = 1;
    private boolean root = true;
    private boolean exited;

    public Process(Kernel kernel, String name) {
        this.kernel = kernel;
        this.name = name;
        this.files = new FdTable(name, DEFAULT_FD_LIMIT);
        this.pid = kernel.nextId(Kernel.IdKind.PROCESS);
        tasks.add(new Task(this, name));
    }

    public Kernel kernel() {
        return kernel;
    }

    public String name() {
        return name;
    }

    /** The thread-group id (task_tgid). */
    public int pid() {
        return pid;
    }

    public FdTable files() {
        return files;
    }

    /** The process's first thread. */
    public Task mainTask() {
        return tasks.get(0);
    }

    /** A new thread of this process (one more kernel task). */
    public Task newTask(String threadName) {
        Task t = new Task(this, threadName);
        tasks.add(t);
        return t;
    }

    /** A thread other than the first ended (it holds nothing: it was in user space). */
    public void endTask(Task t) {
        if (t == mainTask()) {
            throw new IllegalArgumentException("the main thread ends only with the process");
        }
        tasks.remove(t);
    }

    public List<Task> tasks() {
        return tasks;
    }

    /** uid 0 with CAP_SYS_ADMIN: capable(CAP_SYS_ADMIN). */
    public boolean capSysAdmin() {
        return root;
    }

    public boolean isRoot() {
        return root;
    }

    public void dropRoot() {
        root = false;
    }

    /** Live mappings by map id, oldest first. */
    public Map<Long, Vma> mappings() {
        return mappings;
    }

    /** The next map id (1, 2, ...; never reused). */
    public long takeMapId() {
        return nextMapId++;
    }

    public boolean exited() {
        return exited;
    }

    public void markExited() {
        exited = true;
    }

    @Override
    public String toString() {
        return name;
    }
}
