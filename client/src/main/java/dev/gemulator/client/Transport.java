package dev.gemulator.client;

import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;

/**
 * How the library's calls reach an emulated kernel: the seam below
 * {@link Gemulator}. The library's own is the network transport of
 * {@link Gemulator#connect(String, int, String)}; the emulator module adds an
 * in-process one. Programs use {@link ClientProcess}, {@link DrmFd} and the
 * other types above it, which do not change when the encoding underneath
 * does. Implementations are safe for several threads of one process.
 */
public interface Transport extends AutoCloseable {

    /**
     * Runs one system call as a process and returns its result.
     *
     * @param process the process's name on the device
     * @param call the system call
     * @return its result (errno 0 for success)
     * @throws ConnectionLostException when the kernel cannot be reached
     */
    SyscallResult call(String process, Syscall call);

    /** Ends every process this transport carried and lets go of its connections. */
    @Override
    void close();
}
