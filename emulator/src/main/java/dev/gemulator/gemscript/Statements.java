package dev.gemulator.gemscript;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.sched.TaskHungException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs one statement: binds its arguments from the scope, makes its call
 * ({@link Calls}), prints its line (spec/gemscript.md: line, thread,
 * operation, then ok and the results or err and the errno; skip and hung
 * when it could not run), binds its results and counts its expectation.
 * Holds the run's processes by name, each started when first named.
 */
final class Statements {
    private final Syscalls sys;
    private final Output out;
    private final Tally tally;
    private final Calls calls;
    private final Map<String, Process> procs = new LinkedHashMap<>();
    private Consumer<Script.Stmt> beforeStatement = st -> { };

    Statements(Syscalls sys, Output out, Tally tally) {
        this.sys = sys;
        this.out = out;
        this.tally = tally;
        this.calls = new Calls(sys, this::proc);
    }

    void beforeStatement(Consumer<Script.Stmt> hook) {
        this.beforeStatement = hook;
    }

    /** The process of {@code name}, spawned when first named. */
    Process proc(String name) {
        return procs.computeIfAbsent(name, sys::spawn);
    }

    /** Forgets process {@code name} (it exited or its client is gone); returns it, or null. */
    Process forget(String name) {
        return procs.remove(name);
    }

    /** Runs {@code s} on {@code thread} (a par thread) or, when null, on its process's main thread. */
    void run(Script.Stmt s, Task thread, Scope scope) {
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
            out.print(line.append("skip unbound $").append(unbound).toString());
            tally.fail();
            return;
        }
        if (p.tasks().stream().anyMatch(Task::isHung)) {
            out.print(line.append("skip hung").toString());
            tally.fail();
            return;
        }
        if (out.recorder() != null) {
            List<String> args = new ArrayList<>();
            for (int i = 0; i < s.args().size(); i++) {
                Script.Arg arg = s.args().get(i);
                args.add(arg instanceof Script.Str str ? str.text()
                        : s.op().args().get(i) == Op.ArgKind.HEX ? Numbers.hex(bytes) : Long.toString(a[i]));
            }
            out.recorder().request(s.line(), task.name(), s.op().opName(), args);
        }
        SysResult r;
        try {
            if (s.op() == Op.EXIT) {
                procs.remove(s.proc());
            }
            r = calls.execute(s, p, task, a, bytes);
        } catch (TaskHungException e) {
            out.print(line.append("hung").toString());
            tally.fail();
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
        out.print(line.toString());
        if (thread != null && !s.expect().stated()) {
            tally.pass();
            return;
        }
        Errno expected = s.expect().errno();
        tally.check(s, expected, r.errno());
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
}
