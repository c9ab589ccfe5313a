package dev.gemulator.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.gemulator.proto.v1.CreateDumb;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.Write;
import org.junit.jupiter.api.Test;

/** The protocol messages survive encoding, with the kernel's field widths. */
class SyscallMessagesTest {

    @Test
    void aSyscallRoundTripsThroughItsEncoding() throws Exception {
        Syscall call = Syscall.newBuilder().setCreateDumb(CreateDumb.newBuilder().setFd(3).setWidth(-1)
                .setHeight(64).setBpp(32)).build();
        Syscall back = Syscall.parseFrom(call.toByteArray());
        assertEquals(call, back);
        assertEquals(Syscall.CallCase.CREATE_DUMB, back.getCallCase());
        assertEquals(0xffffffffL, Integer.toUnsignedLong(back.getCreateDumb().getWidth()), "u32 keeps all its bits");
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
