package dev.gemulator.server;

import dev.gemulator.Machine;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.Transport;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;

/**
 * A transport to a machine in this JVM: each call is the same protocol
 * message a network client would send, executed on the caller's thread one
 * at a time (the kernel model is single-threaded).
 */
public final class InProcessTransport implements Transport {
    private final SyscallDispatcher dispatcher;

    /** A client library connection to a fresh machine (one vgem device, Linux 6.x) in this JVM. */
    public static Gemulator connect() {
        return new Gemulator(new InProcessTransport(new Machine()));
    }

    public InProcessTransport(Machine machine) {
        this.dispatcher = new SyscallDispatcher(machine);
    }

    public Machine machine() {
        return dispatcher.machine();
    }

    @Override
    public synchronized SyscallResult call(String process, Syscall call) {
        return dispatcher.execute(process, call);
    }

    @Override
    public void close() {
    }
}
