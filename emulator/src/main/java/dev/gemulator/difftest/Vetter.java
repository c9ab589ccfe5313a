package dev.gemulator.difftest;

import dev.gemulator.Machine;
import dev.gemulator.gemscript.Flags;
import dev.gemulator.gemscript.Op;
import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.prime.PrimeFile;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Vma;
import dev.gemulator.kernel.vfs.KFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs a sequential scenario on the emulator (Linux 6.x) and watches it for
 * what the real kernel makes non-reproducible (the rules of {@link
 * SequentialScenarios}): a statement that waits for a fence, an {@code
 * fd_to_handle} whose answer depends on kernel pointer order, a {@code
 * set_master} of a file holding a magic. The same run is the emulator's side
 * of the comparison: its output is what {@code gemulator run} prints.
 */
public final class Vetter {
    /** A statement waiting longer than this for a fence waits for the 10 s timeout of vgem fences. */
    static final long WAIT_LIMIT_NANOS = 100_000_000L;

    /** What makes a statement's outcome on the real kernel not reproducible. */
    public enum Rule {
        /** The statement waited for a pending fence (until the fence's 10 s wall-clock timeout on the oracle). */
        FENCE_WAIT,
        /** fd_to_handle in a file with several handles for the dma-buf and other dma-bufs in its cache (fact 15). */
        POINTER_ORDER_LOOKUP,
        /** set_master of a file that holds a magic: the old master's table keeps pointing at it (fact 41). */
        MAGIC_SET_MASTER,
        /**
         * mmap of a large object, or of more than the budget of live mapped
         * objects: drm_gem_shmem_mmap pins every page of the object, so
         * whether it fails with ENOMEM (or the OOM killer ends a process)
         * depends on the memory of the machine.
         */
        PINNED_MEMORY
    }

    /** The largest object a scenario may map: drm_gem_shmem_mmap allocates all of its pages at once. */
    static final long MAP_LIMIT_BYTES = 32L << 20;
    /** What the objects mapped so far and still alive may hold together (the oracle VM has 512 MiB). */
    static final long PINNED_BUDGET_BYTES = 128L << 20;

    /** The first offending statement of a run: its index among the scenario's statements. */
    public record Violation(int index, Rule rule, String detail) {
    }

    /** The emulator's output and exit status, and the first violation (or null). */
    public record Run(String output, int exitStatus, Violation violation) {
    }

    private Vetter() {
    }

    /** Runs {@code scenario} on a fresh emulated machine under Linux 6.x. */
    public static Run run(Scenario scenario) {
        Script script;
        try {
            script = Parser.parse("difftest.gem", scenario.text());
        } catch (ParseException e) {
            throw new IllegalArgumentException("scenario does not parse: " + e.getMessage() + "\n" + scenario.text(), e);
        }
        Machine machine = new Machine();
        Probe probe = new Probe(machine, scenario);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit;
        try (PrintStream out = new PrintStream(bytes, false, StandardCharsets.UTF_8)) {
            exit = new Runner(machine, out).gate(probe).run(script);
        }
        return new Run(bytes.toString(StandardCharsets.UTF_8), exit, probe.violation);
    }

    /**
     * The scenario with every offending statement rewritten so that it no
     * longer depends on what the real kernel cannot reproduce: a waiting
     * sync becomes its END form, any other offender gets the fd -1 (EBADF).
     */
    public static Scenario vetted(Scenario scenario) {
        Scenario s = scenario;
        for (int round = 0; round <= s.lines().size(); round++) {
            Violation v = run(s).violation();
            if (v == null) {
                return s;
            }
            s = s.with(v.index(), rewrite(s.lines().get(v.index()), v.rule()));
        }
        throw new IllegalStateException("vetting does not converge:\n" + s.text());
    }

    static Line rewrite(Line l, Rule rule) {
        if (rule == Rule.FENCE_WAIT && l.op().equals("sync")) {
            String end = switch (l.args().get(1)) {
                case "START|READ", "READ", "1" -> "END|READ";
                case "START|WRITE", "WRITE", "2" -> "END|WRITE";
                default -> "END|RW";
            };
            if (!end.equals(l.args().get(1))) {
                return l.withArg(1, end);
            }
        }
        if (rule == Rule.FENCE_WAIT && l.op().equals("poll")) {
            return l.withArg(2, "0");
        }
        return l.withArg(0, "-1");
    }

    /** Watches every statement: before it (arguments, the clock) and after it (its line, the caches). */
    private static final class Probe implements Runner.Gate {
        private final Machine machine;
        private final Scenario scenario;
        private final Map<String, Object> vars = new HashMap<>();
        /** Files whose PRIME cache has had several members for one dma-buf beside other dma-bufs since it last had none. */
        private final Set<DrmFile> pointerOrdered = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Set<DrmFile> magicHolders = Collections.newSetFromMap(new IdentityHashMap<>());
        /** Objects that have been mapped (all their pages allocated on the real kernel), in mapping order. */
        private final List<GemObject> pinned = new ArrayList<>();
        private Violation violation;
        private long clockBefore;
        private DrmFile subject;

        Probe(Machine machine, Scenario scenario) {
            this.machine = machine;
            this.scenario = scenario;
        }

        private void violate(Script.Stmt s, Rule rule, String detail) {
            if (violation == null) {
                violation = new Violation(scenario.index(s.line()), rule, "line " + s.line() + ": " + detail);
            }
        }

        @Override
        public void before(Script.Stmt s, String thread) {
            clockBefore = machine.kernel().clock().nowNanos();
            subject = null;
            Process p = process(s.proc());
            switch (s.op()) {
                case FD_TO_HANDLE -> {
                    DrmFile f = drmFile(p, arg(s, 0));
                    DmaBuf b = dmaBuf(p, arg(s, 1));
                    if (f != null && b != null && pointerOrdered.contains(f) && members(f.prime(), b) > 1) {
                        violate(s, Rule.POINTER_ORDER_LOOKUP, "fd_to_handle of " + b + " in " + f
                                + ", whose cache has several handles for it and other dma-bufs");
                    }
                }
                case SET_MASTER, GET_MAGIC -> subject = drmFile(p, arg(s, 0));
                default -> {
                }
            }
        }

        @Override
        public void after(Script.Stmt s, String thread, String line) {
            long waited = machine.kernel().clock().nowNanos() - clockBefore;
            if (waited > WAIT_LIMIT_NANOS) {
                violate(s, Rule.FENCE_WAIT, s.op().opName() + " waited " + waited / 1_000_000 + " ms for a fence");
            }
            boolean ok = line != null && line.contains(" " + s.op().opName() + " ok");
            if (ok && subject != null && s.op() == Op.SET_MASTER && magicHolders.contains(subject)) {
                violate(s, Rule.MAGIC_SET_MASTER, "set_master of " + subject + ", which holds a magic");
            }
            if (ok && subject != null && s.op() == Op.GET_MAGIC) {
                magicHolders.add(subject);
            }
            if (ok && s.op() == Op.MMAP) {
                mapped(s, line);
            }
            bind(s, line);
            for (DrmFile f : liveDrmFiles()) {
                Map<Integer, Integer> perBuf = new TreeMap<>();
                for (PrimeFile.Member m : f.prime().members()) {
                    perBuf.merge(m.buf().id(), 1, Integer::sum);
                }
                boolean duplicates = perBuf.values().stream().anyMatch(n -> n > 1);
                if (!duplicates) {
                    pointerOrdered.remove(f);
                } else if (perBuf.size() > 1) {
                    pointerOrdered.add(f);
                }
            }
        }

        /** A mapping was made: its object's pages count against the budget from now on. */
        private void mapped(Script.Stmt s, String line) {
            Process p = process(s.proc());
            String[] t = line.split(" ");
            Vma vma = p == null ? null : p.mappings().get(Long.parseLong(t[t.length - 1]));
            GemObject o = vma == null ? null : vma.object();
            if (o == null) {
                return;
            }
            if (pinned.stream().noneMatch(x -> x == o)) {
                pinned.add(o);
            }
            long total = 0;
            for (GemObject x : pinned) {
                total += x.isFreed() ? 0 : x.size();
            }
            if (o.size() > MAP_LIMIT_BYTES || total > PINNED_BUDGET_BYTES) {
                violate(s, Rule.PINNED_MEMORY, "mmap of " + o + " (" + o.size() + " bytes) with " + total
                        + " bytes of mapped objects alive");
            }
        }

        private Process process(String name) {
            for (Process p : machine.kernel().processes()) {
                if (p.name().equals(name) && !p.exited()) {
                    return p;
                }
            }
            return null;
        }

        /** The value an argument has now, or null (a string variable: the statement is skipped). */
        private Long arg(Script.Stmt s, int i) {
            return switch (s.args().get(i)) {
                case Script.Lit l -> l.value();
                case Script.Var v -> vars.get(v.name()) instanceof Long l ? l : null;
                default -> null;
            };
        }

        private static KFile file(Process p, Long fd) {
            return p == null || fd == null ? null : p.files().get((int) (long) fd);
        }

        private static DrmFile drmFile(Process p, Long fd) {
            KFile f = file(p, fd);
            return f != null && f.privateData() instanceof DrmFile d ? d : null;
        }

        private static DmaBuf dmaBuf(Process p, Long fd) {
            KFile f = file(p, fd);
            return f != null && f.privateData() instanceof DmaBuf b ? b : null;
        }

        private static int members(PrimeFile cache, DmaBuf buf) {
            int n = 0;
            for (PrimeFile.Member m : cache.members()) {
                if (m.buf() == buf) {
                    n++;
                }
            }
            return n;
        }

        /** Every drm file an fd of a live process names, each once, in process and fd order. */
        private List<DrmFile> liveDrmFiles() {
            List<DrmFile> out = new ArrayList<>();
            Set<DrmFile> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Process p : machine.kernel().processes()) {
                for (int fd = 0; fd < p.files().highWater(); fd++) {
                    KFile f = p.files().get(fd);
                    if (f != null && f.privateData() instanceof DrmFile d && seen.add(d)) {
                        out.add(d);
                    }
                }
            }
            return out;
        }

        /** Binds the statement's result variables from its printed line, as the runners do. */
        private void bind(Script.Stmt s, String line) {
            if (line == null || s.results().isEmpty()) {
                return;
            }
            String[] t = line.split(" ");
            if (t.length < 4 || t[3].equals("skip")) {
                return;
            }
            List<Op.ResultKind> kinds = s.op().results();
            for (int i = 0; i < s.results().size(); i++) {
                Op.ResultKind k = kinds.get(i);
                Object v;
                if (t[3].equals("err")) {
                    v = k == Op.ResultKind.STR ? "" : k == Op.ResultKind.HEX ? "hex:" : (Object) (-1L);
                } else {
                    String text = 4 + i < t.length ? t[4 + i] : "";
                    v = switch (k) {
                        case STR, HEX -> text;
                        case EVENTS -> events(text);
                        case INT -> Long.parseLong(text);
                    };
                }
                vars.put(s.results().get(i), v);
            }
        }

        private static Long events(String text) {
            long v = 0;
            for (String name : text.split("\\|")) {
                Long bit = Flags.EVENTS.get(name);
                v |= bit != null ? bit : name.startsWith("0x") ? Long.parseLong(name.substring(2), 16) : Long.parseLong(name);
            }
            return v;
        }
    }
}
