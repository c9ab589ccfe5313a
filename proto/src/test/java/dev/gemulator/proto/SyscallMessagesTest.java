package dev.gemulator.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.gemulator.proto.v1.Ioctl;
import dev.gemulator.proto.v1.Memory;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.Write;
import org.junit.jupiter.api.Test;

/** The protocol messages survive encoding, with the kernel's field widths. */
class SyscallMessagesTest {

    @Test
    void aSyscallRoundTripsThroughItsEncoding() throws Exception {
        // DRM_IOCTL_MODE_CREATE_DUMB: _IOWR('d', 0xb2, 32), its struct at the argument's address
        Syscall call = Syscall.newBuilder().setIoctl(Ioctl.newBuilder().setFd(3).setRequest(0xc02064b2)
                .setArg(0x7ffc_0000_1000L).addMemory(Memory.newBuilder().setAddress(0x7ffc_0000_1000L)
                        .setData(ByteString.copyFrom(new byte[32])))).build();
        Syscall back = Syscall.parseFrom(call.toByteArray());
        assertEquals(call, back);
        assertEquals(Syscall.CallCase.IOCTL, back.getCallCase());
        assertEquals(0xc02064b2L, Integer.toUnsignedLong(back.getIoctl().getRequest()), "u32 keeps all its bits");
        assertEquals(32, back.getIoctl().getMemory(0).getData().size());
    }

    @Test
    void resultsCarryErrnoValuesAndBytes() throws Exception {
        SyscallResult r = SyscallResult.newBuilder().setErrno(22).setMessage("handle 5 does not exist").build();
        assertEquals(r, SyscallResult.parseFrom(r.toByteArray()));
        Syscall w = Syscall.newBuilder().setWrite(Write.newBuilder().setMap(1).setOffset(4096)
                .setData(ByteString.copyFrom(new byte[] {1, 2, 3}))).build();
        assertEquals(3, Syscall.parseFrom(w.toByteArray()).getWrite().getData().size());
    }
}
