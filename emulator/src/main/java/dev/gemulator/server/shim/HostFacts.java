package dev.gemulator.server.shim;

import dev.gemulator.kernel.proc.Credentials;
import java.util.function.Supplier;

/**
 * What the calls of programs behind the C shim learn from the real machine
 * rather than from the model: whether an anchor is registered and whether
 * its last descriptor is gone, and a process's credentials. A free-running
 * server asks the anchors socket and /proc ({@link #real}); a seeded run
 * records every answer in its trace, and its replay, which has neither the
 * programs nor their descriptors, answers from the trace.
 */
public interface HostFacts {
    /** Whether a new file may bind to anchor {@code ino}: it is registered and has a descriptor left. */
    boolean anchorLive(long ino);

    /** Whether the last descriptor of anchor {@code ino} is gone, asked at the program's close of one of them. */
    boolean closedLast(long ino);

    /** Whether the last descriptor of anchor {@code ino} is gone, asked when a process exits (or execs). */
    boolean goneAtExit(long ino);

    /** The credentials of real process {@code pid}; {@code fallback} when they cannot be read. */
    Credentials credentials(int pid, Credentials fallback);

    /** The machine's own answers: the anchors socket ({@code anchors} may give null: no socket) and /proc. */
    static HostFacts real(Supplier<Anchors> anchors) {
        return new HostFacts() {
            @Override
            public boolean anchorLive(long ino) {
                Anchors a = anchors.get();
                return a != null && a.known(ino) && !a.gone(ino);
            }

            @Override
            public boolean closedLast(long ino) {
                Anchors a = anchors.get();
                return a != null && a.gone(ino);
            }

            @Override
            public boolean goneAtExit(long ino) {
                Anchors a = anchors.get();
                return a == null || a.gone(ino);
            }

            @Override
            public Credentials credentials(int pid, Credentials fallback) {
                return HostCalls.readCredentials(pid, fallback);
            }
        };
    }
}
