package dev.gemulator.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gemulator.Machine;
import dev.gemulator.server.SyscallDispatcher;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Nonsensical system calls straight into the dispatcher, from a seed: every
 * one comes back as a result (an errno with a message, or success), none as
 * an exception, and the 6.x model reports no kernel bug.
 */
@Tag("slow")
class SyscallFuzzTest {

    @Test
    void everyNonsensicalSystemCallComesBackAsAResult() {
        Set<String> thrown = new TreeSet<>();
        Machine machine = new Machine();
        machine.scheduler().interruptEndlessSleeps(true); // as a free-running server runs it
        SyscallDispatcher d = new SyscallDispatcher(machine);
        Random rnd = new Random(11);
        List<String> procs = List.of("A", "B", "C");
        for (int i = 0; i < 200_000 && thrown.size() < 30; i++) {
            var call = WireFuzzer.syscall(rnd);
            try {
                var r = d.execute(procs.get(rnd.nextInt(3)), rnd.nextInt(10) == 0 ? rnd.nextInt(3) : 0, call);
                if (r.getErrno() != 0 && r.getMessage().isEmpty()) {
                    thrown.add("errno " + r.getErrno() + " without a message: " + call.getCallCase());
                }
            } catch (RuntimeException | Error e) {
                StackTraceElement top = e.getStackTrace().length > 0 ? e.getStackTrace()[0] : null;
                thrown.add(call.getCallCase() + ": " + e + " at " + top + " <- " + call.toString().replace('\n', ' '));
            }
        }
        assertEquals(Set.of(), thrown);
        assertEquals(List.of(), machine.checkers().reports());
    }

    @Test
    void aProcessGetsEagainPastItsThreadLimitAndAnEndedThreadMakesRoom() {
        SyscallDispatcher d = new SyscallDispatcher(new Machine());
        var nap = dev.gemulator.proto.v1.Syscall.newBuilder().setSleep(dev.gemulator.proto.v1.Sleep.newBuilder()
                .setMilliseconds(0)).build();
        for (int t = 1; t <= SyscallDispatcher.MAX_THREADS; t++) {
            assertEquals(0, d.execute("A", t, nap).getErrno());
        }
        var r = d.execute("A", SyscallDispatcher.MAX_THREADS + 1, nap);
        assertEquals(dev.gemulator.kernel.Errno.EAGAIN.number(), r.getErrno(), r.getMessage());
        assertEquals(0, d.execute("A", 0, nap).getErrno(), "the main thread goes on");
        d.threadExit("A", 7);
        assertEquals(0, d.execute("A", SyscallDispatcher.MAX_THREADS + 1, nap).getErrno());
    }
}
