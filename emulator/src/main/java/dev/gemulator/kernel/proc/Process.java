package dev.gemulator.kernel.proc;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Task;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A user process: its descriptors, its mappings, its credentials and its
 * threads. Processes start as root (uid 0 with CAP_SYS_ADMIN), as the
 * reference harness's children do, until they drop root for good.
 *
 * <p>A host process is a real one (a program behind the C shim): its pid,
 * uid, gid and capability are the real process's ({@link Credentials}), and
 * its descriptors live in its own real table ({@link FdTable#isHost}).
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
    private Credentials host;

    public Process(Kernel kernel, String name) {
        this(kernel, name, null);
    }

    /** A host process with the real process's credentials {@code host} (null: an emulated process). */
    public Process(Kernel kernel, String name, Credentials host) {
        this.kernel = kernel;
        this.name = name;
        this.files = new FdTable(name, DEFAULT_FD_LIMIT, host != null);
        this.pid = kernel.nextId(Kernel.IdKind.PROCESS);
        this.host = host;
        tasks.add(new Task(this, name));
    }

    public Kernel kernel() {
        return kernel;
    }

    public String name() {
        return name;
    }

    /** The thread-group id (task_tgid): the real one for a host process. */
    public int pid() {
        return host != null ? host.pid() : pid;
    }

    /** The real process's credentials, or null for an emulated process. */
    public Credentials host() {
        return host;
    }

    /** commit_creds: the real process changed its ids or capabilities (setuid, setgid). */
    public void setHost(Credentials host) {
        if (this.host == null) {
            throw new IllegalStateException(name + " is not a host process");
        }
        this.host = host;
    }

    /** The effective uid: 0 for root, 65534 once an emulated process dropped it. */
    public int uid() {
        return host != null ? host.uid() : root ? 0 : 65534;
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

    /** The process's tasks, main task first (read-only). */
    public List<Task> tasks() {
        return Collections.unmodifiableList(tasks);
    }

    /** capable(CAP_SYS_ADMIN): uid 0 for an emulated process, the real capability for a host one. */
    public boolean capSysAdmin() {
        return host != null ? host.capSysAdmin() : root;
    }

    public boolean isRoot() {
        return host != null ? host.uid() == 0 : root;
    }

    public void dropRoot() {
        root = false;
    }

    /** Live mappings by map id, oldest first (a read-only view). */
    public Map<Long, Vma> mappings() {
        return Collections.unmodifiableMap(mappings);
    }

    /** Adds {@code vma}, numbered already, to the address space. */
    void addMapping(Vma vma) {
        mappings.put(vma.mapId(), vma);
    }

    /** Takes the mapping {@code mapId} out of the address space; null when there is none. */
    Vma removeMapping(long mapId) {
        return mappings.remove(mapId);
    }

    /** Empties the address space (exec_mmap); returns what it held, oldest first. */
    List<Vma> takeMappings() {
        List<Vma> out = new ArrayList<>(mappings.values());
        mappings.clear();
        return out;
    }

    /** Empties the address space (exit_mmap); returns what it held in address order. */
    List<Vma> takeMappingsByAddress() {
        List<Vma> out = mappingsByAddress();
        mappings.clear();
        return out;
    }

    /**
     * mm->mmap_base: mappings are placed top down from here. The value is
     * arbitrary (the real one is randomized); what shows is the order of
     * the mappings' addresses, which is the order exit_mmap closes them in.
     */
    static final long MMAP_BASE = 0x7F00_0000_0000L;

    /**
     * arch_get_unmapped_area_topdown: where a new mapping of {@code
     * lengthBytes} (page aligned) goes, the top of the highest gap under
     * mmap_base that holds it. Only the order matters here: when no gap
     * holds it (which do_mmap's length check keeps from happening in
     * practice) it goes under the lowest mapping.
     */
    public long unmappedAreaTopdown(long lengthBytes) {
        List<Vma> byAddress = new ArrayList<>(mappings.values());
        byAddress.sort((a, b) -> Long.compare(b.start(), a.start()));
        long high = MMAP_BASE;
        for (Vma v : byAddress) {
            if (high - v.end() >= lengthBytes) {
                return high - lengthBytes;
            }
            high = Math.min(high, v.start());
        }
        return high - lengthBytes;
    }

    /** The live mappings in address order, lowest first (exit_mmap's walk). */
    public List<Vma> mappingsByAddress() {
        List<Vma> out = new ArrayList<>(mappings.values());
        out.sort((a, b) -> Long.compare(a.start(), b.start()));
        return out;
    }

    /** The next map id (1, 2, ...; never reused). */
    public long takeMapId() {
        return nextMapId++;
    }

    /** A forked child numbers its mappings on from where its parent stands (the copies keep their ids). */
    void continueMapIds(Process parent) {
        this.nextMapId = parent.nextMapId;
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
