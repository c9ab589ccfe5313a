package dev.gemulator.gemscript;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.UserBuffers;
import java.util.Arrays;
import java.util.function.Function;

/**
 * A statement's operation as the system call it makes: the arguments as
 * the harness passes them (an fd truncated to a C int, handles to u32), the
 * result as the kernel model returns it.
 */
final class Calls {
    /** The harness's buffer for a raw ioctl: the given bytes, zero-padded to at least 64 KiB. */
    private static final int RAW_IOCTL_BUFFER_BYTES = 65536;

    private final Syscalls sys;
    /** The process of a name, started when first named. */
    private final Function<String, Process> proc;

    Calls(Syscalls sys, Function<String, Process> proc) {
        this.sys = sys;
        this.proc = proc;
    }

    /** The C int an fd argument is truncated to. */
    private static long fd(long v) {
        return (int) v;
    }

    private static int u32(long v) {
        return (int) v;
    }

    private static String str(Script.Stmt s, int i) {
        return ((Script.Str) s.args().get(i)).text();
    }

    /** Runs {@code s} as task {@code t} of process {@code p}, with numeric arguments {@code a} and bytes {@code bytes}. */
    SysResult execute(Script.Stmt s, Process p, Task t, long[] a, byte[] bytes) {
        return switch (s.op()) {
            case OPEN -> sys.open(t, canonicalNode(str(s, 0)));
            case CLOSE -> sys.close(t, fd(a[0]));
            case DUP -> sys.dup(t, fd(a[0]));
            case SEND_FD -> sys.sendFd(t, fd(a[0]), proc.apply(str(s, 1)).mainTask());
            case EXIT -> sys.exit(p);
            case VERSION -> sys.ioctl(t, fd(a[0]), new Ioctl.Version());
            case GET_CAP -> sys.ioctl(t, fd(a[0]), new Ioctl.GetCap(a[1]));
            case CREATE_DUMB -> sys.ioctl(t, fd(a[0]), new Ioctl.ModeCreateDumb(u32(a[1]), u32(a[2]), u32(a[3]), 0));
            case MAP_DUMB -> sys.ioctl(t, fd(a[0]), new Ioctl.ModeMapDumb(u32(a[1])));
            case DESTROY_DUMB -> sys.ioctl(t, fd(a[0]), new Ioctl.ModeDestroyDumb(u32(a[1])));
            case GEM_CLOSE -> sys.ioctl(t, fd(a[0]), new Ioctl.GemClose(u32(a[1])));
            case FLINK -> sys.ioctl(t, fd(a[0]), new Ioctl.GemFlink(u32(a[1])));
            case GEM_OPEN -> sys.ioctl(t, fd(a[0]), new Ioctl.GemOpen(u32(a[1])));
            case HANDLE_TO_FD -> sys.ioctl(t, fd(a[0]), new Ioctl.PrimeHandleToFd(u32(a[1]), u32(a[2])));
            case FD_TO_HANDLE -> sys.ioctl(t, fd(a[0]), new Ioctl.PrimeFdToHandle((int) a[1]));
            case LSEEK -> sys.lseek(t, fd(a[0]), a[1], (int) a[2]);
            case MMAP -> sys.mmap(t, fd(a[0]), a[1], a[2]);
            case MUNMAP -> sys.munmap(t, a[0]);
            case WRITE -> sys.writeMap(t, a[0], a[1], bytes);
            case READ -> sys.readMap(t, a[0], a[1], a[2]);
            case SYNC -> sys.ioctl(t, fd(a[0]), new Ioctl.DmaBufSync(a[1]));
            case FENCE_ATTACH -> sys.ioctl(t, fd(a[0]), new Ioctl.VgemFenceAttach(u32(a[1]), u32(a[2]), 0));
            case FENCE_SIGNAL -> sys.ioctl(t, fd(a[0]), new Ioctl.VgemFenceSignal(u32(a[1]), 0));
            case POLL -> sys.poll(t, fd(a[0]), (short) a[1], (int) a[2]);
            case EXPORT_SYNC_FILE -> sys.ioctl(t, fd(a[0]), new Ioctl.DmaBufExportSyncFile(u32(a[1])));
            case IMPORT_SYNC_FILE -> sys.ioctl(t, fd(a[0]), new Ioctl.DmaBufImportSyncFile((int) a[1], u32(a[2])));
            case GET_MAGIC -> sys.ioctl(t, fd(a[0]), new Ioctl.GetMagic());
            case AUTH_MAGIC -> sys.ioctl(t, fd(a[0]), new Ioctl.AuthMagic(u32(a[1])));
            case DROP_ROOT -> sys.dropRoot(t);
            case SET_MASTER -> sys.ioctl(t, fd(a[0]), new Ioctl.SetMaster());
            case DROP_MASTER -> sys.ioctl(t, fd(a[0]), new Ioctl.DropMaster());
            case SLEEP -> sys.sleep(t, a[0]);
            case IOCTL -> rawIoctl(t, fd(a[0]), (int) a[1], bytes);
            case FOREIGN_DMABUF -> sys.foreignDmaBuf(t, a[0]);
            case INJECT -> sys.injectFault(t, str(s, 0), a[1]);
            case RLIMIT_NOFILE -> sys.setFdLimit(t, a[0]);
            case CHECK_EQ -> a[0] == a[1] ? SysResult.ok()
                    : SysResult.err(Errno.EDOM, a[0] + " is not " + a[1]);
            case CHECK_IN -> a[0] == a[1] || a[0] == a[2] ? SysResult.ok()
                    : SysResult.err(Errno.EDOM, a[0] + " is neither " + a[1] + " nor " + a[2]);
        };
    }

    private SysResult rawIoctl(Task t, long fd, int cmd, byte[] given) {
        byte[] buf = Arrays.copyOf(given, Math.max(given.length, RAW_IOCTL_BUFFER_BYTES));
        UserBuffers mem = new UserBuffers().put(Syscalls.IOCTL_ARG_ADDRESS, buf);
        SysResult r = sys.ioctl(t, fd, cmd, Syscalls.IOCTL_ARG_ADDRESS, mem);
        return r.isOk() ? SysResult.data(Arrays.copyOf(buf, given.length)) : r;
    }

    /** "card0x0" and "card00" name card0, as the harness's number parsing makes them. */
    private static String canonicalNode(String t) {
        boolean card = t.startsWith("card");
        Long n = Numbers.parse(t.substring(card ? 4 : 6));
        return (card ? "card" : "render") + n;
    }
}
