package dev.gemulator.kernel.proc;

import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.vfs.FileOps;
import dev.gemulator.kernel.vfs.KFile;
import java.util.ArrayDeque;

/**
 * af_unix.c as far as passing descriptors goes: one end of a connected
 * socket that a process opened for one peer (named), on which that peer may
 * send it descriptors with SCM_RIGHTS. Nobody else can put a descriptor in a
 * process: a process receives only on a channel it opened, and only what it
 * asks to receive.
 *
 * <p>Lifetime: a descriptor sent is in flight, its file held by a reference
 * of the channel's queue, until the owner receives it (then the reference
 * moves to the owner's new fd) or the channel's file is released, which
 * drops everything still in flight (unix_release_sock purges the queue).
 * The queue holds at most {@link #MAX_IN_FLIGHT} descriptors: a send beyond
 * fails with EAGAIN, as a non-blocking sendmsg on a full socket does.
 */
public final class FdChannel {
    /** Descriptors one channel may have in flight (SCM_MAX_FD, what one message may carry). */
    public static final int MAX_IN_FLIGHT = 253;

    /** The file operations of every channel's file. */
    public static final FileOps OPS = new Ops();

    private final Process owner;
    private final String peer;
    private final ArrayDeque<KFile> inFlight = new ArrayDeque<>();

    FdChannel(Process owner, String peer) {
        this.owner = owner;
        this.peer = peer;
    }

    /** The process that opened it (and alone receives on it). */
    public Process owner() {
        return owner;
    }

    /** The process allowed to send on it, by name. */
    public String peer() {
        return peer;
    }

    /** Descriptors sent and not yet received. */
    public int inFlight() {
        return inFlight.size();
    }

    boolean full() {
        return inFlight.size() >= MAX_IN_FLIGHT;
    }

    /** unix_attach_fds: the queue takes over the caller's reference on {@code file}. */
    void queue(KFile file) {
        inFlight.add(file);
    }

    /** unix_detach_fds: the oldest descriptor in flight (its reference now the caller's), or null. */
    KFile dequeue() {
        return inFlight.poll();
    }

    /** The channel behind a file, or null when it is no channel. */
    public static FdChannel of(KFile file) {
        return file != null && file.ops() == OPS ? (FdChannel) file.privateData() : null;
    }

    /** The channel {@code receiver} opened for {@code peer} (its lowest fd), or null: no consent. */
    public static FdChannel find(Process receiver, String peer) {
        FdTable files = receiver.files();
        for (int fd = 0, top = files.highWater(); fd < top; fd++) {
            FdChannel c = of(files.get(fd));
            if (c != null && c.owner == receiver && c.peer.equals(peer)) {
                return c;
            }
        }
        return null;
    }

    private static final class Ops implements FileOps {
        @Override
        public String name() {
            return "socket";
        }

        /** unix_release_sock: what is still in flight is dropped with the socket. */
        @Override
        public void release(KFile file) {
            FdChannel c = (FdChannel) file.privateData();
            KFile f;
            while ((f = c.inFlight.poll()) != null) {
                f.fput("unix_release_sock");
            }
        }

        /** unix_poll: readable when something is in flight. */
        @Override
        public int poll(KFile file, int events) {
            FdChannel c = (FdChannel) file.privateData();
            return (c.inFlight.isEmpty() ? 0 : KFile.POLLIN | KFile.POLLRDNORM) | KFile.POLLOUT | KFile.POLLWRNORM;
        }

        /** A socket cannot seek: ESPIPE. */
        @Override
        public KResult<Long> llseek(KFile file, long offset, int whence) {
            return noLlseek();
        }
    }
}
