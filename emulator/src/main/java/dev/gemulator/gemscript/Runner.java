package dev.gemulator.gemscript;

import dev.gemulator.Machine;
import dev.gemulator.check.Report;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.sched.InterleavingScheduler;
import dev.gemulator.sched.Strategy;
import dev.gemulator.sched.TaskHungException;
import java.util.ArrayList;
import java.util.Random;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a parsed script on a machine, statement by statement in file order,
 * and prints the contract output of spec/gemscript.md: one line per
 * statement, the checkers' reports, then the expectations summary.
 *
 * <p>Exit status: 0 when every expectation held, 1 when one failed, 3 when a
 * checker reported a kernel bug (whatever the expectations did).
 */
public final class Runner {
    /** Exit statuses of a run. */
    public static final int OK = 0;
    public static final int EXPECTATION_FAILED = 1;
    public static final int PARSE_ERROR = 2;
    public static final int KERNEL_BUG = 3;

    private final Machine machine;
    private final Syscalls sys;
    private final PrintStream out;
    private final Map<String, Process> procs = new LinkedHashMap<>();
    private final Scope top = new Scope(null);
    private long longestParSteps;
    private Script.Stmt firstFailedStmt;
    private final int[] replayCursor = new int[1];
    private dev.gemulator.trace.TraceRecorder recorder;
    private String firstFailure;
    private final RunOptions options;
    private final Random random;
    private int passed;
    private int failed;
    private java.util.function.Consumer<Script.Stmt> beforeStatement = st -> { };

    /**
     * How the threads of {@code par} blocks are interleaved: the seed, the
     * strategy and, to replay a recorded schedule,
     * its decisions.
     */
    public record RunOptions(long seed, Strategy.Name strategy, int pctDepth, long pctMaxSteps, int[] replayDecisions) {
        public static final RunOptions DEFAULT = new RunOptions(0, Strategy.Name.RANDOM, 3, 10_000);

        public RunOptions(long seed, Strategy.Name strategy, int pctDepth, long pctMaxSteps) {
            this(seed, strategy, pctDepth, pctMaxSteps, null);
        }

        /** The strategy of a par block; with recorded decisions, a replay of them. */
        Strategy newStrategy(int[] replayCursor) {
            Strategy s = strategy.create(pctDepth, pctMaxSteps);
            return replayDecisions == null ? s : new Strategy.Replay(replayDecisions, replayCursor, s);
        }
    }

    /** Variables: a thread's own, then the top level's. */
    private static final class Scope {
        private final Scope parent;
        private final Map<String, Object> vars = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object get(String name) {
            Object v = vars.get(name);
            return v == null && parent != null ? parent.get(name) : v;
        }

        void put(String name, Object value) {
            vars.put(name, value);
        }
    }

    public Runner(Machine machine, PrintStream out) {
        this(machine, out, RunOptions.DEFAULT);
    }

    public Runner(Machine machine, PrintStream out, RunOptions options) {
        this.machine = machine;
        this.sys = machine.sys();
        this.out = out;
        this.options = options;
        this.random = new Random(options.seed());
    }

    /** Runs the script to the end, tears the machine down and prints the summary. Returns the exit status. */
    public int run(Script script) {
        if (script.hasPar()) {
            print("seed " + options.seed() + " strategy " + options.strategy());
        }
        runNodes(script.nodes(), null, top);
        List<Report> reports = machine.teardown();
        for (Report r : reports) {
            print(r.line());
            if (recorder != null) {
                recorder.report(r);
            }
        }
        print("expectations: " + passed + " passed, " + failed + " failed");
        out.flush();
        int exit = !reports.isEmpty() ? KERNEL_BUG : failed == 0 ? OK : EXPECTATION_FAILED;
        if (recorder != null) {
            recorder.end(exit);
        }
        return exit;
    }

    /** Records the run (steps, decisions, lines, reports) into {@code recorder}. */
    public Runner traceTo(dev.gemulator.trace.TraceRecorder recorder) {
        this.recorder = recorder;
        machine.observe(recorder);
        return this;
    }

    private void print(String line) {
        lastLine = line;
        out.println(line);
        if (recorder != null) {
            recorder.line(line);
        }
    }

    /** Calls {@code hook} before each statement runs (the demo narrates with it). */
    public Runner beforeStatement(java.util.function.Consumer<Script.Stmt> hook) {
        this.beforeStatement = hook;
        return this;
    }

    /** The most steps any par block of the run took (PCT's k for this scenario). */
    public long longestParSteps() {
        return longestParSteps;
    }

    /**
     * PCT needs the number of steps k of a run; this measures it with one
     * random run of the scenario on a fresh machine.
     */
    public static long measureSteps(Script script, dev.gemulator.kernel.Profile profile) {
        Runner r = new Runner(new Machine(profile),
                new PrintStream(java.io.OutputStream.nullOutputStream(), false, java.nio.charset.StandardCharsets.UTF_8),
                new RunOptions(0, Strategy.Name.RANDOM, 1, 1));
        r.run(script);
        return Math.max(1, r.longestParSteps());
    }

    /** The first statement whose expectation failed, or null. */
    public Script.Stmt firstFailedStatement() {
        return firstFailedStmt;
    }

    /** What the first failed expectation was ("line 9: gem_close expected EINVAL, got ok"), or null. */
    public String firstFailure() {
        return firstFailure;
    }

    public int passed() {
        return passed;
    }

    public int failed() {
        return failed;
    }

    /** Runs nodes as the main thread of their processes ({@code thread} null) or as one thread of a par. */
    private void runNodes(List<Script.Node> nodes, Task thread, Scope scope) {
        for (Script.Node n : nodes) {
            switch (n) {
                case Script.Stmt s -> statement(s, thread, scope);
                case Script.Repeat r -> {
                    for (long i = 0; i < r.count(); i++) {
                        runNodes(r.body(), thread, scope);
                    }
                }
                case Script.Par p -> par(p);
            }
        }
    }

    /** The threads of a par block run together under the seeded strategy. */
    private void par(Script.Par p) {
        List<InterleavingScheduler.ThreadSpec> specs = new ArrayList<>();
        for (Script.Thread t : p.threads()) {
            Process proc = proc(t.proc());
            String name = t.proc() + "." + t.name();
            Task task = proc.newTask(name);
            Scope scope = new Scope(top);
            specs.add(new InterleavingScheduler.ThreadSpec(name, task, () -> runNodes(t.body(), task, scope)));
        }
        Strategy strategy = options.newStrategy(replayCursor);
        InterleavingScheduler sched = new InterleavingScheduler(machine.kernel(), strategy, random);
        if (recorder != null) {
            sched.onDecision(recorder);
        }
        sched.run(specs);
        longestParSteps = Math.max(longestParSteps, sched.steps());
        print("par " + p.line() + ": " + strategy.describe() + ", " + sched.steps() + " steps, "
                + sched.decisions().size() + " decisions");
    }

    private Process proc(String name) {
        return procs.computeIfAbsent(name, sys::spawn);
    }

    /**
     * Where statements wait for their process (lockstep runs): before a
     * statement runs, {@link #before} blocks until the client thread that
     * owns it asks for it; {@link #after} hands it the statement's line.
     */
    public interface Gate {
        /** Thrown by {@link #before} when the process's client is gone for good. */
        final class ProcessGone extends RuntimeException {
            public ProcessGone(String process) {
                super(process, null, false, false);
            }
        }

        /** Thrown by {@link #before} when the client thread ended with statements left (its process lives on). */
        final class ThreadGone extends RuntimeException {
            public ThreadGone(String thread) {
                super(thread, null, false, false);
            }
        }

        void before(Script.Stmt s, String thread);

        void after(Script.Stmt s, String thread, String line);
    }

    private Gate gate;
    private final java.util.Set<String> gone = new java.util.HashSet<>();
    private final java.util.Set<String> goneThreads = new java.util.HashSet<>();
    private String lastLine;

    /** Runs every statement through {@code gate} (lockstep runs of client processes). */
    public Runner gate(Gate gate) {
        this.gate = gate;
        return this;
    }

    private void statement(Script.Stmt s, Task thread, Scope scope) {
        String label = thread != null ? thread.name() : s.proc();
        if (gate == null) {
            statementBody(s, thread, scope);
            return;
        }
        if (gone.contains(s.proc()) || goneThreads.contains(label)) {
            print(s.line() + " " + label + " " + s.op().opName() + " skip gone");
            failed++;
            return;
        }
        try {
            gate.before(s, label);
        } catch (Gate.ThreadGone e) {
            goneThreads.add(label);
            print(s.line() + " " + label + " " + s.op().opName() + " gone");
            failed++;
            return;
        } catch (Gate.ProcessGone e) {
            gone.add(s.proc());
            print(s.line() + " " + label + " " + s.op().opName() + " gone");
            failed++;
            Process p = procs.remove(s.proc());
            if (p != null && !p.exited() && p.tasks().stream().noneMatch(Task::isHung)) {
                sys.exit(p);
            }
            return;
        }
        lastLine = null;
        statementBody(s, thread, scope);
        gate.after(s, label, lastLine);
    }

    private void statementBody(Script.Stmt s, Task thread, Scope scope) {
        beforeStatement.accept(s);
        Process p = proc(s.proc());
        Task task = thread != null ? thread : p.mainTask();
        if (s.op() == Op.SEND_FD) {
            proc(((Script.Str) s.args().get(1)).text());
        }
        long[] a = new long[4];
        byte[] bytes = null;
        String unbound = null;
        for (int i = 0; i < s.args().size(); i++) {
            Script.Arg arg = s.args().get(i);
            Op.ArgKind kind = s.op().args().get(i);
            switch (arg) {
                case Script.Lit l -> a[i] = l.value();
                case Script.Bytes b -> bytes = b.bytes();
                case Script.Str str -> { }
                case Script.Var v -> {
                    Object val = scope.get(v.name());
                    if (kind == Op.ArgKind.HEX) {
                        byte[] parsed = val instanceof String str ? Numbers.parseHex(str) : null;
                        if (parsed == null) {
                            unbound = v.name();
                        } else {
                            bytes = parsed;
                        }
                    } else if (val instanceof Long l) {
                        a[i] = l;
                    } else {
                        unbound = v.name();
                    }
                }
            }
        }
        StringBuilder line = new StringBuilder().append(s.line()).append(' ').append(thread != null ? thread.name() : s.proc()).append(' ')
                .append(s.op().opName()).append(' ');
        if (unbound != null) {
            print(line.append("skip unbound $").append(unbound).toString());
            failed++;
            return;
        }
        if (p.tasks().stream().anyMatch(Task::isHung)) {
            print(line.append("skip hung").toString());
            failed++;
            return;
        }
        if (recorder != null) {
            List<String> args = new ArrayList<>();
            for (int i = 0; i < s.args().size(); i++) {
                Script.Arg arg = s.args().get(i);
                args.add(arg instanceof Script.Str str ? str.text()
                        : s.op().args().get(i) == Op.ArgKind.HEX ? Numbers.hex(bytes) : Long.toString(a[i]));
            }
            recorder.request(s.line(), task.name(), s.op().opName(), args);
        }
        SysResult r;
        try {
            r = execute(s, p, task, a, bytes);
        } catch (TaskHungException e) {
            print(line.append("hung").toString());
            failed++;
            return;
        }
        if (!r.isOk()) {
            line.append("err ").append(r.errno().name());
            for (int i = 0; i < s.results().size(); i++) {
                Op.ResultKind k = s.op().results().get(i);
                scope.put(s.results().get(i), k == Op.ResultKind.STR ? "" : k == Op.ResultKind.HEX ? "hex:" : (Object) (-1L));
            }
        } else {
            line.append("ok");
            Object[] values = resultValues(s.op(), r);
            for (int i = 0; i < values.length; i++) {
                Op.ResultKind k = s.op().results().get(i);
                line.append(' ').append(k == Op.ResultKind.EVENTS ? Flags.format((Long) values[i], Flags.EVENTS) : values[i]);
                if (i < s.results().size()) {
                    scope.put(s.results().get(i), values[i]);
                }
            }
        }
        print(line.toString());
        if (thread != null && !s.expect().stated()) {
            passed++;
            return;
        }
        Errno expected = s.expect().errno();
        if (r.errno() == expected) {
            passed++;
        } else {
            failed++;
            if (firstFailure == null) {
                firstFailedStmt = s;
                firstFailure = "line " + s.line() + ": " + s.op().opName() + " expected "
                        + (expected.isOk() ? "ok" : expected.name()) + ", got " + (r.isOk() ? "ok" : r.errno().name());
            }
        }
    }

    private static Object[] resultValues(Op op, SysResult r) {
        return switch (op.results().size()) {
            case 0 -> new Object[0];
            case 1 -> switch (op.results().get(0)) {
                case STR -> new Object[] {r.text()};
                case HEX -> new Object[] {Numbers.hex(r.data())};
                default -> new Object[] {r.v0()};
            };
            case 2 -> new Object[] {r.v0(), r.v1()};
            default -> new Object[] {r.v0(), r.v1(), r.v2()};
        };
    }

    /** The C int an fd argument is truncated to. */
    private static long fd(long v) {
        return (int) v;
    }

    private static int u32(long v) {
        return (int) v;
    }

    private SysResult execute(Script.Stmt s, Process p, Task t, long[] a, byte[] bytes) {
        return switch (s.op()) {
            case OPEN -> sys.open(t, canonicalNode(((Script.Str) s.args().get(0)).text()));
            case CLOSE -> sys.close(t, fd(a[0]));
            case DUP -> sys.dup(t, fd(a[0]));
            case SEND_FD -> sys.sendFd(t, fd(a[0]), proc(((Script.Str) s.args().get(1)).text()).mainTask());
            case EXIT -> {
                procs.remove(s.proc());
                yield sys.exit(p);
            }
            case VERSION -> sys.ioctl(t, fd(a[0]), new Ioctl.Version());
            case GET_CAP -> sys.ioctl(t, fd(a[0]), new Ioctl.GetCap(a[1]));
            case CREATE_DUMB -> sys.ioctl(t, fd(a[0]), new Ioctl.ModeCreateDumb(u32(a[1]), u32(a[2]), u32(a[3]), 0));
            case MAP_DUMB -> sys.ioctl(t, fd(a[0]), new Ioctl.ModeMapDumb(u32(a[1])));
            case DESTROY_DUMB -> sys.ioctl(t, fd(a[0]), new Ioctl.ModeDestroyDumb(u32(a[1])));
            case GEM_CLOSE -> sys.ioctl(t, fd(a[0]), new Ioctl.GemClose(u32(a[1])));
            case FLINK -> sys.ioctl(t, fd(a[0]), new Ioctl.GemFlink(u32(a[1])));
            case GEM_OPEN -> sys.ioctl(t, fd(a[0]), new Ioctl.GemOpen(u32(a[1])));
            case HANDLE_TO_FD -> sys.ioctl(t, fd(a[0]), new Ioctl.PrimeHandleToFd(u32(a[1]), u32(a[2])));
            case FD_TO_HANDLE -> sys.ioctl(t, fd(a[0]), new Ioctl.PrimeFdToHandle((int) a[1]));
            case LSEEK -> sys.lseek(t, fd(a[0]), a[1], (int) a[2]);
            case MMAP -> sys.mmap(t, fd(a[0]), a[1], a[2]);
            case MUNMAP -> sys.munmap(t, a[0]);
            case WRITE -> sys.writeMap(t, a[0], a[1], bytes);
            case READ -> sys.readMap(t, a[0], a[1], a[2]);
            case SYNC -> sys.ioctl(t, fd(a[0]), new Ioctl.DmaBufSync(a[1]));
            case FENCE_ATTACH -> sys.ioctl(t, fd(a[0]), new Ioctl.VgemFenceAttach(u32(a[1]), u32(a[2]), 0));
            case FENCE_SIGNAL -> sys.ioctl(t, fd(a[0]), new Ioctl.VgemFenceSignal(u32(a[1]), 0));
            case POLL -> sys.poll(t, fd(a[0]), (short) a[1], (int) a[2]);
            case EXPORT_SYNC_FILE -> sys.ioctl(t, fd(a[0]), new Ioctl.DmaBufExportSyncFile(u32(a[1])));
            case IMPORT_SYNC_FILE -> sys.ioctl(t, fd(a[0]), new Ioctl.DmaBufImportSyncFile((int) a[1], u32(a[2])));
            case GET_MAGIC -> sys.ioctl(t, fd(a[0]), new Ioctl.GetMagic());
            case AUTH_MAGIC -> sys.ioctl(t, fd(a[0]), new Ioctl.AuthMagic(u32(a[1])));
            case DROP_ROOT -> sys.dropRoot(t);
            case SET_MASTER -> sys.ioctl(t, fd(a[0]), new Ioctl.SetMaster());
            case DROP_MASTER -> sys.ioctl(t, fd(a[0]), new Ioctl.DropMaster());
            case SLEEP -> sys.sleep(t, a[0]);
            case IOCTL -> rawIoctl(t, fd(a[0]), (int) a[1], bytes);
            case FOREIGN_DMABUF -> sys.foreignDmaBuf(t, a[0]);
            case INJECT -> sys.injectFault(t, ((Script.Str) s.args().get(0)).text(), a[1]);
            case RLIMIT_NOFILE -> sys.setFdLimit(t, a[0]);
            case CHECK_EQ -> a[0] == a[1] ? SysResult.ok()
                    : SysResult.err(Errno.EDOM, a[0] + " is not " + a[1]);
            case CHECK_IN -> a[0] == a[1] || a[0] == a[2] ? SysResult.ok()
                    : SysResult.err(Errno.EDOM, a[0] + " is neither " + a[1] + " nor " + a[2]);
        };
    }

    /** The harness's buffer for a raw ioctl: the given bytes, zero-padded to at least 64 KiB. */
    private static final int RAW_IOCTL_BUFFER_BYTES = 65536;

    private SysResult rawIoctl(Task t, long fd, int cmd, byte[] given) {
        byte[] buf = java.util.Arrays.copyOf(given, Math.max(given.length, RAW_IOCTL_BUFFER_BYTES));
        dev.gemulator.kernel.uapi.UserBuffers mem = new dev.gemulator.kernel.uapi.UserBuffers()
                .put(Syscalls.IOCTL_ARG_ADDRESS, buf);
        SysResult r = sys.ioctl(t, fd, cmd, Syscalls.IOCTL_ARG_ADDRESS, mem);
        return r.isOk() ? SysResult.data(java.util.Arrays.copyOf(buf, given.length)) : r;
    }

    /** "card0x0" and "card00" name card0, as the harness's number parsing makes them. */
    private static String canonicalNode(String t) {
        boolean card = t.startsWith("card");
        Long n = Numbers.parse(t.substring(card ? 4 : 6));
        return (card ? "card" : "render") + n;
    }
}
