package dev.gemulator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.KData;
import dev.gemulator.proto.v1.Memory;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** An ioctl on the wire: the number and the caller's bytes in, the kernel's writes out. */
class WireIoctlTest {
    private final SyscallDispatcher d = new SyscallDispatcher(new Machine(Profile.MODERN));

    private int open() {
        return (int) d.execute("P", Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")).build()).getValues(0);
    }

    @Test
    void aJavaCallerGetsTheStructsResultsAndTheWrites() {
        int fd = open();
        SyscallResult r = d.execute("P", WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(640, 480, 32, 0)).build());
        assertEquals(0, r.getErrno(), r.getMessage());
        assertEquals(java.util.List.of(1L, 2560L, 1228800L), r.getValuesList());
        byte[] out = WireIoctl.written(r, WireIoctl.ARG_ADDRESS);
        assertEquals(32, out.length, "the whole struct is copied out");
        assertEquals(1, KData.of(out, 32).u32(16));
    }

    @Test
    void writesThroughPointersTheServerCannotSeeGoBackToTheCaller() {
        // as the shim sends VERSION: only the struct, whose name pointer is the program's own buffer
        int fd = open();
        long arg = 0x7ffd_1000L;
        long name = 0x7ffd_2000L;
        byte[] v = new KData(64).putU64(16, 16).putU64(24, name).bytes();
        Syscall call = Syscall.newBuilder().setIoctl(dev.gemulator.proto.v1.Ioctl.newBuilder().setFd(fd)
                .setRequest(Ioctl.Version.CMD).setArg(arg)
                .addMemory(Memory.newBuilder().setAddress(arg).setData(ByteString.copyFrom(v)))).build();
        SyscallResult r = d.execute("P", call);
        assertEquals(0, r.getErrno(), r.getMessage());
        assertEquals("vgem", new String(WireIoctl.written(r, name), StandardCharsets.US_ASCII));
        assertEquals(4, KData.of(WireIoctl.written(r, arg), 64).u64(16));
        assertEquals("", r.getText(), "the name went to the program's own buffer, not one it lent");
    }

    @Test
    void anArgumentTheCallerDidNotSendIsEfaultAndAnUnknownNumberEinval() {
        int fd = open();
        Syscall noMemory = Syscall.newBuilder().setIoctl(dev.gemulator.proto.v1.Ioctl.newBuilder().setFd(fd)
                .setRequest(Ioctl.GemOpen.CMD).setArg(0x1000)).build();
        SyscallResult r = d.execute("P", noMemory);
        assertEquals(Errno.EFAULT.number(), r.getErrno());
        assertTrue(r.getMessage().contains("DRM_IOCTL_GEM_OPEN"), r.getMessage());
        Syscall unknown = Syscall.newBuilder().setIoctl(dev.gemulator.proto.v1.Ioctl.newBuilder().setFd(fd)
                .setRequest(0xc01064f0).setArg(0x1000)).build();
        assertEquals(Errno.EINVAL.number(), d.execute("P", unknown).getErrno());
        assertEquals("ioctl", CallText.op(unknown));
        assertEquals("gem_open", CallText.op(noMemory));
    }
}
