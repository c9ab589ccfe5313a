package dev.gemulator.client;

import dev.gemulator.proto.v1.Close;
import dev.gemulator.proto.v1.Dup;
import dev.gemulator.proto.v1.Lseek;
import dev.gemulator.proto.v1.Mmap;
import dev.gemulator.proto.v1.Poll;
import dev.gemulator.proto.v1.Syscall;

/**
 * A file descriptor of an emulated process (a sync_file, or any fd whose
 * kind has no calls of its own); {@link DrmFd} and {@link DmaBufFd} add the
 * calls of theirs. Closing it is close(2).
 */
public class Fd implements AutoCloseable {
    /** poll(2): data to read (a dma-buf: no write fence pending). */
    public static final int POLLIN = 0x1;
    /** poll(2): writable (a dma-buf: no fence at all pending). */
    public static final int POLLOUT = 0x4;
    /** poll(2): the fd is not open. */
    public static final int POLLNVAL = 0x20;

    /** The process the fd belongs to. */
    protected final ClientProcess process;
    private final int number;
    private boolean closed;

    Fd(ClientProcess process, int number) {
        this.process = process;
        this.number = number;
    }

    /**
     * The fd's number in its process.
     *
     * @return the number (0, 1 and 2 are /dev/null)
     */
    public int number() {
        return number;
    }

    /**
     * The process the fd belongs to.
     *
     * @return its process
     */
    public ClientProcess process() {
        return process;
    }

    /** The same kind of descriptor with number {@code n} in process {@code p}. */
    Fd in(ClientProcess p, int n) {
        return new Fd(p, n);
    }

    /**
     * dup(2).
     *
     * @return a new fd of the same kind for the same file
     */
    public Fd dup() {
        int n = (int) process.call(Syscall.newBuilder().setDup(Dup.newBuilder().setFd(number)).build(), "dup").getValues(0);
        return in(process, n);
    }

    /**
     * lseek(2).
     *
     * @param offset the offset
     * @param whence 0 SEEK_SET, 1 SEEK_CUR, 2 SEEK_END
     * @return the new position
     */
    public long lseek(long offset, int whence) {
        return process.call(Syscall.newBuilder().setLseek(Lseek.newBuilder().setFd(number).setOffset(offset)
                .setWhence(whence)).build(), "lseek").getValues(0);
    }

    /**
     * poll(2) on this fd alone.
     *
     * @param events {@link #POLLIN}, {@link #POLLOUT} or both
     * @param timeoutMs how long to wait, in milliseconds of virtual time (0: do not wait)
     * @return the ready events, 0 when none came in time
     */
    public int poll(int events, int timeoutMs) {
        return (int) process.call(Syscall.newBuilder().setPoll(Poll.newBuilder().setFd(number).setEvents(events)
                .setTimeoutMs(timeoutMs)).build(), "poll").getValues(0);
    }

    /**
     * mmap(2), shared, read and write.
     *
     * @param offset the offset in the file (a DRM fd: the fake offset of {@link DrmFd#mapDumb})
     * @param length how many bytes
     * @return the mapping
     */
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
