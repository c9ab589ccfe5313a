package dev.gemulator.client;

import dev.gemulator.Machine;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;

/**
 * A connection to an emulated device, the entry point of the client
 * library: {@code Gemulator.inProcess().process("A").open("card0")}.
 */
public final class Gemulator implements AutoCloseable {
    private final Transport transport;
    /** The channel fd each receiving process opened for each sender ("B" -> "A" -> fd). */
    private final java.util.Map<String, java.util.Map<String, Integer>> channels = new java.util.HashMap<>();

    public Gemulator(Transport transport) {
        this.transport = transport;
    }

    /** A fresh emulated machine (one vgem device, Linux 6.x) in this JVM. */
    public static Gemulator inProcess() {
        return new Gemulator(new InProcessTransport(new Machine()));
    }

    /** A connection to a gemulator server ({@code ./gemulator serve}). */
    public static Gemulator connect(String host, int port, String token) {
        return new Gemulator(new NettyTransport(host, port, token));
    }

    public Transport transport() {
        return transport;
    }

    /** The process with this name (created by the kernel on its first call). */
    public ClientProcess process(String name) {
        return new ClientProcess(this, name);
    }

    /** The channel {@code receiver} opened for {@code sender}, opened now if it has none. */
    int channel(ClientProcess receiver, String sender) {
        synchronized (channels) {
            var mine = channels.computeIfAbsent(receiver.name(), r -> new java.util.HashMap<>());
            Integer fd = mine.get(sender);
            if (fd == null) {
                fd = receiver.openChannel(sender);
                mine.put(sender, fd);
            }
            return fd;
        }
    }

    /** A process exits: its channels go with it. */
    void forgetChannels(String process) {
        synchronized (channels) {
            channels.remove(process);
        }
    }

    SyscallResult call(String process, Syscall call, String operation) {
        SyscallResult r = transport.call(process, call);
        if (r.getErrno() != 0) {
            dev.gemulator.kernel.Errno e = dev.gemulator.kernel.Errno.byNumber(r.getErrno());
            throw new DrmException(e, operation, r.getMessage());
        }
        return r;
    }

    static Syscall open(String node) {
        return Syscall.newBuilder().setOpen(Open.newBuilder().setNode(node)).build();
    }

    @Override
    public void close() {
        transport.close();
    }
}
