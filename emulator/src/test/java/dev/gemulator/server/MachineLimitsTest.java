package dev.gemulator.server;

import dev.gemulator.client.wire.WireClient;
import static dev.gemulator.server.WireCalls.call;
import static dev.gemulator.server.WireCalls.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.proto.v1.Close;
import dev.gemulator.proto.v1.Mmap;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.Write;
import dev.gemulator.transport.GemulatorServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every quantity a client controls has a limit, answered as the kernel
 * answers running out of it: threads (EAGAIN), open files (ENFILE), the
 * slots of handle and fence-id tables (ENOSPC), fences per object (ENOMEM),
 * fence ids per file (ENOSPC), fences of the machine (ENOMEM), mappings
 * (ENOMEM), the device's memory counting what indexes the pages (ENOMEM);
 * thread names are refused with a reason.
 */
class MachineLimitsTest {
    private GemulatorServer server;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    private WireClient serve(Limits limits, String process) throws Exception {
        server = GemulatorServer.start("127.0.0.1", 0, new Simulation(Profile.MODERN, 64, null, System.err, limits),
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null);
        return connect(process);
    }

    private WireClient connect(String process) {
        WireClient w = new WireClient(group, "127.0.0.1", server.port(), process, null);
        w.mode();
        return w;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        group.shutdownGracefully();
    }

    private static Syscall.Builder open(String node) {
        return Syscall.newBuilder().setOpen(Open.newBuilder().setNode(node));
    }

    private static Syscall.Builder create(int fd) {
        return WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(1, 1, 8, 0));
    }

    private static Syscall.Builder attach(int fd, long handle) {
        return WireIoctl.syscall(fd, new Ioctl.VgemFenceAttach((int) handle, 0, 0));
    }

    private static SyscallResult onThread(WireClient w, int thread, Syscall.Builder call) {
        return w.call(Request.newBuilder().setThreadId(thread).setCall(call)).getResult();
    }

    @Test
    void threadNamesThatAreLongOrHoldControlCharactersAreRefusedWithAReason() throws Exception {
        WireClient a = serve(Limits.DEFAULT, "A");
        a.threadStart(1, "x".repeat(Limits.MAX_NAME_CHARS));
        ok(a, open("card0"));
        a.threadStart(2, "x".repeat(Limits.MAX_NAME_CHARS + 1));
        WireClient.ConnectionLost lost = assertThrows(WireClient.ConnectionLost.class, () -> call(a, open("card0")));
        assertTrue(lost.getMessage().contains("a thread name of 65 characters (at most 64)"), lost.getMessage());
        WireClient b = connect("B");
        b.threadStart(1, "B.t1\n    12.000 us  forged line");
        lost = assertThrows(WireClient.ConnectionLost.class, () -> call(b, open("card0")));
        assertTrue(lost.getMessage().contains("character U+000A"), lost.getMessage());
        WireClient c = connect("C");
        assertEquals(3, ok(c, open("card0")), "the server serves on");
    }

    @Test
    void threadsBeyondTheProcessesOrTheMachinesLimitGetEagain() throws Exception {
        WireClient a = serve(Limits.DEFAULT.withThreads(2, 3), "A");
        assertEquals(0, onThread(a, 1, open("card0")).getErrno());
        assertEquals(0, onThread(a, 2, open("card0")).getErrno());
        SyscallResult third = onThread(a, 3, open("card0"));
        assertEquals(Errno.EAGAIN.number(), third.getErrno());
        assertTrue(third.getMessage().contains("has its maximum of 2 threads"), third.getMessage());
        assertEquals(0, onThread(a, 0, open("card0")).getErrno(), "its main thread goes on");
        WireClient b = connect("B");
        assertEquals(0, onThread(b, 1, open("card0")).getErrno());
        SyscallResult machine = onThread(b, 2, open("card0"));
        assertEquals(Errno.EAGAIN.number(), machine.getErrno());
        assertTrue(machine.getMessage().contains("the machine has its maximum of 3"), machine.getMessage());
        a.threadExit(2, 0);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (onThread(b, 2, open("card0")).getErrno() != 0) { // A's thread ends on the simulation thread
            assertTrue(System.nanoTime() < deadline, "a thread that ended makes room");
        }
    }

    @Test
    void openFilesBeyondTheMachinesLimitGetEnfile() throws Exception {
        WireClient a = serve(Limits.DEFAULT.withFiles(6, Limits.DEFAULT.maxIdSlots()), "A");
        // the process has two files on fds 0, 1 and 2 (/dev/null read and write): four more fit
        for (int fd = 3; fd <= 6; fd++) {
            assertEquals(fd, ok(a, open("card0")));
        }
        SyscallResult full = call(a, open("render0"));
        assertEquals(Errno.ENFILE.number(), full.getErrno());
        assertTrue(full.getMessage().contains("the machine has its maximum of 6 open files"), full.getMessage());
        assertEquals(7, ok(a, Syscall.newBuilder().setDup(dev.gemulator.proto.v1.Dup.newBuilder().setFd(3))),
                "dup makes no file");
        ok(a, Syscall.newBuilder().setClose(Close.newBuilder().setFd(4)));
        assertEquals(4, ok(a, open("card0")), "a file released makes room");
    }

    @Test
    void theSlotsOfAllHandleTablesTogetherRunOutWithEnospcAndAClosedFileGivesThemBack() throws Exception {
        // each table's first 8 slots are its own; growing to 16 and to 32 takes 8 + 16 = 24 from the budget
        WireClient a = serve(Limits.DEFAULT.withFiles(Limits.DEFAULT.maxFiles(), 24), "A");
        int fa = (int) ok(a, open("card0"));
        for (int h = 1; h <= 31; h++) {
            assertEquals(h, ok(a, create(fa)));
        }
        SyscallResult full = call(a, create(fa));
        assertEquals(Errno.ENOSPC.number(), full.getErrno(), full.getMessage());
        int fb = (int) ok(a, open("card0"));
        for (int h = 1; h <= 7; h++) {
            assertEquals(h, ok(a, create(fb)), "another table's first slots are its own");
        }
        assertEquals(Errno.ENOSPC.number(), call(a, create(fb)).getErrno(), "but it cannot grow");
        ok(a, Syscall.newBuilder().setClose(Close.newBuilder().setFd(fa)));
        assertEquals(8, ok(a, create(fb)), "the closed file's slots came back");
    }

    @Test
    void fencesPerObjectPerFileAndOfTheMachineAreLimited() throws Exception {
        WireClient a = serve(Limits.DEFAULT.withFences(3, 5, 1000), "A");
        int fd = (int) ok(a, open("card0"));
        long x = ok(a, create(fd));
        long y = ok(a, create(fd));
        assertEquals(java.util.List.of(1L, 2L, 3L), java.util.List.of(ok(a, attach(fd, x)), ok(a, attach(fd, x)),
                ok(a, attach(fd, x))));
        SyscallResult full = call(a, attach(fd, x));
        assertEquals(Errno.ENOMEM.number(), full.getErrno());
        assertTrue(full.getMessage().contains("holds its limit of 3 pending fences"), full.getMessage());
        ok(a, WireIoctl.syscall(fd, new Ioctl.VgemFenceSignal(2, 0)));
        assertEquals(4, ok(a, attach(fd, x)), "a signalled fence's slot is reused");
        assertEquals(5, ok(a, attach(fd, y)));
        SyscallResult ids = call(a, attach(fd, y));
        assertEquals(Errno.ENOSPC.number(), ids.getErrno());
        assertTrue(ids.getMessage().contains("may hand out 5 fence ids"), ids.getMessage());
        int other = (int) ok(a, open("card0"));
        assertEquals(1, ok(a, attach(other, ok(a, create(other)))), "another file has ids of its own");
        server.close();

        WireClient b = serve(Limits.DEFAULT.withFences(100, 100, 2), "B");
        int bf = (int) ok(b, open("card0"));
        long o = ok(b, create(bf));
        ok(b, attach(bf, o));
        ok(b, attach(bf, o));
        SyscallResult machine = call(b, attach(bf, o));
        assertEquals(Errno.ENOMEM.number(), machine.getErrno());
        assertTrue(machine.getMessage().contains("the machine has its maximum of 2 fences"), machine.getMessage());
    }

    @Test
    void mappingsPerProcessAndOfTheMachineAreLimitedWithEnomem() throws Exception {
        WireClient a = serve(Limits.DEFAULT.withMaps(2, 3), "A");
        int fd = (int) ok(a, open("card0"));
        long offset = ok(a, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb((int) ok(a, create(fd)))));
        Syscall.Builder mmap = Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(fd).setOffset(offset).setLength(4096));
        ok(a, mmap);
        ok(a, mmap);
        SyscallResult mine = call(a, mmap);
        assertEquals(Errno.ENOMEM.number(), mine.getErrno());
        assertTrue(mine.getMessage().contains("process A has its maximum of 2 mappings"), mine.getMessage());
        WireClient b = connect("B");
        int bf = (int) ok(b, open("card0"));
        long bo = ok(b, WireIoctl.syscall(bf, new Ioctl.ModeMapDumb((int) ok(b, create(bf)))));
        Syscall.Builder bmap = Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(bf).setOffset(bo).setLength(4096));
        ok(b, bmap);
        SyscallResult machine = call(b, bmap);
        assertEquals(Errno.ENOMEM.number(), machine.getErrno());
        assertTrue(machine.getMessage().contains("the machine has its maximum of 3 mappings"), machine.getMessage());
    }

    @Test
    void theDeviceCountsWhatIndexesThePagesOfHugeSparseObjects() throws Exception {
        // 256 MiB objects with one page written: 4096 bytes of page, 160 of index each
        long memory = 100 * (4096 + 160);
        WireClient a = serve(Limits.DEFAULT.withDeviceMemoryBytes(memory), "A");
        int fd = (int) ok(a, open("card0"));
        Syscall.Builder big = WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(8192, 8192, 32, 0));
        int written = 0;
        while (true) {
            int h = (int) ok(a, big);
            long off = ok(a, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb(h)));
            long map = ok(a, Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(fd).setOffset(off).setLength(256L << 20)));
            SyscallResult r = call(a, Syscall.newBuilder().setWrite(Write.newBuilder().setMap(map).setOffset(123L << 20)
                    .setData(com.google.protobuf.ByteString.copyFrom(new byte[] {1}))));
            if (r.getErrno() != 0) {
                assertEquals(Errno.ENOMEM.number(), r.getErrno(), r.getMessage());
                break;
            }
            written++;
            assertTrue(written <= 100, "the limit holds");
        }
        assertEquals(100, written, "100 pages with their indexes fill the device");
        var dev = server.simulation().machine().device(0);
        assertEquals(100 * 4096, dev.residentBytes());
        assertEquals(100 * 160, dev.pageIndexBytes());
    }
}
