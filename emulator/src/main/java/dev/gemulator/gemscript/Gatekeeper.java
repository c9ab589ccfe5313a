package dev.gemulator.gemscript;

import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import java.util.HashSet;
import java.util.Set;

/**
 * Runs every statement through a lockstep run's {@link Runner.Gate}: it
 * waits until the client thread that owns the statement asks for it, and
 * hands that thread the statement's line. A process whose client is gone
 * for good has its statements print "skip gone" (and counted failed), and
 * is made to exit unless a task of it hangs; a client thread that ended
 * with statements left has the rest of its statements skipped.
 */
final class Gatekeeper {
    private final Runner.Gate gate;
    private final Statements statements;
    private final Syscalls sys;
    private final Output out;
    private final Tally tally;
    private final Set<String> gone = new HashSet<>();
    private final Set<String> goneThreads = new HashSet<>();

    Gatekeeper(Runner.Gate gate, Statements statements, Syscalls sys, Output out, Tally tally) {
        this.gate = gate;
        this.statements = statements;
        this.sys = sys;
        this.out = out;
        this.tally = tally;
    }

    void run(Script.Stmt s, Task thread, Scope scope) {
        String label = thread != null ? thread.name() : s.proc();
        if (gone.contains(s.proc()) || goneThreads.contains(label)) {
            out.print(s.line() + " " + label + " " + s.op().opName() + " skip gone");
            tally.fail();
            return;
        }
        try {
            gate.before(s, label);
        } catch (Runner.Gate.ThreadGone e) {
            goneThreads.add(label);
            out.print(s.line() + " " + label + " " + s.op().opName() + " gone");
            tally.fail();
            return;
        } catch (Runner.Gate.ProcessGone e) {
            gone.add(s.proc());
            out.print(s.line() + " " + label + " " + s.op().opName() + " gone");
            tally.fail();
            Process p = statements.forget(s.proc());
            if (p != null && !p.exited() && p.tasks().stream().noneMatch(Task::isHung)) {
                sys.exit(p);
            }
            return;
        }
        out.clearLast();
        statements.run(s, thread, scope);
        gate.after(s, label, out.lastLine());
    }
}
