package dev.gemulator.client;

import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;

/**
 * Carries system calls of named processes to an emulated kernel and brings
 * back their results. Implementations are safe for several threads of one
 * process sharing one transport.
 */
public interface Transport extends AutoCloseable {

    /** Runs {@code call} as process {@code process} and returns its result. */
    SyscallResult call(String process, Syscall call);

    @Override
    void close();
}
