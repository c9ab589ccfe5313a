package dev.gemulator.client;

import dev.gemulator.proto.v1.Close;
import dev.gemulator.proto.v1.Dup;
import dev.gemulator.proto.v1.Lseek;
import dev.gemulator.proto.v1.Mmap;
import dev.gemulator.proto.v1.Poll;
import dev.gemulator.proto.v1.Syscall;

/** A file descriptor of an emulated process; closing it is close(2). */
public class Fd implements AutoCloseable {
    public static final int POLLIN = 0x1;
    public static final int POLLOUT = 0x4;
    public static final int POLLNVAL = 0x20;

    protected final ClientProcess process;
    private final int number;
    private boolean closed;

    Fd(ClientProcess process, int number) {
        this.process = process;
        this.number = number;
    }

    public int number() {
        return number;
    }

    public ClientProcess process() {
        return process;
    }

    /** The same kind of descriptor with number {@code n} in process {@code p}. */
    Fd in(ClientProcess p, int n) {
        return new Fd(p, n);
    }

    /** dup(2). */
    public Fd dup() {
        int n = (int) process.call(Syscall.newBuilder().setDup(Dup.newBuilder().setFd(number)).build(), "dup").getValues(0);
        return in(process, n);
    }

    /** lseek(2); whence 0 SET, 1 CUR, 2 END. */
    public long lseek(long offset, int whence) {
        return process.call(Syscall.newBuilder().setLseek(Lseek.newBuilder().setFd(number).setOffset(offset)
                .setWhence(whence)).build(), "lseek").getValues(0);
    }

    /** poll(2) on this fd alone: the ready events, 0 after {@code timeoutMs} of virtual time. */
    public int poll(int events, int timeoutMs) {
        return (int) process.call(Syscall.newBuilder().setPoll(Poll.newBuilder().setFd(number).setEvents(events)
                .setTimeoutMs(timeoutMs)).build(), "poll").getValues(0);
    }

    /** mmap(2) shared read/write of {@code length} bytes at {@code offset}. */
    public Mapping mmap(long offset, long length) {
        long id = process.call(Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(number).setOffset(offset)
                .setLength(length)).build(), "mmap").getValues(0);
        return new Mapping(process, id, length);
    }

    /** close(2); closing twice is a no-op here (the kernel would answer EBADF). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            process.call(Syscall.newBuilder().setClose(Close.newBuilder().setFd(number)).build(), "close");
        }
    }

    @Override
    public String toString() {
        return process + ":fd" + number;
    }
}
