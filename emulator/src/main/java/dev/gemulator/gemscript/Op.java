package dev.gemulator.gemscript;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ops of gemscript (spec/gemscript.md): their names, the kinds of their
 * arguments and of their results. The tables mirror the reference harness.
 */
public enum Op {
    OPEN("open", List.of(ArgKind.DEV), List.of(ResultKind.INT)),
    CLOSE("close", List.of(ArgKind.INT), List.of()),
    DUP("dup", List.of(ArgKind.INT), List.of(ResultKind.INT)),
    SEND_FD("send_fd", List.of(ArgKind.INT, ArgKind.PROC), List.of(ResultKind.INT)),
    EXIT("exit", List.of(), List.of()),
    VERSION("version", List.of(ArgKind.INT), List.of(ResultKind.STR)),
    GET_CAP("get_cap", List.of(ArgKind.INT, ArgKind.CAP), List.of(ResultKind.INT)),
    CREATE_DUMB("create_dumb", List.of(ArgKind.INT, ArgKind.INT, ArgKind.INT, ArgKind.INT),
            List.of(ResultKind.INT, ResultKind.INT, ResultKind.INT)),
    MAP_DUMB("map_dumb", List.of(ArgKind.INT, ArgKind.INT), List.of(ResultKind.INT)),
    DESTROY_DUMB("destroy_dumb", List.of(ArgKind.INT, ArgKind.INT), List.of()),
    GEM_CLOSE("gem_close", List.of(ArgKind.INT, ArgKind.INT), List.of()),
    FLINK("flink", List.of(ArgKind.INT, ArgKind.INT), List.of(ResultKind.INT)),
    GEM_OPEN("gem_open", List.of(ArgKind.INT, ArgKind.INT), List.of(ResultKind.INT, ResultKind.INT)),
    HANDLE_TO_FD("handle_to_fd", List.of(ArgKind.INT, ArgKind.INT, ArgKind.PRIME), List.of(ResultKind.INT)),
    FD_TO_HANDLE("fd_to_handle", List.of(ArgKind.INT, ArgKind.INT), List.of(ResultKind.INT)),
    LSEEK("lseek", List.of(ArgKind.INT, ArgKind.INT, ArgKind.WHENCE), List.of(ResultKind.INT)),
    MMAP("mmap", List.of(ArgKind.INT, ArgKind.INT, ArgKind.INT), List.of(ResultKind.INT)),
    MUNMAP("munmap", List.of(ArgKind.INT), List.of()),
    WRITE("write", List.of(ArgKind.INT, ArgKind.INT, ArgKind.HEX), List.of()),
    READ("read", List.of(ArgKind.INT, ArgKind.INT, ArgKind.INT), List.of(ResultKind.HEX)),
    SYNC("sync", List.of(ArgKind.INT, ArgKind.SYNC), List.of()),
    FENCE_ATTACH("fence_attach", List.of(ArgKind.INT, ArgKind.INT, ArgKind.FENCE), List.of(ResultKind.INT)),
    FENCE_SIGNAL("fence_signal", List.of(ArgKind.INT, ArgKind.INT), List.of()),
    POLL("poll", List.of(ArgKind.INT, ArgKind.EVENTS, ArgKind.INT), List.of(ResultKind.EVENTS)),
    EXPORT_SYNC_FILE("export_sync_file", List.of(ArgKind.INT, ArgKind.SYNCF), List.of(ResultKind.INT)),
    IMPORT_SYNC_FILE("import_sync_file", List.of(ArgKind.INT, ArgKind.INT, ArgKind.SYNCF), List.of()),
    GET_MAGIC("get_magic", List.of(ArgKind.INT), List.of(ResultKind.INT)),
    AUTH_MAGIC("auth_magic", List.of(ArgKind.INT, ArgKind.INT), List.of()),
    DROP_ROOT("drop_root", List.of(), List.of()),
    SET_MASTER("set_master", List.of(ArgKind.INT), List.of()),
    DROP_MASTER("drop_master", List.of(ArgKind.INT), List.of()),
    SLEEP("sleep", List.of(ArgKind.INT), List.of()),
    /**
     * A raw ioctl: the request number as given, on a zero-padded buffer that
     * starts with the given bytes; the result is as many bytes of the buffer
     * after the call (conformance/harness adds it to the reference harness).
     */
    IOCTL("ioctl", List.of(ArgKind.INT, ArgKind.INT, ArgKind.HEX), List.of(ResultKind.HEX)),
    // emulator only: what a real kernel cannot be asked from user space
    FOREIGN_DMABUF("foreign_dmabuf", List.of(ArgKind.INT), List.of(ResultKind.INT)),
    INJECT("inject", List.of(ArgKind.NAME, ArgKind.INT), List.of()),
    RLIMIT_NOFILE("rlimit_nofile", List.of(ArgKind.INT), List.of()),
    /** A check in user space: ok when both integers are equal, else EDOM. */
    CHECK_EQ("check_eq", List.of(ArgKind.INT, ArgKind.INT), List.of()),
    /** A check in user space: ok when the first integer is one of the other two, else EDOM. */
    CHECK_IN("check_in", List.of(ArgKind.INT, ArgKind.INT, ArgKind.INT), List.of());

    /** What an argument may be written as. */
    public enum ArgKind { INT, DEV, PROC, CAP, PRIME, WHENCE, HEX, SYNC, FENCE, EVENTS, SYNCF, NAME }

    /** How a result is printed and bound. */
    public enum ResultKind { INT, STR, HEX, EVENTS }

    private static final Map<String, Op> BY_NAME = new HashMap<>();

    static {
        for (Op op : values()) {
            BY_NAME.put(op.opName, op);
        }
    }

    private final String opName;
    private final List<ArgKind> args;
    private final List<ResultKind> results;

    Op(String opName, List<ArgKind> args, List<ResultKind> results) {
        this.opName = opName;
        this.args = args;
        this.results = results;
    }

    /** The op as scripts spell it. */
    public String opName() {
        return opName;
    }

    public List<ArgKind> args() {
        return args;
    }

    public List<ResultKind> results() {
        return results;
    }

    public static Op byName(String name) {
        return BY_NAME.get(name);
    }
}
