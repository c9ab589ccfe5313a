package dev.gemulator.server;

import com.google.protobuf.ByteString;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.IoctlCmd;
import dev.gemulator.kernel.uapi.IoctlTable;
import dev.gemulator.kernel.uapi.KData;
import dev.gemulator.kernel.uapi.UserBuffers;
import dev.gemulator.proto.v1.Memory;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;

/**
 * The wire form of an ioctl (gemulator.v1.Ioctl): the request number, the
 * argument's address and the caller's memory the call reads. Java callers
 * build it from a struct record ({@link #syscall}); the server runs it
 * ({@link #run}) and answers the kernel's writes, plus the struct's results
 * as values when it can read them.
 */
public final class WireIoctl {
    private WireIoctl() {
    }

    /** Where a Java caller's argument struct lies in the memory it sends. */
    public static final long ARG_ADDRESS = Syscalls.IOCTL_ARG_ADDRESS;

    /** The request for {@code ioctl} on {@code fd}: its number and struct, and the buffers its pointers point at. */
    public static Syscall.Builder syscall(int fd, Ioctl ioctl) {
        UserBuffers mem = new UserBuffers();
        KData d = new KData(IoctlCmd.size(ioctl.cmd()));
        ioctl.encode(d, mem);
        mem.put(ARG_ADDRESS, d.bytes());
        dev.gemulator.proto.v1.Ioctl.Builder b = dev.gemulator.proto.v1.Ioctl.newBuilder().setFd(fd)
                .setRequest(ioctl.cmd()).setArg(ARG_ADDRESS);
        mem.forEachBuffer((address, data) -> b.addMemory(Memory.newBuilder().setAddress(address)
                .setData(ByteString.copyFrom(data))));
        return Syscall.newBuilder().setIoctl(b);
    }

    /** The caller's memory a request lends the kernel; writes outside it are recorded for the caller. */
    static UserBuffers memory(dev.gemulator.proto.v1.Ioctl call) {
        UserBuffers mem = new UserBuffers().recordingOutside();
        for (Memory m : call.getMemoryList()) {
            mem.put(m.getAddress(), m.getData().toByteArray());
        }
        return mem;
    }

    /**
     * The answer: the errno and message, every write the kernel made, and
     * when the request's struct is one the model knows and its bytes were
     * sent, the struct's results (handle, pitch, size, ... and VERSION's name).
     */
    static SyscallResult answer(dev.gemulator.proto.v1.Ioctl call, UserBuffers mem, SysResult r) {
        SyscallResult.Builder b = SyscallResult.newBuilder().setErrno(r.errno().number());
        if (!r.isOk()) {
            b.setMessage(r.message() == null ? "" : r.message());
        }
        for (UserBuffers.Write w : mem.writes()) {
            b.addWrites(Memory.newBuilder().setAddress(w.address()).setData(ByteString.copyFrom(w.data())));
        }
        byte[] after = mem.get(call.getArg());
        if (r.isOk() && after != null) {
            Ioctl decoded = decode(call);
            if (decoded != null) {
                SysResult v = decoded.results(KData.of(after, after.length), mem);
                b.addValues(v.v0()).addValues(v.v1()).addValues(v.v2());
                if (v.text() != null) {
                    b.setText(v.text());
                }
            }
        }
        return b.build();
    }

    /** The request's struct as sent (before the call), or null for a request without a known struct. */
    private static Ioctl decode(dev.gemulator.proto.v1.Ioctl call) {
        IoctlTable.Row<?> row = IoctlTable.byCmd(call.getRequest());
        if (row == null) {
            return null;
        }
        for (Memory m : call.getMemoryList()) {
            if (m.getAddress() == call.getArg()) {
                byte[] in = m.getData().toByteArray();
                return row.decode().apply(KData.of(in, IoctlCmd.size(row.cmd())));
            }
        }
        return null;
    }

    /** The bytes of the struct a reply wrote back to {@code address}, or null. */
    public static byte[] written(SyscallResult r, long address) {
        byte[] out = null;
        for (Memory m : r.getWritesList()) {
            if (m.getAddress() == address) {
                out = m.getData().toByteArray();
            }
        }
        return out;
    }
}
