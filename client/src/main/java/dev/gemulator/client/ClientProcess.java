package dev.gemulator.client;

import dev.gemulator.proto.v1.DropRoot;
import dev.gemulator.proto.v1.Exit;
import dev.gemulator.proto.v1.SendFd;
import dev.gemulator.proto.v1.Sleep;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;

/** One emulated process: its name is its identity on the device. */
public final class ClientProcess {
    private final Gemulator connection;
    private final String name;

    ClientProcess(Gemulator connection, String name) {
        this.connection = connection;
        this.name = name;
    }

    public String name() {
        return name;
    }

    SyscallResult call(Syscall call, String operation) {
        return connection.call(name, call, operation);
    }

    /** open("/dev/dri/card0" or "renderD128", O_RDWR|O_CLOEXEC) by node name: "card0", "render0". */
    public DrmFd open(String node) {
        return new DrmFd(this, (int) call(Gemulator.open(node), "open " + node).getValues(0));
    }

    /**
     * Passes {@code fd} to process {@code to} (SCM_RIGHTS); returns the
     * descriptor it became there, of the same kind. A process receives fds
     * only on a channel it opened for the sender: {@code to} opens one for
     * this process the first time (one more fd of {@code to}'s, kept until it
     * exits), the fd waits in it, and {@code to} receives it.
     */
    public <F extends Fd> F sendFd(F fd, ClientProcess to) {
        int channel = connection.channel(to, name);
        call(Syscall.newBuilder().setSendFd(SendFd.newBuilder().setFd(fd.number()).setToProcess(to.name)).build(),
                "send_fd");
        int n = (int) to.call(Syscall.newBuilder().setRecvFd(dev.gemulator.proto.v1.RecvFd.newBuilder()
                .setFd(channel)).build(), "recv_fd").getValues(0);
        @SuppressWarnings("unchecked")
        F moved = (F) fd.in(to, n);
        return moved;
    }

    /** Opens a channel on which {@code peer} may send this process fds; its fd. */
    int openChannel(String peer) {
        return (int) call(Syscall.newBuilder().setChannelOpen(dev.gemulator.proto.v1.ChannelOpen.newBuilder()
                .setPeer(peer)).build(), "channel_open").getValues(0);
    }

    /** Gives up root for good (uid 65534, no capabilities). */
    public void dropRoot() {
        call(Syscall.newBuilder().setDropRoot(DropRoot.getDefaultInstance()).build(), "drop_root");
    }

    /** Sleeps in virtual time. */
    public void sleep(long millis) {
        call(Syscall.newBuilder().setSleep(Sleep.newBuilder().setMilliseconds(millis)).build(), "sleep");
    }

    /** Exits: every fd, mapping and handle of the process goes. */
    public void exit() {
        connection.forgetChannels(name);
        call(Syscall.newBuilder().setExit(Exit.getDefaultInstance()).build(), "exit");
    }

    @Override
    public String toString() {
        return name;
    }
}
