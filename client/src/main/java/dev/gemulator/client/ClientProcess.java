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

    Gemulator gemulator() {
        return connection;
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
     * descriptor it became there, of the same kind.
     */
    public <F extends Fd> F sendFd(F fd, ClientProcess to) {
        int n = (int) call(Syscall.newBuilder().setSendFd(SendFd.newBuilder().setFd(fd.number()).setToProcess(to.name))
                .build(), "send_fd").getValues(0);
        @SuppressWarnings("unchecked")
        F moved = (F) fd.in(to, n);
        return moved;
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
        call(Syscall.newBuilder().setExit(Exit.getDefaultInstance()).build(), "exit");
    }

    @Override
    public String toString() {
        return name;
    }
}
