package dev.gemulator.bench;

import dev.gemulator.client.wire.WireClient;
import com.google.protobuf.ByteString;
import dev.gemulator.cli.Main;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.lockstep.LockstepRun;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Close;
import dev.gemulator.proto.v1.DebugfsRequest;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.Mmap;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.SendFd;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.proto.v1.ThreadStart;
import dev.gemulator.proto.v1.Write;
import dev.gemulator.sched.Strategy;
import dev.gemulator.transport.GemulatorServer;
import dev.gemulator.server.Limits;
import dev.gemulator.server.Simulation;
import dev.gemulator.server.WireIoctl;
import dev.gemulator.trace.Traces;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ./gemulator bench attack [--seconds N]}: the attacks that once made
 * a server a zombie or kept its clients out, each run against a fresh
 * server for a bounded time while a well-behaved client keeps calling;
 * for each, what happened, and the good client's p50 and p99 during the
 * attack against the same client on the idle server just before (a ratio,
 * measured in the same run). Nothing is asserted; the test suite checks
 * each behaviour.
 */
final class AttackBench {
    private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private static long seconds = 5;

    private AttackBench() {
    }

    /** An attack: it runs against {@code port} until {@code stop}, and says what happened. */
    private interface Attack {
        String run(GemulatorServer server, AtomicBoolean stop) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--seconds")) {
                seconds = Long.parseLong(args[i + 1]);
            }
        }
        System.out.printf(Locale.ROOT, "gemulator bench attack: each attack for at most %d s against a fresh server,"
                + " a good client calling version meanwhile%n", seconds);
        System.out.printf(Locale.ROOT, "%-16s %10s %10s %10s %10s %7s %7s  %s%n", "attack", "idle p50", "idle p99",
                "att. p50", "att. p99", "x p50", "x p99", "what happened");
        attack("thread-names", Limits.DEFAULT, AttackBench::threadNames);
        attack("device-memory", Limits.DEFAULT.withDeviceMemoryBytes(256L << 20), AttackBench::deviceMemory);
        attack("sparse-objects", Limits.DEFAULT.withDeviceMemoryBytes(256L << 20), AttackBench::sparseObjects);
        attack("in-flight", Limits.DEFAULT, AttackBench::inFlight);
        attack("debugfs-flood", Limits.DEFAULT, AttackBench::names, AttackBench::debugfsFlood);
        attack("no-hello", new Limits(1024, 1024, 256L << 20, 64, 1 << 20, 1 << 20).withHelloTimeouts(2000, 2000),
                AttackBench::noHello);
        attack("half-frames", Limits.DEFAULT, AttackBench::halfFrames);
        attack("fence-flood", Limits.DEFAULT, AttackBench::fenceFlood);
        attack("send-fd-push", Limits.DEFAULT, AttackBench::sendFdPush);
        lockstepAsks();
        tokenGuessing();
        corruptTrace();
        System.out.println("lockstep kills: ./gemulator bench rejoin (1,000 iterations, 20 kills and restarts)");
        GROUP.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    // --- the good client ---

    /** The good client's latencies (ns) over {@code nanos}, or at least 50 calls. */
    private static long[] good(WireClient w, long nanos) {
        List<Long> t = new ArrayList<>();
        Syscall.Builder version = WireIoctl.syscall(3, new Ioctl.Version());
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end || t.size() < 50) {
            long t0 = System.nanoTime();
            w.call(Request.newBuilder().setCall(version));
            t.add(System.nanoTime() - t0);
            if (t.size() > 200_000) {
                break;
            }
        }
        long[] a = t.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a;
    }

    private static long pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))];
    }

    private static void attack(String name, Limits limits, Attack attack) throws Exception {
        attack(name, limits, server -> { }, attack);
    }

    /** What an attack needs on the device before the idle baseline is measured. */
    private interface Setup {
        void run(GemulatorServer server) throws Exception;
    }

    private static void attack(String name, Limits limits, Setup setup, Attack attack) throws Exception {
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, new Simulation(Profile.MODERN, 4096, null,
                System.err, limits), GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null)) {
            setup.run(server);
            WireClient good = new WireClient(GROUP, "127.0.0.1", server.port(), "Good", null);
            good.call(Request.newBuilder().setCall(Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            good(good, 300_000_000L); // warm up
            long[] idle = good(good, 1_000_000_000L);
            AtomicBoolean stop = new AtomicBoolean();
            var result = new CompletableFuture<String>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    result.complete(attack.run(server, stop));
                } catch (Throwable e) {
                    result.complete("the attack itself failed: " + e);
                }
            });
            long[] during = good(good, seconds * 1_000_000_000L);
            stop.set(true);
            String what = result.get(120, TimeUnit.SECONDS);
            t.join();
            String alive = good.call(Request.newBuilder().setCall(WireIoctl.syscall(3, new Ioctl.Version()))).getResult().getErrno() == 0 ? "" : " [THE GOOD CLIENT WAS NOT SERVED AFTER IT]";
            print(name, idle, during, what + alive);
            good.close();
        }
    }

    private static void print(String name, long[] idle, long[] during, String what) {
        System.out.printf(Locale.ROOT, "%-16s %8.0fus %8.0fus %8.0fus %8.0fus %7.1f %7.1f  %s%n", name,
                pct(idle, .5) / 1e3, pct(idle, .99) / 1e3, pct(during, .5) / 1e3, pct(during, .99) / 1e3,
                pct(during, .5) / (double) pct(idle, .5), pct(during, .99) / (double) pct(idle, .99), what);
        System.out.flush();
    }

    // --- raw connections ---

    private static void send(DataOutputStream out, ClientMessage m) throws IOException {
        byte[] b = m.toByteArray();
        out.writeInt(b.length);
        out.write(b);
    }

    private static ServerMessage receive(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return ServerMessage.parseFrom(b);
    }

    private static ClientMessage hello(String name, boolean observer, String token) {
        return ClientMessage.newBuilder().setHello(Hello.newBuilder().setVersion(ProtocolVersion.PROTOCOL_VERSION_1)
                .setProcessName(name).setObserver(observer).setToken(token)).build();
    }

    private static SyscallResult call(WireClient w, Syscall.Builder c) {
        return w.call(Request.newBuilder().setCall(c)).getResult();
    }

    private static long heapAfterGc() {
        System.gc();
        var mem = ManagementFactory.getMemoryMXBean();
        return mem.getHeapMemoryUsage().getUsed();
    }

    // --- the attacks ---

    /** Two connections announce 4,096 threads each with 1,000,000-character names, then newlines in names. */
    private static String threadNames(GemulatorServer server, AtomicBoolean stop) throws Exception {
        String huge = "x".repeat(1_000_000);
        List<String> reasons = new ArrayList<>();
        int sent = 0;
        for (int c = 0; c < 2; c++) {
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                var out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
                var in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
                send(out, hello("T" + c, false, ""));
                out.flush();
                receive(in);
                var refused = new CompletableFuture<String>();
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        refused.complete(receive(in).getRefusal().getReason());
                    } catch (IOException e) {
                        refused.complete("(closed without a reason)");
                    }
                });
                try {
                    for (int i = 1; i <= 4096 && !stop.get(); i++) {
                        send(out, ClientMessage.newBuilder().setThreadStart(ThreadStart.newBuilder().setThreadId(i)
                                .setName(c == 0 ? huge + i : "T1.t" + i + "\n    12.000 us forged")).build());
                        sent++;
                    }
                    out.flush();
                } catch (IOException e) {
                    // refused and closed while sending
                }
                reasons.add(refused.get(10, TimeUnit.SECONDS));
            }
        }
        return "refused with a reason: " + reasons + "; " + sent + " thread messages sent before the refusals arrived";
    }

    /** Writes 1 MiB after 1 MiB into objects until the device says no. */
    private static String deviceMemory(GemulatorServer server, AtomicBoolean stop) throws Exception {
        long heap0 = heapAfterGc();
        try (WireClient w = new WireClient(GROUP, "127.0.0.1", server.port(), "M", null)) {
            int fd = (int) call(w, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))).getValues(0);
            var data = ByteString.copyFrom(new byte[1 << 20]);
            long mib = 0;
            while (!stop.get()) {
                int h = (int) call(w, WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(1024, 256, 32, 0))).getValues(0);
                long off = call(w, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb(h))).getValues(0);
                long map = call(w, Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(fd).setOffset(off)
                        .setLength(1 << 20))).getValues(0);
                SyscallResult r = call(w, Syscall.newBuilder().setWrite(Write.newBuilder().setMap(map).setData(data)));
                if (r.getErrno() != 0) {
                    return String.format(Locale.ROOT, "ENOMEM after %d MiB written (limit %d MiB, checked against the"
                            + " heap at start-up); heap grew %.0f MiB", mib, server.simulation().limits()
                            .deviceMemoryBytes() >> 20, (heapAfterGc() - heap0) / 1048576.0);
                }
                mib++;
            }
            return "stopped after " + mib + " MiB written without ENOMEM";
        }
    }

    /** 3,000 objects of 256 MiB with one page each written: what the device counts, and what the heap holds. */
    private static String sparseObjects(GemulatorServer server, AtomicBoolean stop) throws Exception {
        long heap0 = heapAfterGc();
        try (WireClient w = new WireClient(GROUP, "127.0.0.1", server.port(), "S", null)) {
            int fd = (int) call(w, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))).getValues(0);
            var one = ByteString.copyFrom(new byte[] {1});
            int n = 0;
            for (; n < 3000 && !stop.get(); n++) {
                SyscallResult c = call(w, WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(8192, 8192, 32, 0)));
                if (c.getErrno() != 0) {
                    break;
                }
                int h = (int) c.getValues(0);
                long off = call(w, WireIoctl.syscall(fd, new Ioctl.ModeMapDumb(h))).getValues(0);
                long map = call(w, Syscall.newBuilder().setMmap(Mmap.newBuilder().setFd(fd).setOffset(off)
                        .setLength(256L << 20))).getValues(0);
                if (call(w, Syscall.newBuilder().setWrite(Write.newBuilder().setMap(map).setOffset(100L << 20)
                        .setData(one))).getErrno() != 0) {
                    break;
                }
            }
            var dev = server.simulation().machine().device(0);
            return String.format(Locale.ROOT, "%d objects of 256 MiB: device counts %.1f MiB (%.1f of page indexes),"
                    + " heap grew %.1f MiB", n, (dev.residentBytes() + dev.pageIndexBytes()) / 1048576.0,
                    dev.pageIndexBytes() / 1048576.0, (heapAfterGc() - heap0) / 1048576.0);
        }
    }

    /** One connection pipelines requests as fast as it can without reading a reply. */
    private static String inFlight(GemulatorServer server, AtomicBoolean stop) throws Exception {
        long heap0 = heapAfterGc();
        long sent = 0;
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(1000);
            var out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
            send(out, hello("P", false, ""));
            out.flush();
            var write = ClientMessage.newBuilder().setRequest(Request.newBuilder().setCall(Syscall.newBuilder()
                    .setClose(Close.newBuilder().setFd(99)))).build();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    while (!stop.get()) {
                        send(out, write);
                    }
                } catch (IOException e) {
                    // the socket filled up and was closed at the end
                }
            });
            while (!stop.get()) {
                Thread.sleep(50);
            }
            long heap = heapAfterGc();
            s.close();
            writer.join();
            sent = server.simulation().executed();
            return String.format(Locale.ROOT, "never read its replies: %d of its requests ran, then it was no longer"
                    + " read; heap grew %.1f MiB", sent, (heap - heap0) / 1048576.0);
        }
    }

    /** 100,000 objects with flink names, made on the simulation thread through an in-process process. */
    private static void names(GemulatorServer server) throws Exception {
        var made = new CompletableFuture<Void>();
        var sim = server.simulation();
        // the names are made on the simulation thread through an in-process process
        sim.runOnSimulationThread(() -> {
            var sys = sim.machine().sys();
            var task = sys.spawn("Namer").mainTask();
            long fd = sys.open(task, "card0").v0();
            for (int i = 0; i < 100_000; i++) {
                int h = (int) sys.ioctl(task, fd, new Ioctl.ModeCreateDumb(4, 4, 32, 0)).v0();
                sys.ioctl(task, fd, new Ioctl.GemFlink(h));
            }
            made.complete(null);
        });
        made.get(120, TimeUnit.SECONDS);
    }

    /** Three observers keep 64 debugfs questions each in flight on a device with 100,000 names. */
    private static String debugfsFlood(GemulatorServer server, AtomicBoolean stop) throws Exception {
        AtomicLong answered = new AtomicLong();
        List<Thread> floods = new ArrayList<>();
        List<Socket> sockets = new ArrayList<>();
        for (int f = 0; f < 3; f++) {
            Socket s = new Socket("127.0.0.1", server.port());
            sockets.add(s);
            floods.add(Thread.ofPlatform().start(() -> {
                try {
                    var out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
                    var in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
                    send(out, hello("flood", true, ""));
                    out.flush();
                    receive(in);
                    var ask = ClientMessage.newBuilder().setDebugfs(DebugfsRequest.getDefaultInstance()).build();
                    for (int i = 0; i < 64; i++) {
                        send(out, ask);
                    }
                    out.flush();
                    while (!stop.get()) {
                        receive(in);
                        answered.incrementAndGet();
                        send(out, ask);
                        out.flush();
                    }
                } catch (IOException e) {
                    // closed at the end
                }
            }));
        }
        while (!stop.get()) {
            Thread.sleep(50);
        }
        for (Socket s : sockets) {
            s.close();
        }
        for (Thread t : floods) {
            t.join();
        }
        return answered.get() + " debugfs answers (each cut at 1 MiB) to 3 observers with 64 in flight each,"
                + " on a device with 100,000 names (made before the idle baseline)";
    }

    /** 1,024 connections that never say Hello; a good client tries to connect all along. */
    private static String noHello(GemulatorServer server, AtomicBoolean stop) throws Exception {
        List<Socket> silent = new ArrayList<>();
        for (int i = 0; i < 1023; i++) { // the good client holds the last place
            silent.add(new Socket("127.0.0.1", server.port()));
        }
        long t0 = System.nanoTime();
        while (server.connections() < 1024 && System.nanoTime() - t0 < 5_000_000_000L) {
            Thread.sleep(5);
        }
        long in = -1;
        int refused = 0;
        while (!stop.get() && in < 0) {
            try (WireClient w = new WireClient(GROUP, "127.0.0.1", server.port(), "Other", null)) {
                w.mode();
                in = System.nanoTime() - t0;
            } catch (WireClient.ConnectionLost e) {
                refused++;
                Thread.sleep(20);
            }
        }
        for (Socket s : silent) {
            s.close();
        }
        return in < 0 ? "the other good client never got in (" + refused + " tries)"
                : String.format(Locale.ROOT, "1,023 silent connections (and the good one) filled the 1,024 places; "
                        + "another good client was refused %d times, then got in after %.1f s (hello timeout 2 s)",
                        refused, in / 1e9);
    }

    /** 900 connections say Hello and send half of a 1 MiB frame each, then close. */
    private static String halfFrames(GemulatorServer server, AtomicBoolean stop) throws Exception {
        long before = GemulatorServer.bufferBytes();
        List<Socket> half = new ArrayList<>();
        byte[] body = new byte[512 << 10];
        for (int i = 0; i < 900 && !stop.get(); i++) {
            Socket s = new Socket("127.0.0.1", server.port());
            var out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
            send(out, hello("H" + i, false, ""));
            out.writeInt(1 << 20);
            out.write(body);
            out.flush();
            half.add(s);
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        long held = 0;
        while (System.nanoTime() < deadline) {
            held = Math.max(held, GemulatorServer.bufferBytes() - before);
            if (held >= (long) half.size() * (500 << 10)) {
                break;
            }
            Thread.sleep(20);
        }
        for (Socket s : half) {
            s.close();
        }
        long after = 0;
        while (System.nanoTime() < deadline + 10_000_000_000L) {
            after = GemulatorServer.bufferBytes() - before;
            if (after < (1 << 20)) {
                break;
            }
            Thread.sleep(20);
        }
        return String.format(Locale.ROOT, "%d half frames held %.0f MiB of buffers; %.1f MiB left once they closed",
                half.size(), held / 1048576.0, after / 1048576.0);
    }

    /** One process attaches read fences to one object as fast as it can. */
    private static String fenceFlood(GemulatorServer server, AtomicBoolean stop) throws Exception {
        try (WireClient w = new WireClient(GROUP, "127.0.0.1", server.port(), "F", null)) {
            int fd = (int) call(w, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))).getValues(0);
            int h = (int) call(w, WireIoctl.syscall(fd, new Ioctl.ModeCreateDumb(4, 4, 32, 0))).getValues(0);
            int ok = 0;
            long t0 = System.nanoTime();
            long firstThousand = 0;
            String refusal = "";
            while (!stop.get() && ok < 150_000) {
                SyscallResult r = call(w, WireIoctl.syscall(fd, new Ioctl.VgemFenceAttach(h, 0, 0)));
                if (r.getErrno() != 0) {
                    refusal = Errno.byNumber(r.getErrno()) + " (" + r.getMessage() + ")";
                    break;
                }
                if (++ok == 1000) {
                    firstThousand = System.nanoTime() - t0;
                }
            }
            long all = System.nanoTime() - t0;
            return String.format(Locale.ROOT, "%d fences attached to one object in %.2f s (the first 1,000 in %.2f s:"
                    + " no slowdown), then %s", ok, all / 1e9, firstThousand / 1e9, refusal);
        }
    }

    /** One process pushes 1,020 fds at a victim that opened no channel for it. */
    private static String sendFdPush(GemulatorServer server, AtomicBoolean stop) throws Exception {
        try (WireClient a = new WireClient(GROUP, "127.0.0.1", server.port(), "Pusher", null);
                WireClient v = new WireClient(GROUP, "127.0.0.1", server.port(), "Victim", null)) {
            int fd = (int) call(a, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))).getValues(0);
            call(v, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            int refused = 0;
            for (int i = 0; i < 1020 && !stop.get(); i++) {
                if (call(a, Syscall.newBuilder().setSendFd(SendFd.newBuilder().setFd(fd).setToProcess("Victim")))
                        .getErrno() == Errno.ENOTCONN.number()) {
                    refused++;
                }
            }
            SyscallResult open = call(v, Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0")));
            return refused + " pushes answered ENOTCONN (no channel of the victim's for the pusher); the victim's"
                    + " next open " + (open.getErrno() == 0 ? "got fd " + open.getValues(0) : "FAILED");
        }
    }

    /** A lockstep client asks for one statement again and again while it waits for its turn. */
    private static void lockstepAsks() throws Exception {
        String text = "A: open card0 -> $fd\nB: open card0 -> $g\nA: close $fd\nB: close $g\n";
        var script = Parser.parse("asks.gem", text);
        var o = new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000);
        var run = new LockstepRun(600_000, System.err);
        run.start(script, Traces.header("asks.gem", text, Profile.MODERN, o), Profile.MODERN, o,
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
        try (GemulatorServer server = GemulatorServer.startLockstep("127.0.0.1", 0, run,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null);
                Socket s = new Socket("127.0.0.1", server.port())) {
            WireClient observer = new WireClient(GROUP, "127.0.0.1", server.port(), "watch", null, true);
            long[] idle = status(observer, 1_000_000_000L);
            var out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
            var in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            send(out, hello("A", false, ""));
            out.flush();
            receive(in);
            long heap0 = heapAfterGc();
            // line 1 is answered; line 3 waits for B, who never comes: then the same ask again and again
            ClientMessage first = ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(1)
                    .setThread("A").setLine(1).setOp("open")).build();
            send(out, first);
            out.flush();
            receive(in);
            var again = new CompletableFuture<String>();
            Thread flood = Thread.ofPlatform().start(() -> {
                long n = 0;
                try {
                    for (; n < 8_000_000; n++) {
                        send(out, ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(2 + n)
                                .setThread("A").setLine(3).setOp("close")).build());
                    }
                    out.flush();
                    again.complete("sent all " + n);
                } catch (IOException e) {
                    again.complete("closed after " + n + " asks were sent");
                }
            });
            long[] during = status(observer, seconds * 1_000_000_000L);
            String reason;
            try {
                s.setSoTimeout(5000);
                reason = receive(in).getRefusal().getReason();
            } catch (IOException e) {
                reason = "(closed)";
            }
            s.close();
            flood.join();
            print("lockstep-asks", idle, during, "refused: \"" + reason + "\"; " + again.get() + "; heap grew "
                    + String.format(Locale.ROOT, "%.1f MiB", (heapAfterGc() - heap0) / 1048576.0)
                    + " (good client: an observer's status)");
            observer.close();
            run.abort();
        }
    }

    private static long[] status(WireClient observer, long nanos) {
        List<Long> t = new ArrayList<>();
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end || t.size() < 50) {
            long t0 = System.nanoTime();
            observer.status();
            t.add(System.nanoTime() - t0);
        }
        long[] a = t.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a;
    }

    /** Wrong tokens as fast as one source can send them. */
    private static void tokenGuessing() throws Exception {
        try (GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, new Simulation(Profile.MODERN, 4096, null,
                System.err, Limits.DEFAULT), GemulatorServer.DEFAULT_MAX_FRAME_BYTES, "the-right-token")) {
            WireClient good = new WireClient(GROUP, "127.0.0.1", server.port(), "Good", "the-right-token");
            good.call(Request.newBuilder().setCall(Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            long[] idle = good(good, 1_000_000_000L);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong tried = new AtomicLong();
            AtomicLong atOnce = new AtomicLong();
            List<Thread> guessers = new ArrayList<>();
            for (int g = 0; g < 8; g++) {
                int id = g;
                guessers.add(Thread.ofPlatform().start(() -> {
                    long n = 0;
                    while (!stop.get()) {
                        try (WireClient w = new WireClient(GROUP, "127.0.0.1", server.port(), "G" + id, "guess" + n++)) {
                            w.mode();
                        } catch (WireClient.ConnectionLost e) {
                            if (e.getMessage().contains("too many wrong tokens")) {
                                atOnce.incrementAndGet();
                            } else if (e.getMessage().contains("wrong token")) {
                                tried.incrementAndGet();
                            }
                        }
                    }
                }));
            }
            long t0 = System.nanoTime();
            long[] during = good(good, seconds * 1_000_000_000L);
            stop.set(true);
            for (Thread t : guessers) {
                t.join();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            print("token-guessing", idle, during, String.format(Locale.ROOT, "%d tokens checked in %.1f s (%.1f/s; the"
                    + " issue measured 1,632/s), %d more refused unchecked; the good client's connection was made before",
                    tried.get(), s, tried.get() / s, atOnce.get()));
            good.close();
        }
    }

    /** A trace damaged in the middle. */
    private static void corruptTrace() throws Exception {
        Path dir = Files.createTempDirectory("attack");
        Path gem = dir.resolve("t.gem");
        Files.writeString(gem, "A: open card0 -> $fd\nA: create_dumb $fd 64 64 32 -> $h\nA: close $fd\n");
        Path trace = dir.resolve("t.trace");
        var saved = System.out;
        int cut;
        int bad;
        try {
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            Main.execute("run", gem.toString(), "--trace", trace.toString());
            byte[] whole = Files.readAllBytes(trace);
            Files.write(trace, Arrays.copyOf(whole, whole.length - 5));
            cut = Main.execute("trace", "show", trace.toString());
            byte[] damaged = whole.clone();
            damaged[whole.length / 2] ^= 0x10;
            Files.write(trace, damaged);
            bad = Main.execute("trace", "show", trace.toString());
        } finally {
            System.setOut(saved);
        }
        System.out.printf(Locale.ROOT, "%-16s %s%n", "corrupt-trace", "trace show of a trace cut short: exit " + cut
                + " (a cut); of one with a byte changed in the middle: exit " + bad + " (corruption)");
        Files.walk(dir).sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
}
