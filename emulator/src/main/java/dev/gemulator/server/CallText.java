package dev.gemulator.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.uapi.IoctlCmd;
import dev.gemulator.kernel.uapi.IoctlTable;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * How a wire system call and its result read in a trace, free-running or
 * seeded: op name, arguments, outcome.
 */
public final class CallText {
    private CallText() {
    }

    /** The ioctl's short name ("create_dumb"), else the system call's ("close", "clock_gettime"). */
    public static String op(Syscall call) {
        if (call.hasIoctl()) {
            var row = IoctlTable.byCmd(call.getIoctl().getRequest());
            return row != null ? row.shortName() : "ioctl";
        }
        return call.getCallCase().name().toLowerCase(Locale.ROOT);
    }

    /** "fd=3", "request=0xc02064b2", "arg=hex:..." for an ioctl; "name=value" per field otherwise. */
    public static List<String> arguments(Syscall call) {
        List<String> args = new ArrayList<>();
        if (call.hasIoctl()) {
            var io = call.getIoctl();
            args.add("fd=" + io.getFd());
            args.add("request=" + IoctlCmd.hex(io.getRequest()));
            for (var m : io.getMemoryList()) {
                if (m.getAddress() == io.getArg()) {
                    args.add("arg=hex:" + HexFormat.of().formatHex(m.getData().toByteArray()));
                }
            }
            return args;
        }
        for (var e : call.getAllFields().entrySet()) {
            if (e.getValue() instanceof Message m) {
                m.getAllFields().forEach((f, v) -> args.add(f.getName() + "="
                        + (v instanceof ByteString b ? b.size() + " bytes" : v)));
            }
        }
        return args;
    }

    /** "ok 3 0 0", or the errno's name ("EBADF"; "errno-N" for a number the model has no name for). */
    public static String outcome(SyscallResult r) {
        if (r.getErrno() != 0) {
            return errno(r.getErrno());
        }
        StringBuilder b = new StringBuilder("ok");
        r.getValuesList().forEach(v -> b.append(' ').append(v));
        if (!r.getText().isEmpty()) {
            b.append(' ').append(r.getText());
        }
        return b.toString();
    }

    /** The errno's name for 2 ("ENOENT"), and "errno-N" for a number the model has no name for. */
    public static String errno(int number) {
        Errno e = Errno.byNumber(number);
        return e == null ? "errno-" + number : e.name();
    }
}
