package dev.gemulator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;

/** System calls through a {@link WireClient}, for the server tests. */
final class WireCalls {
    private WireCalls() {
    }

    static SyscallResult call(WireClient w, Syscall.Builder call) {
        return w.call(Request.newBuilder().setCall(call)).getResult();
    }

    /** A call that must succeed; its first value, or 0. */
    static long ok(WireClient w, Syscall.Builder call) {
        SyscallResult r = call(w, call);
        assertEquals(0, r.getErrno(), r.getMessage());
        return r.getValuesCount() > 0 ? r.getValues(0) : 0;
    }
}
