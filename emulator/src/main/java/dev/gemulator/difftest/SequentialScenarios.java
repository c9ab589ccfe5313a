package dev.gemulator.difftest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A seeded generator of random sequential gemscript scenarios (version 0:
 * what the reference harness runs) for differential testing against the
 * real kernel: 100 to 250 statements (or as asked) in 1 to 4 processes
 * over every op of version 0, each statement with its results bound to a
 * new variable and no expectation suffix (both runners print the actual
 * result on every line, so the printed lines are compared; a failed
 * expectation only changes the summary count, equally on both sides).
 *
 * <p>Arguments are live (a variable bound to an fd of the right kind in the
 * right process, a handle of the file the fd names, a name, a map of the
 * process, a fence of the file, a magic), stale (an fd the process closed, a
 * handle it closed, a map it unmapped, a fence it signalled, a name whose
 * object lost its handles), from the wrong place (another file's handle,
 * another process's fd, a string where a number is needed) or odd literals
 * (0, -1, values that truncate to a kernel field's width, sizes that wrap,
 * offsets past 2^63, unknown flag bits). The generator's idea of what is live
 * is its own bookkeeping of what it asked for, not the kernel's answer: a
 * "live" argument may well be dead by then, which is more to compare.
 *
 * <p>Excluded, because the real kernel makes the outcome not reproducible
 * (each rule is enforced either here or by {@link Vetter}, which runs the
 * scenario on the emulator and has the offending statement rewritten):
 * <ul>
 * <li>Waiting on a fence. A vgem fence signals itself 10 s after it was
 * attached (wall clock on the oracle, virtual time in the emulator), so a
 * statement that waits for a pending fence ends at a moment that depends on
 * how fast the real machine ran the statements before it, and which other
 * fences have expired by then is a race against the wall clock. A
 * {@code sync} that would wait (START with READ and a pending write fence,
 * with WRITE and any pending fence) becomes its END form; {@code poll}
 * timeouts are 0 to 2 ms, never negative (for ever). The whole scenario runs
 * in well under a second of the oracle's time, so no fence expires.</li>
 * <li>Several handles of one file registered for one dma-buf while that
 * file's PRIME cache holds another dma-buf too (oracle README fact 15): the
 * cache is a red-black tree keyed by the {@code struct dma_buf} pointer, so
 * which of the handles {@code fd_to_handle} returns depends on kernel
 * addresses and flips between boots. An {@code fd_to_handle} of such a
 * dma-buf in such a file gets the drm fd -1.</li>
 * <li>A file that holds a magic taking the master with {@code set_master}
 * (fact 41): its number stays in the old master's table pointing at the
 * file, also after the file is freed, so later magics of that table are a
 * use-after-free in the real kernel. Such a {@code set_master} gets the fd
 * -1.</li>
 * <li>Mapping much memory: drm_gem_shmem_mmap allocates every page of the
 * object at mmap time, so mapping a 4 GiB object fails with ENOMEM on the
 * oracle's 512 MiB VM (after the OOM killer has ended some process) and
 * works on a bigger machine; the emulator allocates pages as they are
 * written. An mmap of an object over 32 MiB, or one that brings the live
 * objects mapped so far over 128 MiB, gets the fd -1. (Creating large objects
 * is fine: they stay lazy until mapped.)</li>
 * <li>fds 1 and 2: on the oracle they are the harness's serial port and
 * stderr (a tty: its own poll, lseek and ioctl answers, and closing them
 * loses output), in the emulator /dev/null. No literal fd is 1 or 2, nor
 * truncates to them, and numbers that are not fds (handles, sizes, ids)
 * never stand for an fd. fd 0 is /dev/null on both sides and is used.</li>
 * <li>High fds: the harness keeps its control socket and the send_fd socket
 * pairs of every child just under 1024 (RLIMIT_NOFILE), so no literal fd is
 * between 65 and 1023 (larger ones are EBADF on both sides).</li>
 * <li>Devices that do not exist on the oracle other than card1/render1
 * (there is no other DRM device in the VM); reads longer than 4 KiB (a line of
 * 8 KiB hex is enough); {@code exit} of the last live process (a scenario
 * whose processes all exited has nothing left to compare).</li>
 * </ul>
 *
 * <p>The same seed gives the same text (for the same emulator: the vetting
 * runs it), and every scenario parses.
 */
public final class SequentialScenarios {
    /** The default range of statements per scenario. */
    public static final int MIN_STATEMENTS = 100;
    public static final int MAX_STATEMENTS = 250;

    private static final String[] PROC_NAMES = {"A", "B", "C", "D"};

    /** Literal fds: /dev/null, small numbers a process may or may not have, and values the harness truncates to an int. */
    private static final String[] FD_LITERALS = {"0", "3", "4", "5", "6", "7", "8", "9", "10", "12", "16", "31", "64",
        "-1", "-3", "0x7fffffff", "-2147483648", "0x100000003", "0xffffffff"};
    private static final String[] HANDLE_LITERALS = {"0", "1", "1", "2", "2", "3", "4", "5", "8", "0xffffffff", "-1",
        "0x100000001", "0x80000000"};
    private static final String[] NAME_LITERALS = {"0", "1", "2", "3", "5", "0xffffffff", "0x100000001"};
    private static final String[] MAP_LITERALS = {"0", "1", "2", "3", "5", "-1", "0x100000001"};
    private static final String[] FENCE_LITERALS = {"0", "1", "2", "3", "0xffffffff", "0x100000001"};
    private static final String[] MAGIC_LITERALS = {"0", "1", "2", "3", "0xffffffff"};
    private static final String[] OFFSET_LITERALS = {"0", "4096", "0x100000000", "0x100001000", "0x100004000",
        "0x100000001", "0x100000800", "-4096", "0xfffffffffffff000", "0x7ffffffffffff000", "0x10000000000"};
    private static final String[] LENGTH_LITERALS = {"0", "1", "4095", "4097", "8192", "12288", "0x100000000",
        "0x800000000000", "0x1000000000000", "-1", "-4096", "0x7fffffffffffffff"};
    private static final String[][] COMMON_SIZES = {{"1", "2", "3", "4", "7", "8", "16", "31", "32", "64", "100", "128",
        "256", "640", "1024"}, {"1", "1", "2", "3", "4", "8", "16", "32", "64", "128", "480"},
        {"8", "16", "24", "32", "32", "32", "1", "12"}};
    private static final String[] ODD_SIZES = {"0 1 32", "1 0 32", "1 1 0", "0x20000000 1 8", "65536 65535 8",
        "65536 65536 8", "0xffffffff 1 8", "1 1 0xfffffff8", "1 1 0xfffffff7", "16384 16384 32", "1024 1024 8",
        "-1 -1 -1", "3 1 12", "100 1 1", "0x8000 0x8000 16", "0x40000000 4 8", "1 0x100000001 8", "4096 4096 32"};
    private static final String[] PRIME_FLAGS = {"RDWR", "RDWR", "CLOEXEC|RDWR", "CLOEXEC|RDWR", "0", "CLOEXEC"};
    private static final String[] ODD_PRIME_FLAGS = {"1", "3", "0x80001", "-1", "0x800", "0x80002"};
    private static final Set<String> ODD_PRIME_FLAGS_SET = Set.of(ODD_PRIME_FLAGS);
    private static final String[] SYNC_FLAGS = {"START|READ", "START|WRITE", "START|RW", "END|READ", "END|WRITE",
        "END|RW", "READ", "RW"};
    private static final String[] ODD_SYNC_FLAGS = {"START", "END", "0", "8", "7", "-1", "0x10", "0xc"};
    private static final String[] SYNC_FILE_FLAGS = {"READ", "WRITE", "RW", "RW"};
    private static final String[] ODD_SYNC_FILE_FLAGS = {"0", "4", "8", "-1", "5", "0x100000001"};
    private static final String[] FENCE_FLAGS = {"0", "WRITE"};
    private static final String[] ODD_FENCE_FLAGS = {"2", "3", "0xff", "-1", "0x100000001"};
    private static final String[] EVENTS = {"IN", "OUT", "IN|OUT"};
    private static final String[] ODD_EVENTS = {"0", "PRI", "0x7fff", "ERR|HUP", "NVAL", "-1"};
    private static final String[] TIMEOUTS = {"0", "0", "0", "0", "0", "0", "1", "2"};
    private static final String[] CAPS = {"PRIME", "PRIME", "DUMB_BUFFER", "TIMESTAMP_MONOTONIC", "SYNCOBJ",
        "SYNCOBJ_TIMELINE", "0", "0x20", "-1", "CURSOR_WIDTH", "ASYNC_PAGE_FLIP", "DUMB_PREFERRED_DEPTH"};
    private static final String[] WHENCES = {"SET", "CUR", "END", "END"};
    private static final String[] ODD_WHENCES = {"3", "4", "-1"};
    private static final String[] SEEK_OFFSETS = {"0", "0", "0", "0", "0", "0", "0", "1", "-1", "4096", "0x1000",
        "0x7fffffffffffffff"};
    private static final String[] DEVICES = {"card0", "card0", "card0", "card0", "card0", "card0", "card0", "card0",
        "card0", "render0", "render0", "render0"};
    private static final String[] ODD_DEVICES = {"card1", "render1", "card00", "card0x0"};

    // --- the generator's bookkeeping: what it asked for, not what the kernel answered ---

    private enum Kind { DRM, DMA_BUF, SYNC_FILE }

    /** A drm file (open file description), shared by the fds dup and send_fd make of it. */
    private static final class DrmFile {
        final boolean render;
        int fds;
        final List<Var> handles = new ArrayList<>();
        final List<Var> staleHandles = new ArrayList<>();
        final List<Var> fences = new ArrayList<>();
        final List<Var> staleFences = new ArrayList<>();

        DrmFile(boolean render) {
            this.render = render;
        }
    }

    /** A GEM object. */
    private static final class Obj {
        int handles;
        final List<Var> names = new ArrayList<>();
        Var size;
    }

    /** A variable: its name and what it stands for. */
    private record Var(String name, Kind kind, DrmFile file, Obj obj) {
        String ref() {
            return "$" + name;
        }
    }

    private static final class Proc {
        final String name;
        final List<Var> fds = new ArrayList<>();
        final List<Var> staleFds = new ArrayList<>();
        final List<String> maps = new ArrayList<>();
        final List<String> staleMaps = new ArrayList<>();
        int dropRoots;
        boolean exited;

        Proc(String name) {
            this.name = name;
        }

        List<Var> fds(Kind kind) {
            return fds.stream().filter(v -> v.kind == kind).toList();
        }
    }

    private final SplittableRandom random;
    private final int statements;
    private final List<Proc> procs = new ArrayList<>();
    private final List<Line> lines = new ArrayList<>();
    private final List<Var> names = new ArrayList<>();
    private final List<Var> staleNames = new ArrayList<>();
    /** mmap offsets from map_dumb, with their object. */
    private final List<Var> offsets = new ArrayList<>();
    private final List<String> magics = new ArrayList<>();
    /** Integer results that are neither fds nor ids (sizes, pitches, capabilities, positions, events). */
    private final List<String> numbers = new ArrayList<>();
    /** Read results (hex strings) and version results (strings). */
    private final List<String> hexes = new ArrayList<>();
    private final List<String> strings = new ArrayList<>();
    /** fd variables of every process, also of exited ones (numbers that mean something elsewhere). */
    private final List<Var> everyFd = new ArrayList<>();
    private int counter;

    private SequentialScenarios(long seed, int statements) {
        this.random = new SplittableRandom(seed);
        this.statements = statements;
    }

    /**
     * The scenario of {@code seed} with between {@code minStatements} and
     * {@code maxStatements} statements, vetted on the emulator so that it
     * holds nothing the real kernel makes non-reproducible.
     */
    public static Scenario generate(long seed, int minStatements, int maxStatements) {
        if (minStatements < 1 || maxStatements < minStatements) {
            throw new IllegalArgumentException("statements: want 1 <= min <= max, got " + minStatements + "-"
                    + maxStatements);
        }
        SplittableRandom sizes = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int n = minStatements + sizes.nextInt(maxStatements - minStatements + 1);
        Scenario raw = new SequentialScenarios(seed, n).scenario(seed);
        return Vetter.vetted(raw);
    }

    /** The scenario of {@code seed} with the default 100 to 250 statements. */
    public static Scenario generate(long seed) {
        return generate(seed, MIN_STATEMENTS, MAX_STATEMENTS);
    }

    private Scenario scenario(long seed) {
        int nprocs = 1 + random.nextInt(PROC_NAMES.length);
        for (int i = 0; i < nprocs; i++) {
            procs.add(new Proc(PROC_NAMES[i]));
        }
        focus();
        while (lines.size() < statements) {
            statement();
        }
        while (lines.size() > statements) {
            lines.remove(lines.size() - 1); // what a last several-statement step wrote past the count
        }
        return new Scenario(List.of("generated by gemulator difftest, scenario seed " + seed + ", " + nprocs
                + " process" + (nprocs == 1 ? "" : "es") + ", " + statements + " statements"), lines);
    }

    // --- choosing ---

    private <T> T pick(List<T> list) {
        return list.get(random.nextInt(list.size()));
    }

    private String pick(String[] a) {
        return a[random.nextInt(a.length)];
    }

    /** One of {@code usual}, or one of {@code odd} {@code oddPercent} of the time. */
    private String pick(String[] usual, String[] odd, int oddPercent) {
        return chance(oddPercent) ? pick(odd) : pick(usual);
    }

    private boolean chance(int percent) {
        return random.nextInt(100) < percent;
    }

    private String fresh(String stem) {
        return stem + (++counter);
    }

    private List<Proc> alive() {
        return procs.stream().filter(p -> !p.exited).toList();
    }

    /** An fd argument of process {@code p}, preferably of {@code want} (null: any kind). */
    private String fd(Proc p, Kind want) {
        return fdVar(p, want, null);
    }

    /** Like {@link #fd}, and tells {@code chosen[0]} the variable taken (null for a literal). */
    private String fdVar(Proc p, Kind want, Var[] chosen) {
        int r = random.nextInt(100);
        List<Var> own = want == null ? p.fds : p.fds(want);
        Var v = null;
        if (r < 80 && !own.isEmpty()) {
            v = pick(own);
        } else if (r < 85 && !p.fds.isEmpty()) {
            v = pick(p.fds);
        } else if (r < 91 && !p.staleFds.isEmpty()) {
            v = pick(p.staleFds);
        } else if (r < 95 && !everyFd.isEmpty()) {
            v = pick(everyFd);
        } else if (r < 97 && !own.isEmpty()) {
            v = pick(own);
        }
        if (chosen != null) {
            chosen[0] = v;
        }
        return v != null ? v.ref() : pick(FD_LITERALS);
    }

    /** A drm fd argument whose file holds handles, mostly (for the ops that take a handle). */
    private String drmFdWithHandles(Proc p, Var[] chosen) {
        List<Var> with = p.fds(Kind.DRM).stream().filter(v -> !v.file.handles.isEmpty()).toList();
        if (!with.isEmpty() && chance(85)) {
            Var v = pick(with);
            chosen[0] = v;
            return v.ref();
        }
        return drmFd(p, chosen);
    }

    /** Whether {@code v} is an fd the process holds (as far as the generator knows). */
    private static boolean live(Proc p, Var v) {
        return v != null && p.fds.contains(v);
    }

    /** Whether {@code h} is a handle the file behind {@code fd} holds. */
    private static boolean live(Proc p, Var fd, Var h) {
        return live(p, fd) && fd.kind == Kind.DRM && h != null && fd.file.handles.contains(h);
    }

    /** A drm fd argument: card files mostly, render files too. */
    private String drmFd(Proc p, Var[] chosen) {
        List<Var> drm = p.fds(Kind.DRM);
        List<Var> card = drm.stream().filter(v -> !v.file.render).toList();
        if (!card.isEmpty() && chance(75)) {
            Var v = pick(card);
            chosen[0] = v;
            return v.ref();
        }
        return fdVar(p, Kind.DRM, chosen);
    }

    /** A handle argument for the file behind {@code fd} (null when the fd is not a known drm file). */
    private String handle(Proc p, Var fd, Var[] chosen) {
        DrmFile f = fd != null && fd.kind == Kind.DRM ? fd.file : null;
        int r = random.nextInt(100);
        Var v = null;
        if (f != null && r < 80 && !f.handles.isEmpty()) {
            v = pick(f.handles);
        } else if (r < 86) {
            List<Var> other = new ArrayList<>();
            for (Var d : p.fds(Kind.DRM)) {
                other.addAll(d.file.handles);
            }
            if (!other.isEmpty()) {
                v = pick(other);
            }
        } else if (f != null && r < 93 && !f.staleHandles.isEmpty()) {
            v = pick(f.staleHandles);
        } else if (r < 95 && !numbers.isEmpty()) {
            chosen[0] = null;
            return "$" + pick(numbers);
        }
        chosen[0] = v;
        return v != null ? v.ref() : pick(HANDLE_LITERALS);
    }

    private String name() {
        int r = random.nextInt(100);
        if (r < 80 && !names.isEmpty()) {
            return pick(names).ref();
        }
        if (r < 90 && !staleNames.isEmpty()) {
            return pick(staleNames).ref();
        }
        return pick(NAME_LITERALS);
    }

    private String map(Proc p) {
        int r = random.nextInt(100);
        if (r < 85 && !p.maps.isEmpty()) {
            return "$" + pick(p.maps);
        }
        if (r < 93 && !p.staleMaps.isEmpty()) {
            return "$" + pick(p.staleMaps);
        }
        return pick(MAP_LITERALS);
    }

    private String fence(DrmFile f, Var[] chosen) {
        int r = random.nextInt(100);
        Var v = null;
        if (f != null && r < 75 && !f.fences.isEmpty()) {
            v = pick(f.fences);
        } else if (f != null && r < 88 && !f.staleFences.isEmpty()) {
            v = pick(f.staleFences);
        }
        chosen[0] = v;
        return v != null ? v.ref() : pick(FENCE_LITERALS);
    }

    private String hexData() {
        int r = random.nextInt(100);
        if (r < 8 && !hexes.isEmpty()) {
            return "$" + pick(hexes);
        }
        if (r < 10 && !strings.isEmpty()) {
            return "$" + pick(strings); // not hex: skip unbound
        }
        if (r < 13) {
            return "hex:";
        }
        int n = 1 + random.nextInt(8);
        StringBuilder b = new StringBuilder("hex:");
        for (int i = 0; i < n; i++) {
            b.append(String.format("%02x", random.nextInt(256)));
        }
        return b.toString();
    }

    private String mapOffset() {
        int r = random.nextInt(100);
        if (r < 70) {
            return Integer.toString(random.nextInt(4096));
        }
        if (r < 80) {
            return Integer.toString(4096 * random.nextInt(4) + random.nextInt(4096));
        }
        return pick(new String[] {"4096", "4095", "-1", "0x1000000", "0x7fffffffffffffff", "0x100000000"});
    }

    private void emit(Proc p, String op, List<String> args, List<String> results) {
        lines.add(new Line(p.name, op, args, results));
    }

    // --- the statements ---

    /** The ops and their weights (per mille). */
    private static final String[] OPS = {"open", "close", "dup", "send_fd", "exit", "version", "get_cap", "create_dumb",
        "map_dumb", "destroy_dumb", "gem_close", "flink", "gem_open", "handle_to_fd", "fd_to_handle", "lseek", "mmap",
        "munmap", "write", "read", "sync", "fence_attach", "fence_signal", "poll", "export_sync_file",
        "import_sync_file", "get_magic", "auth_magic", "drop_root", "set_master", "drop_master", "orphan"};
    private static final int[] WEIGHTS = {45, 60, 25, 35, 7, 12, 12, 85, 35, 20, 50, 35, 35, 75, 55, 17, 50, 18, 30, 30,
        23, 45, 40, 28, 30, 24, 16, 16, 8, 19, 19, 12};

    /**
     * Areas a scenario may dwell on: each scenario picks one or two and
     * weighs their ops four times, so that state builds up where the kernel
     * is intricate (what an exit or a close frees and in which order, fences
     * and sync_files, PRIME across files, the master and magics after
     * drop_root, mappings and their bytes).
     */
    private static final String[][] FOCUS = {
        {"close", "exit", "dup", "send_fd", "gem_close", "munmap", "mmap", "create_dumb", "handle_to_fd", "orphan"},
        {"fence_attach", "fence_signal", "poll", "sync", "export_sync_file", "import_sync_file", "handle_to_fd"},
        {"handle_to_fd", "fd_to_handle", "gem_open", "flink", "gem_close", "close", "dup", "send_fd"},
        {"drop_root", "open", "close", "get_magic", "auth_magic", "set_master", "drop_master", "flink", "gem_open"},
        {"mmap", "munmap", "write", "read", "map_dumb", "create_dumb"}};

    /** This scenario's weights: the base ones with its focus areas weighed up. */
    private int[] weights;
    private boolean lifetimes;
    private boolean auth;

    private void focus() {
        weights = WEIGHTS.clone();
        int areas = 1 + random.nextInt(2);
        for (int a = 0; a < areas; a++) {
            int f = random.nextInt(FOCUS.length);
            lifetimes |= f == 0;
            auth |= f == 3;
            for (String op : FOCUS[f]) {
                weights[Arrays.asList(OPS).indexOf(op)] *= 4;
            }
        }
    }

    private void statement() {
        List<Proc> alive = alive();
        Proc p = pick(alive);
        if (p.fds(Kind.DRM).isEmpty() && chance(70)) {
            open(p);
            return;
        }
        int w = random.nextInt(Arrays.stream(weights).sum());
        int i = 0;
        while (w >= weights[i]) {
            w -= weights[i++];
        }
        String op = productive(p, OPS[i]);
        switch (op) {
            case "open" -> open(p);
            case "close" -> close(p);
            case "dup" -> dup(p);
            case "send_fd" -> sendFd(p, alive);
            case "exit" -> {
                if (alive.size() > 1 && lines.size() > statements / (lifetimes ? 10 : 4)) {
                    exit(p);
                } else {
                    version(p);
                }
            }
            case "version" -> version(p);
            case "get_cap" -> getCap(p);
            case "create_dumb" -> createDumb(p);
            case "map_dumb" -> mapDumb(p);
            case "destroy_dumb", "gem_close" -> gemClose(p, op);
            case "flink" -> flink(p);
            case "gem_open" -> gemOpen(p);
            case "handle_to_fd" -> handleToFd(p);
            case "fd_to_handle" -> fdToHandle(p);
            case "lseek" -> lseek(p);
            case "mmap" -> mmap(p);
            case "munmap" -> munmap(p);
            case "write" -> write(p);
            case "read" -> read(p);
            case "sync" -> sync(p);
            case "fence_attach" -> fenceAttach(p);
            case "fence_signal" -> fenceSignal(p);
            case "poll" -> poll(p);
            case "export_sync_file" -> exportSyncFile(p);
            case "import_sync_file" -> importSyncFile(p);
            case "get_magic" -> getMagic(p);
            case "auth_magic" -> authMagic(p);
            case "drop_root" -> {
                if (p.dropRoots < 2 && (auth || lines.size() > statements / 5)) {
                    p.dropRoots++;
                    emit(p, "drop_root", List.of(), List.of());
                } else {
                    getMagic(p);
                }
            }
            case "orphan" -> orphan(p);
            default -> master(p, op);
        }
    }

    /**
     * Several statements: the process closes every handle its files hold of
     * one object, and sometimes its dma-buf fds of it too, so that what keeps
     * the object alive is a mapping, an import in another file or another
     * process's fd, and the object goes when that goes (an munmap, an exit,
     * a close), in the order the kernel frees things in.
     */
    private void orphan(Proc p) {
        List<Var> held = new ArrayList<>();
        for (Var fd : p.fds(Kind.DRM)) {
            held.addAll(fd.file.handles);
        }
        if (held.isEmpty()) {
            createDumb(p);
            return;
        }
        Obj o = pick(held).obj;
        for (Var fd : List.copyOf(p.fds(Kind.DRM))) {
            for (Var h : List.copyOf(fd.file.handles)) {
                if (h.obj == o && fd.file.handles.contains(h)) {
                    emit(p, "gem_close", List.of(fd.ref(), h.ref()), List.of());
                    dropHandle(fd.file, h);
                }
            }
        }
        if (chance(50)) {
            for (Var d : List.copyOf(p.fds(Kind.DMA_BUF))) {
                if (d.obj == o) {
                    emit(p, "close", List.of(d.ref()), List.of());
                    p.fds.remove(d);
                    p.staleFds.add(d);
                }
            }
        }
    }

    /**
     * Mostly, an op that needs something the process does not have yet makes
     * it first (an object, a dma-buf, a sync_file, a map), so that scenarios
     * build up state to use instead of failing on nothing.
     */
    private String productive(Proc p, String op) {
        boolean handles = p.fds(Kind.DRM).stream().anyMatch(v -> !v.file.handles.isEmpty());
        boolean bufs = !p.fds(Kind.DMA_BUF).isEmpty();
        String want = switch (op) {
            case "map_dumb", "destroy_dumb", "gem_close", "flink", "handle_to_fd", "fence_attach" ->
                handles ? op : "create_dumb";
            case "fd_to_handle", "lseek", "sync", "export_sync_file" -> bufs ? op : handles ? "handle_to_fd" : "create_dumb";
            case "import_sync_file" -> !p.fds(Kind.SYNC_FILE).isEmpty() ? op
                : bufs ? "export_sync_file" : handles ? "handle_to_fd" : "create_dumb";
            case "munmap", "write", "read" -> !p.maps.isEmpty() ? op : "mmap";
            case "mmap" -> bufs || !reachableOffsets(p).isEmpty() ? op : handles ? "map_dumb" : "create_dumb";
            case "fence_signal" -> p.fds(Kind.DRM).stream().anyMatch(v -> !v.file.fences.isEmpty()) ? op : "fence_attach";
            default -> op;
        };
        return chance(75) ? want : op;
    }

    private void open(Proc p) {
        String dev = pick(DEVICES, ODD_DEVICES, 4);
        String v = fresh("fd");
        emit(p, "open", List.of(dev), List.of(v));
        if (dev.equals("card1") || dev.equals("render1")) {
            return;
        }
        DrmFile f = new DrmFile(dev.startsWith("render"));
        f.fds = 1;
        addFd(p, new Var(v, Kind.DRM, f, null));
    }

    private void addFd(Proc p, Var v) {
        p.fds.add(v);
        everyFd.add(v);
    }

    private void close(Proc p) {
        Var[] chosen = new Var[1];
        List<Var> files = p.fds.stream().filter(v -> v.kind != Kind.DRM).toList();
        List<Var> drm = p.fds(Kind.DRM);
        int r = random.nextInt(100);
        String fd;
        if (r < 50 && !files.isEmpty()) {
            chosen[0] = pick(files);
            fd = chosen[0].ref();
        } else if (r < 65 && drm.size() > 1) {
            chosen[0] = pick(drm);
            fd = chosen[0].ref();
        } else if (r < 90 && !p.fds.isEmpty()) {
            chosen[0] = pick(p.fds);
            fd = chosen[0].ref();
        } else {
            fd = fdVar(p, null, chosen);
        }
        emit(p, "close", List.of(fd), List.of());
        Var v = chosen[0];
        if (v != null && p.fds.remove(v)) {
            p.staleFds.add(v);
            if (v.kind == Kind.DRM && --v.file.fds == 0) {
                closeFile(v.file);
            }
        }
    }

    /** The last fd of a drm file is gone: its handles close and its fences signal. */
    private void closeFile(DrmFile f) {
        for (Var h : List.copyOf(f.handles)) {
            dropHandle(f, h);
        }
        f.staleFences.addAll(f.fences);
        f.fences.clear();
    }

    private void dropHandle(DrmFile f, Var h) {
        f.handles.remove(h);
        f.staleHandles.add(h);
        if (--h.obj.handles == 0) {
            names.removeAll(h.obj.names);
            staleNames.addAll(h.obj.names);
            h.obj.names.clear();
        }
    }

    private void dup(Proc p) {
        Var[] chosen = new Var[1];
        String fd = fdVar(p, null, chosen);
        String v = fresh("fd");
        emit(p, "dup", List.of(fd), List.of(v));
        if (live(p, chosen[0])) {
            copyFd(chosen[0], p, v);
        }
    }

    /** A new fd of {@code to} for what {@code from} names (a live fd of its process). */
    private void copyFd(Var from, Proc to, String name) {
        Var v = new Var(name, from.kind, from.file, from.obj);
        if (v.kind == Kind.DRM) {
            v.file.fds++;
        }
        addFd(to, v);
    }

    private void sendFd(Proc p, List<Proc> alive) {
        Var[] chosen = new Var[1];
        String fd = fdVar(p, null, chosen);
        Proc to = chance(80) && alive.size() > 1 ? pick(alive.stream().filter(q -> q != p).toList()) : pick(alive);
        String v = fresh("fd");
        emit(p, "send_fd", List.of(fd, to.name), List.of(v));
        if (live(p, chosen[0])) {
            copyFd(chosen[0], to, v);
        }
    }

    private void exit(Proc p) {
        emit(p, "exit", List.of(), List.of());
        p.exited = true;
        for (Var v : List.copyOf(p.fds)) {
            if (v.kind == Kind.DRM && --v.file.fds == 0) {
                closeFile(v.file);
            }
        }
        p.fds.clear();
        // often another process looks at once where new objects go: the holes the exit left show what it freed
        List<Proc> others = alive();
        Proc q = others.isEmpty() ? null : pick(others);
        List<Var> card = q == null ? List.of() : q.fds(Kind.DRM).stream().filter(v -> !v.file.render).toList();
        for (int i = 0; i < 2 && !card.isEmpty() && chance(60); i++) {
            Var fd = pick(card);
            String h = fresh("h");
            String off = fresh("o");
            emit(q, "create_dumb", List.of(fd.ref(), "1", "1", "8"), List.of(h, fresh("p"), fresh("s")));
            emit(q, "map_dumb", List.of(fd.ref(), "$" + h), List.of(off));
            Obj o = new Obj();
            o.handles = 1;
            Var handle = new Var(h, null, fd.file, o);
            fd.file.handles.add(handle);
            offsets.add(new Var(off, null, null, o));
        }
    }

    private void version(Proc p) {
        String v = fresh("v");
        emit(p, "version", List.of(fd(p, Kind.DRM)), List.of(v));
        strings.add(v);
    }

    private void getCap(Proc p) {
        String v = fresh("c");
        emit(p, "get_cap", List.of(drmFd(p, new Var[1]), pick(CAPS)), List.of(v));
        numbers.add(v);
    }

    private void createDumb(Proc p) {
        Var[] chosen = new Var[1];
        String fd = drmFd(p, chosen);
        String sizes;
        boolean odd = chance(12);
        if (odd) {
            sizes = pick(ODD_SIZES);
        } else if (chance(50)) {
            // one page: equal holes of fake offsets, whose order shows when objects are freed
            sizes = (1 + random.nextInt(16)) + " " + (1 + random.nextInt(16)) + " " + pick(COMMON_SIZES[2]);
        } else {
            sizes = pick(COMMON_SIZES[0]) + " " + pick(COMMON_SIZES[1]) + " " + pick(COMMON_SIZES[2]);
        }
        String h = fresh("h");
        String pitch = fresh("p");
        String size = fresh("s");
        List<String> args = new ArrayList<>(List.of(fd));
        args.addAll(List.of(sizes.split(" ")));
        emit(p, "create_dumb", args, List.of(h, pitch, size));
        numbers.add(pitch);
        numbers.add(size);
        Var fdv = chosen[0];
        if (fdv != null && fdv.kind == Kind.DRM && !fdv.file.render && p.fds.contains(fdv) && !odd) {
            Obj o = new Obj();
            o.handles = 1;
            o.size = new Var(size, null, null, o);
            Var handle = new Var(h, null, fdv.file, o);
            fdv.file.handles.add(handle);
            if (chance(40) && lines.size() < statements) {
                // where the new object's fake offset is: it shows which holes earlier frees left
                String off = fresh("o");
                emit(p, "map_dumb", List.of(fd, handle.ref()), List.of(off));
                offsets.add(new Var(off, null, null, o));
            }
        }
    }

    private void mapDumb(Proc p) {
        Var[] fdv = new Var[1];
        String fd = drmFdWithHandles(p, fdv);
        Var[] hv = new Var[1];
        String h = handle(p, fdv[0], hv);
        String o = fresh("o");
        emit(p, "map_dumb", List.of(fd, h), List.of(o));
        if (live(p, fdv[0], hv[0])) {
            offsets.add(new Var(o, null, null, hv[0].obj));
        }
    }

    private void gemClose(Proc p, String op) {
        Var[] fdv = new Var[1];
        String fd = drmFdWithHandles(p, fdv);
        Var[] hv = new Var[1];
        String h = handle(p, fdv[0], hv);
        emit(p, op, List.of(fd, h), List.of());
        Var f = fdv[0];
        if (f != null && hv[0] != null && f.kind == Kind.DRM && f.file.handles.contains(hv[0])
                && (op.equals("gem_close") || !f.file.render)) {
            dropHandle(f.file, hv[0]);
        }
    }

    private void flink(Proc p) {
        Var[] fdv = new Var[1];
        String fd = drmFdWithHandles(p, fdv);
        Var[] hv = new Var[1];
        String h = handle(p, fdv[0], hv);
        String n = fresh("n");
        emit(p, "flink", List.of(fd, h), List.of(n));
        if (live(p, fdv[0], hv[0]) && !fdv[0].file.render) {
            Var name = new Var(n, null, null, hv[0].obj);
            hv[0].obj.names.add(name);
            names.add(name);
        }
    }

    private void gemOpen(Proc p) {
        Var[] fdv = new Var[1];
        String fd = drmFd(p, fdv);
        int before = names.size();
        String name = name();
        String h = fresh("h");
        String s = fresh("s");
        emit(p, "gem_open", List.of(fd, name), List.of(h, s));
        numbers.add(s);
        Var live = before > 0 ? names.stream().filter(v -> v.ref().equals(name)).findFirst().orElse(null) : null;
        Var f = fdv[0];
        if (live != null && f != null && f.kind == Kind.DRM && p.fds.contains(f)) {
            live.obj.handles++;
            f.file.handles.add(new Var(h, null, f.file, live.obj));
        }
    }

    private void handleToFd(Proc p) {
        Var[] fdv = new Var[1];
        String fd = drmFdWithHandles(p, fdv);
        Var[] hv = new Var[1];
        String h = handle(p, fdv[0], hv);
        String flags = pick(PRIME_FLAGS, ODD_PRIME_FLAGS, 8);
        String d = fresh("d");
        emit(p, "handle_to_fd", List.of(fd, h, flags), List.of(d));
        if (live(p, fdv[0], hv[0]) && !ODD_PRIME_FLAGS_SET.contains(flags)) {
            addFd(p, new Var(d, Kind.DMA_BUF, null, hv[0].obj));
        }
    }

    private void fdToHandle(Proc p) {
        Var[] fdv = new Var[1];
        String fd = drmFd(p, fdv);
        Var[] dv = new Var[1];
        String d = fdVar(p, Kind.DMA_BUF, dv);
        String h = fresh("h");
        emit(p, "fd_to_handle", List.of(fd, d), List.of(h));
        Var f = fdv[0];
        Var b = dv[0];
        if (f != null && b != null && f.kind == Kind.DRM && b.kind == Kind.DMA_BUF && p.fds.contains(b)) {
            boolean had = f.file.handles.stream().anyMatch(x -> x.obj == b.obj);
            if (!had) {
                b.obj.handles++;
                f.file.handles.add(new Var(h, null, f.file, b.obj));
            }
        }
    }

    private void lseek(Proc p) {
        String x = fresh("x");
        emit(p, "lseek", List.of(fd(p, chance(75) ? Kind.DMA_BUF : null), pick(SEEK_OFFSETS), pick(WHENCES, ODD_WHENCES, 12)),
                List.of(x));
        numbers.add(x);
    }

    /** The offsets (from map_dumb) of objects a drm file of {@code p} holds a handle to. */
    private List<Var> reachableOffsets(Proc p) {
        List<Var> out = new ArrayList<>();
        for (Var o : offsets) {
            if (p.fds(Kind.DRM).stream().anyMatch(f -> f.file.handles.stream().anyMatch(h -> h.obj == o.obj))) {
                out.add(o);
            }
        }
        return out;
    }

    private void mmap(Proc p) {
        String m = fresh("m");
        List<String> args;
        boolean live;
        List<Var> reachableHere = reachableOffsets(p);
        boolean drmSide = reachableHere.isEmpty() && !p.fds(Kind.DMA_BUF).isEmpty() ? chance(15) : chance(60);
        if (drmSide) {
            Var[] fdv = new Var[1];
            String fd = drmFd(p, fdv);
            if (!reachableHere.isEmpty() && chance(80)) {
                Var o = pick(reachableHere);
                List<Var> holders = p.fds(Kind.DRM).stream()
                        .filter(f -> f.file.handles.stream().anyMatch(h -> h.obj == o.obj)).toList();
                fdv[0] = pick(holders);
                fd = fdv[0].ref();
            }
            Var f = fdv[0];
            List<Var> reachable = new ArrayList<>();
            if (f != null && f.kind == Kind.DRM) {
                for (Var o : offsets) {
                    if (f.file.handles.stream().anyMatch(h -> h.obj == o.obj)) {
                        reachable.add(o);
                    }
                }
            }
            Var off = null;
            String offset;
            if (!reachable.isEmpty() && chance(70)) {
                off = pick(reachable);
                offset = off.ref();
            } else if (!offsets.isEmpty() && chance(50)) {
                off = pick(offsets);
                offset = off.ref();
            } else {
                offset = pick(OFFSET_LITERALS);
            }
            args = List.of(fd, offset, length(off != null ? off.obj : null));
            live = live(p, f) && reachable.contains(off);
        } else {
            Var[] dv = new Var[1];
            String fd = fdVar(p, Kind.DMA_BUF, dv);
            String offset = chance(80) ? "0" : pick(new String[] {"4096", "8192", "1", "-4096", "0x100000000"});
            args = List.of(fd, offset, length(dv[0] != null ? dv[0].obj : null));
            live = live(p, dv[0]) && dv[0].kind == Kind.DMA_BUF;
        }
        emit(p, "mmap", args, List.of(m));
        if (live) {
            p.maps.add(m);
        }
    }

    private String length(Obj o) {
        int r = random.nextInt(100);
        if (o != null && o.size != null && r < 35) {
            return o.size.ref();
        }
        if (r < 80) {
            return "4096";
        }
        if (r < 85 && !numbers.isEmpty()) {
            return "$" + pick(numbers);
        }
        return pick(LENGTH_LITERALS);
    }

    private void munmap(Proc p) {
        String m = map(p);
        emit(p, "munmap", List.of(m), List.of());
        if (m.startsWith("$") && p.maps.remove(m.substring(1))) {
            p.staleMaps.add(m.substring(1));
        }
    }

    private void write(Proc p) {
        emit(p, "write", List.of(map(p), mapOffset(), hexData()), List.of());
    }

    private void read(Proc p) {
        String r = fresh("r");
        String len = chance(90) ? Integer.toString(random.nextInt(33))
                : pick(new String[] {"4096", "0x100001", "-1", "0x100000000", "64"});
        emit(p, "read", List.of(map(p), mapOffset(), len), List.of(r));
        hexes.add(r);
    }

    private void sync(Proc p) {
        emit(p, "sync", List.of(fd(p, Kind.DMA_BUF), pick(SYNC_FLAGS, ODD_SYNC_FLAGS, 10)), List.of());
    }

    private void fenceAttach(Proc p) {
        Var[] fdv = new Var[1];
        String fd = drmFdWithHandles(p, fdv);
        Var[] hv = new Var[1];
        String h = handle(p, fdv[0], hv);
        String f = fresh("f");
        emit(p, "fence_attach", List.of(fd, h, pick(FENCE_FLAGS, ODD_FENCE_FLAGS, 8)), List.of(f));
        if (live(p, fdv[0], hv[0])) {
            fdv[0].file.fences.add(new Var(f, null, fdv[0].file, null));
        }
    }

    private void fenceSignal(Proc p) {
        Var[] fdv = new Var[1];
        String fd = drmFd(p, fdv);
        DrmFile file = fdv[0] != null && fdv[0].kind == Kind.DRM ? fdv[0].file : null;
        Var[] fv = new Var[1];
        String f = fence(file, fv);
        emit(p, "fence_signal", List.of(fd, f), List.of());
        if (file != null && fv[0] != null && file.fences.remove(fv[0])) {
            file.staleFences.add(fv[0]);
        }
    }

    private void poll(Proc p) {
        int r = random.nextInt(100);
        String fd = fd(p, r < 50 ? Kind.DMA_BUF : r < 80 ? Kind.SYNC_FILE : null);
        String e = fresh("e");
        emit(p, "poll", List.of(fd, pick(EVENTS, ODD_EVENTS, 10), pick(TIMEOUTS)), List.of(e));
        numbers.add(e);
    }

    private void exportSyncFile(Proc p) {
        String sf = fresh("sf");
        Var[] dv = new Var[1];
        String d = fdVar(p, Kind.DMA_BUF, dv);
        emit(p, "export_sync_file", List.of(d, pick(SYNC_FILE_FLAGS, ODD_SYNC_FILE_FLAGS, 8)), List.of(sf));
        if (live(p, dv[0]) && dv[0].kind == Kind.DMA_BUF) {
            addFd(p, new Var(sf, Kind.SYNC_FILE, null, null));
        }
    }

    private void importSyncFile(Proc p) {
        emit(p, "import_sync_file", List.of(fd(p, Kind.DMA_BUF), fd(p, Kind.SYNC_FILE), pick(SYNC_FILE_FLAGS, ODD_SYNC_FILE_FLAGS, 8)),
                List.of());
    }

    private void getMagic(Proc p) {
        String g = fresh("g");
        emit(p, "get_magic", List.of(drmFd(p, new Var[1])), List.of(g));
        magics.add(g);
    }

    private void authMagic(Proc p) {
        String g = !magics.isEmpty() && chance(75) ? "$" + pick(magics) : pick(MAGIC_LITERALS);
        emit(p, "auth_magic", List.of(drmFd(p, new Var[1]), g), List.of());
    }

    private void master(Proc p, String op) {
        emit(p, op, List.of(drmFd(p, new Var[1])), List.of());
    }
}
