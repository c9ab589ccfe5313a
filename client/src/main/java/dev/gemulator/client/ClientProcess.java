package dev.gemulator.client;

import dev.gemulator.proto.v1.ChannelOpen;
import dev.gemulator.proto.v1.DropRoot;
import dev.gemulator.proto.v1.Exit;
import dev.gemulator.proto.v1.RecvFd;
import dev.gemulator.proto.v1.SendFd;
import dev.gemulator.proto.v1.Sleep;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import java.time.Duration;

/**
 * One emulated process: its name is its identity on the device, whichever
 * program or JVM uses it. Its system calls run as its main thread, or as a
 * thread of their own when several Java threads call at once.
 *
 * <p>Passing an fd between two processes that run in different programs:
 *
 * <pre>{@code
 * // in the JVM of process A
 * a.sendFd(dmaBuf, "B");
 * // in the JVM of process B
 * DmaBufFd shared = b.receiveDmaBuf(Duration.ofSeconds(10));
 * }</pre>
 */
public final class ClientProcess {
    private final Gemulator connection;
    private final String name;

    ClientProcess(Gemulator connection, String name) {
        this.connection = connection;
        this.name = name;
    }

    /**
     * The process's name.
     *
     * @return its name on the device
     */
    public String name() {
        return name;
    }

    Gemulator gemulator() {
        return connection;
    }

    SyscallResult call(Syscall call, String operation) {
        return connection.call(name, call, operation);
    }

    /**
     * open("/dev/dri/card0" or "renderD128", O_RDWR|O_CLOEXEC), by node name.
     *
     * @param node "card0" (primary) or "render0" (render node)
     * @return the new fd
     */
    public DrmFd open(String node) {
        return new DrmFd(this, (int) call(Gemulator.open(node), "open").getValues(0));
    }

    /**
     * Lets the process named {@code peer} pass fds to this one: opens a
     * channel for it (a socket-like fd of this process, once per peer in this
     * program, kept until the process exits). A process receives fds only on
     * channels it opened; what {@code peer} sends waits there until this
     * process picks it up with {@link #receiveFd}.
     *
     * @param peer the name of the process that will send
     */
    public void acceptFdsFrom(String peer) {
        connection.channel(this, peer);
    }

    /**
     * Passes {@code fd} to the process named {@code to} (SCM_RIGHTS over a
     * socket between them), wherever that process runs; it picks the fd up
     * with {@link #receiveFd}. The receiver must have consented with
     * {@link #acceptFdsFrom} this process's name (else DrmException ENOTCONN).
     * This process keeps its own copy of the fd.
     *
     * @param fd one of this process's fds
     * @param to the receiving process's name
     * @return how many fds this process has in flight to {@code to}, not yet received
     */
    public int sendFd(Fd fd, String to) {
        return (int) call(Syscall.newBuilder().setSendFd(SendFd.newBuilder().setFd(fd.number()).setToProcess(to))
                .build(), "send_fd").getValues(0);
    }

    /**
     * {@link #sendFd(Fd, String)}, waiting up to {@code patience} for the
     * receiver to connect and accept fds from this process (ESRCH and
     * ENOTCONN meanwhile), as a client waits for its server to listen.
     *
     * @param fd one of this process's fds
     * @param to the receiving process's name
     * @param patience how long to wait for the receiver's consent
     * @return how many fds this process has in flight to {@code to}, not yet received
     * @throws DrmException ESRCH or ENOTCONN when the receiver did not accept in time
     */
    public int sendFd(Fd fd, String to, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        long pause = 10;
        while (true) {
            try {
                return sendFd(fd, to);
            } catch (DrmException e) {
                if ((e.errno() != Errno.ESRCH && e.errno() != Errno.ENOTCONN) || System.nanoTime() >= deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DrmException(Errno.EINTR, "send_fd", "interrupted while waiting for " + to + " to accept fds");
            }
            pause = Math.min(100, pause * 2);
        }
    }

    /**
     * Passes {@code fd} to {@code to}, a process this program drives too
     * (through this connection or another of its own), and returns the fd as
     * {@code to} has it: {@code to} accepts fds from this process (the first
     * time), the fd waits in its channel, and {@code to} receives it. For a
     * receiver that runs in another program, use {@link #sendFd(Fd, String)}
     * and have that program call {@link #acceptFdsFrom} and {@link #receiveFd}.
     *
     * @param <F> the kind of fd
     * @param fd one of this process's fds
     * @param to the receiving process, as this program knows it
     * @return the same kind of fd, belonging to {@code to}
     */
    public <F extends Fd> F sendFd(F fd, ClientProcess to) {
        int channel = connection.channel(to, name);
        call(Syscall.newBuilder().setSendFd(SendFd.newBuilder().setFd(fd.number()).setToProcess(to.name)).build(),
                "send_fd");
        int n = (int) to.call(Syscall.newBuilder().setRecvFd(RecvFd.newBuilder().setFd(channel)).build(), "recv_fd")
                .getValues(0);
        @SuppressWarnings("unchecked")
        F moved = (F) fd.in(to, n);
        return moved;
    }

    /**
     * Opens a channel on which {@code peer} may send this process fds.
     *
     * @param peer the sending process's name
     * @return the channel's fd in this process
     */
    int openChannel(String peer) {
        return (int) call(Syscall.newBuilder().setChannelOpen(ChannelOpen.newBuilder()
                .setPeer(peer)).build(), "channel_open").getValues(0);
    }

    /**
     * Picks up the oldest fd another process passed to this one
     * ({@link #sendFd(Fd, String)}), waiting for one for up to
     * {@code timeout}.
     *
     * @param timeout how long to wait for an fd to arrive
     * @return the fd: a {@link DmaBufFd}, a {@link DrmFd}, or a plain {@link Fd} (a sync_file)
     * @throws DrmException EAGAIN when nothing arrived in time
     */
    public Fd receiveFd(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 10;
        while (true) {
            try {
                SyscallResult r = call(Syscall.newBuilder().setRecvFd(RecvFd.getDefaultInstance()).build(), "recv_fd");
                int n = (int) r.getValues(0);
                return switch (r.getText()) {
                    case "dmabuf" -> new DmaBufFd(this, n);
                    case "drm" -> new DrmFd(this, n);
                    default -> new Fd(this, n);
                };
            } catch (DrmException e) {
                if (e.errno() != Errno.EAGAIN || System.nanoTime() >= deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DrmException(Errno.EINTR, "recv_fd", "interrupted while waiting for an fd");
            }
            pause = Math.min(100, pause * 2);
        }
    }

    /**
     * {@link #receiveFd}, for a dma-buf.
     *
     * @param timeout how long to wait for an fd to arrive
     * @return the dma-buf fd
     * @throws DrmException EAGAIN when nothing arrived in time
     * @throws IllegalStateException when the fd that came is no dma-buf (it stays open in the process)
     */
    public DmaBufFd receiveDmaBuf(Duration timeout) {
        Fd fd = receiveFd(timeout);
        if (fd instanceof DmaBufFd d) {
            return d;
        }
        throw new IllegalStateException(name + " received fd " + fd.number() + ", which is no dma-buf");
    }

    /**
     * An fd this process holds, by number, as a dma-buf (one it learned of
     * some other way than {@link #receiveFd}).
     *
     * @param number the fd's number in this process
     * @return the fd; nothing is checked until it is used
     */
    public DmaBufFd dmaBufFd(int number) {
        return new DmaBufFd(this, number);
    }

    /**
     * An fd this process holds, by number, as a DRM node.
     *
     * @param number the fd's number in this process
     * @return the fd; nothing is checked until it is used
     */
    public DrmFd drmFd(int number) {
        return new DrmFd(this, number);
    }

    /**
     * Gives up root for good (uid 65534, no capabilities): DRM_IOCTL_SET_MASTER
     * and friends then need what an unprivileged process needs.
     */
    public void dropRoot() {
        call(Syscall.newBuilder().setDropRoot(DropRoot.getDefaultInstance()).build(), "drop_root");
    }

    /**
     * Sleeps in virtual time (fences expire, timers fire).
     *
     * @param millis how long, in milliseconds of virtual time
     */
    public void sleep(long millis) {
        call(Syscall.newBuilder().setSleep(Sleep.newBuilder().setMilliseconds(millis)).build(), "sleep");
    }

    /** Exits: every fd, mapping and handle of the process goes, in the kernel's order. */
    public void exit() {
        connection.forgetChannels(name);
        call(Syscall.newBuilder().setExit(Exit.getDefaultInstance()).build(), "exit");
    }

    @Override
    public String toString() {
        return name;
    }
}
