package dev.gemulator.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.proto.v1.Syscall;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Attacks a running server with bad input, from a seed: garbage frames,
 * truncated frames, oversized frames, requests before Hello, bad Hellos,
 * and sessions of well-formed but nonsensical system calls (bad handles and
 * fds, huge sizes, negative values, unknown ops). It checks what the server
 * promises: every request of a session gets a reply with an errno (and a
 * message when the errno is not 0), and every connection it refuses gets a
 * reason before it closes.
 */
public final class WireFuzzer {

    /** What to send, where, and how much. */
    public record Config(String host, int port, String token, long seed, long frames, int connections,
            int maxFrameBytes, String processPrefix) {
    }

    /** What was sent and what went against the server's promises. */
    public record Result(long frames, long requests, long errnoReplies, long refusals, long sessions, long malformed,
            List<String> violations, long nanos) {
        public double framesPerSecond() {
            return frames / (nanos / 1e9);
        }
    }

    private static final int BATCH = 32;

    private final Config config;
    private final AtomicLong frames = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong errnoReplies = new AtomicLong();
    private final AtomicLong refusals = new AtomicLong();
    private final AtomicLong sessions = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final List<String> violations = Collections.synchronizedList(new ArrayList<>());

    private WireFuzzer(Config config) {
        this.config = config;
    }

    /** Runs {@code config.connections()} attackers until {@code config.frames()} frames are sent. */
    public static Result run(Config config) throws InterruptedException {
        WireFuzzer f = new WireFuzzer(config);
        long t0 = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < config.connections(); i++) {
            int id = i;
            threads.add(Thread.ofPlatform().name("fuzz-" + i).start(() -> f.attacker(id)));
        }
        for (Thread t : threads) {
            t.join();
        }
        return new Result(f.frames.get(), f.requests.get(), f.errnoReplies.get(), f.refusals.get(), f.sessions.get(),
                f.malformed.get(), List.copyOf(f.violations), System.nanoTime() - t0);
    }

    private void attacker(int id) {
        Random rnd = new Random(config.seed() * 1_000_003 + id);
        int n = 0;
        while (frames.get() < config.frames() && violations.size() < 20) {
            String name = config.processPrefix() + id + "x" + n++;
            try (Socket s = new Socket(config.host(), config.port())) {
                s.setSoTimeout(60_000);
                s.setTcpNoDelay(true);
                DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
                DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
                int kind = rnd.nextInt(100);
                if (kind < 50) {
                    session(rnd, name, out, in);
                } else {
                    malformed.incrementAndGet();
                    switch (kind % 7) {
                        case 0 -> garbage(rnd, out, in);
                        case 1 -> truncated(rnd, out, in, s);
                        case 2 -> oversized(rnd, out, in);
                        case 3 -> beforeHello(rnd, out, in);
                        case 4 -> badHello(rnd, out, in);
                        case 5 -> secondHello(name, out, in);
                        default -> emptyMessage(name, out, in);
                    }
                }
            } catch (IOException e) {
                violations.add(name + ": " + e);
            }
        }
    }

    // ---- frames

    private void frame(DataOutputStream out, byte[] body) throws IOException {
        out.writeInt(body.length);
        out.write(body);
        frames.incrementAndGet();
    }

    private static ServerMessage read(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > (64 << 20)) {
            throw new IOException("the server sent a frame of " + length + " bytes");
        }
        byte[] b = new byte[length];
        in.readFully(b);
        return ServerMessage.parseFrom(b);
    }

    private ClientMessage hello(String name) {
        return ClientMessage.newBuilder().setHello(Hello.newBuilder().setVersion(ProtocolVersion.PROTOCOL_VERSION_1)
                .setProcessName(name).setToken(config.token() == null ? "" : config.token())).build();
    }

    /** The server must answer with a refusal that gives a reason, then close. */
    private void expectRefusal(String what, DataInputStream in) throws IOException {
        ServerMessage m;
        try {
            m = read(in);
        } catch (EOFException | SocketException e) {
            violations.add(what + ": closed without a reason");
            return;
        }
        while (m.hasWelcome()) {
            m = read(in);
        }
        if (!m.hasRefusal() || m.getRefusal().getReason().isEmpty()) {
            violations.add(what + ": wanted a refusal with a reason, got " + m.getMessageCase());
            return;
        }
        refusals.incrementAndGet();
        expectClosed(what, in);
    }

    private void expectClosed(String what, DataInputStream in) throws IOException {
        try {
            if (in.read() >= 0) {
                violations.add(what + ": the connection stayed open after a refusal");
            }
        } catch (SocketException e) {
            // reset: closed
        }
    }

    // ---- malformed input

    private void garbage(Random rnd, DataOutputStream out, DataInputStream in) throws IOException {
        byte[] b = new byte[1 + rnd.nextInt(512)];
        rnd.nextBytes(b);
        b[0] = 0; // field number 0 never parses: the frame is garbage for sure
        frame(out, b);
        out.flush();
        expectRefusal("garbage frame", in);
    }

    private void truncated(Random rnd, DataOutputStream out, DataInputStream in, Socket s) throws IOException {
        byte[] body = hello("T").toByteArray();
        out.writeInt(body.length + 1 + rnd.nextInt(1000));
        out.write(body);
        frames.incrementAndGet();
        out.flush();
        s.shutdownOutput();
        try {
            while (in.read() >= 0) {
                // whatever comes, the server must close
            }
        } catch (SocketException e) {
            // reset: closed
        }
    }

    private void oversized(Random rnd, DataOutputStream out, DataInputStream in) throws IOException {
        out.writeInt(config.maxFrameBytes() + 1 + rnd.nextInt(1 << 20));
        byte[] some = new byte[rnd.nextInt(4096)];
        rnd.nextBytes(some);
        out.write(some);
        frames.incrementAndGet();
        out.flush();
        expectRefusal("oversized frame", in);
    }

    private void beforeHello(Random rnd, DataOutputStream out, DataInputStream in) throws IOException {
        frame(out, ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(1).setCall(syscall(rnd)))
                .build().toByteArray());
        out.flush();
        expectRefusal("request before Hello", in);
    }

    private void badHello(Random rnd, DataOutputStream out, DataInputStream in) throws IOException {
        Hello.Builder h = Hello.newBuilder().setToken(config.token() == null ? "" : config.token());
        switch (rnd.nextInt(3)) {
            case 0 -> h.setVersionValue(2 + rnd.nextInt(100)).setProcessName("V");
            case 1 -> h.setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName(
                    List.of("", "1abc", "a b", "../x", "x".repeat(65), "é").get(rnd.nextInt(6)));
            default -> h.setVersion(ProtocolVersion.PROTOCOL_VERSION_1).setProcessName("W").setToken("not-the-token");
        }
        frame(out, ClientMessage.newBuilder().setHello(h).build().toByteArray());
        out.flush();
        if (config.token() == null && h.getToken().equals("not-the-token")) {
            // without a token any token is welcome: nothing to check
            return;
        }
        expectRefusal("bad Hello", in);
    }

    private void secondHello(String name, DataOutputStream out, DataInputStream in) throws IOException {
        frame(out, hello(name).toByteArray());
        frame(out, hello(name).toByteArray());
        out.flush();
        expectRefusal("a second Hello", in);
    }

    private void emptyMessage(String name, DataOutputStream out, DataInputStream in) throws IOException {
        frame(out, new byte[0]);
        out.flush();
        expectRefusal("an empty message", in);
    }

    // ---- sessions of nonsense

    private void session(Random rnd, String name, DataOutputStream out, DataInputStream in) throws IOException {
        sessions.incrementAndGet();
        frame(out, hello(name).toByteArray());
        out.flush();
        ServerMessage w = read(in);
        if (!w.hasWelcome()) {
            if (w.hasRefusal() && !w.getRefusal().getReason().isEmpty()) {
                refusals.incrementAndGet(); // a lockstep server refuses names outside its scenario
                expectClosed("session", in);
            } else {
                violations.add(name + ": wanted Welcome, got " + w.getMessageCase());
            }
            return;
        }
        long id = 1;
        int batches = 1 + rnd.nextInt(8);
        for (int b = 0; b < batches; b++) {
            int count = 1 + rnd.nextInt(BATCH);
            for (int i = 0; i < count; i++) {
                Request.Builder r = Request.newBuilder().setRequestId(id + i).setThreadId(thread(rnd));
                if (rnd.nextInt(50) == 0) {
                    // an op from a future protocol: an unknown field where the call should be
                    r.setCall(Syscall.newBuilder().setUnknownFields(UnknownFieldSet.newBuilder().addField(
                            100 + rnd.nextInt(1000), UnknownFieldSet.Field.newBuilder().addVarint(rnd.nextLong()).build())
                            .build()));
                } else {
                    r.setCall(syscall(rnd));
                }
                frame(out, ClientMessage.newBuilder().setRequest(r).build().toByteArray());
            }
            out.flush();
            requests.addAndGet(count);
            for (int i = 0; i < count; i++) {
                ServerMessage m = read(in);
                if (!m.hasReply()) {
                    violations.add(name + ": wanted a Reply, got " + m.getMessageCase()
                            + (m.hasRefusal() ? " (" + m.getRefusal().getReason() + ")" : ""));
                    return;
                }
                long got = m.getReply().getRequestId();
                if (got < id || got >= id + count) {
                    violations.add(name + ": a reply to request " + got + " not asked in this batch");
                    return;
                }
                var result = m.getReply().getResult();
                if (result.getErrno() < 0 || result.getErrno() > 4095) {
                    violations.add(name + ": errno " + result.getErrno());
                } else if (result.getErrno() != 0) {
                    errnoReplies.incrementAndGet();
                    if (result.getMessage().isEmpty()) {
                        violations.add(name + ": errno " + result.getErrno() + " without a message");
                    }
                }
            }
            id += count;
        }
    }

    private static int thread(Random rnd) {
        return switch (rnd.nextInt(10)) {
            case 0 -> rnd.nextInt();
            case 1, 2 -> rnd.nextInt(4);
            default -> 0;
        };
    }

    /** A system call chosen at random, each argument small, boundary or random. */
    static Syscall syscall(Random rnd) {
        OneofDescriptor call = Syscall.getDescriptor().getOneofs().get(0);
        FieldDescriptor which = call.getField(rnd.nextInt(call.getFieldCount()));
        if (which.getName().equals("ioctl")) {
            return Syscall.newBuilder().setIoctl(ioctl(rnd)).build();
        }
        Message.Builder args = Syscall.newBuilder().newBuilderForField(which);
        for (FieldDescriptor f : args.getDescriptorForType().getFields()) {
            if (rnd.nextInt(8) == 0) {
                continue; // left at its default
            }
            Object v = switch (f.getJavaType()) {
                case INT -> (int) number(rnd);
                case LONG -> number(rnd);
                case BOOLEAN -> rnd.nextBoolean();
                case STRING -> List.of("card0", "render0", "", "card1", "../card0", "A", "B", "x".repeat(300))
                        .get(rnd.nextInt(8));
                case BYTE_STRING -> {
                    byte[] b = new byte[rnd.nextInt(8) == 0 ? rnd.nextInt(70_000) : rnd.nextInt(64)];
                    rnd.nextBytes(b);
                    yield ByteString.copyFrom(b);
                }
                case ENUM -> f.getEnumType().getValues().get(rnd.nextInt(f.getEnumType().getValues().size()));
                default -> null;
            };
            if (v != null) {
                args.setField(f, v);
            }
        }
        return Syscall.newBuilder().setField(which, args.build()).build();
    }

    /**
     * An ioctl: mostly a request of the table with its struct at the argument
     * (zeroed, small numbers or random bytes), sometimes a random number, a
     * missing or short argument, or memory elsewhere.
     */
    static dev.gemulator.proto.v1.Ioctl ioctl(Random rnd) {
        var rows = dev.gemulator.kernel.uapi.IoctlTable.rows();
        int cmd = rnd.nextInt(6) == 0 ? (int) number(rnd) : rows.get(rnd.nextInt(rows.size())).cmd();
        long arg = rnd.nextInt(10) == 0 ? number(rnd) : 0x10000;
        var b = dev.gemulator.proto.v1.Ioctl.newBuilder().setFd(rnd.nextInt(10) == 0 ? (int) number(rnd) : 3 + rnd.nextInt(3))
                .setRequest(cmd).setArg(arg);
        if (rnd.nextInt(10) != 0) {
            int size = dev.gemulator.kernel.uapi.IoctlCmd.size(cmd);
            byte[] data = new byte[rnd.nextInt(8) == 0 ? rnd.nextInt(size + 1) : size];
            switch (rnd.nextInt(3)) {
                case 0 -> { }
                case 1 -> {
                    for (int i = 0; i < data.length; i += 4) {
                        data[i] = (byte) rnd.nextInt(4);
                    }
                }
                default -> rnd.nextBytes(data);
            }
            b.addMemory(dev.gemulator.proto.v1.Memory.newBuilder().setAddress(0x10000).setData(ByteString.copyFrom(data)));
        }
        return b.build();
    }

    private static long number(Random rnd) {
        return switch (rnd.nextInt(12)) {
            case 0 -> -1;
            case 1 -> Integer.MAX_VALUE;
            case 2 -> Integer.MIN_VALUE;
            case 3 -> Long.MAX_VALUE;
            case 4 -> 0xFFFF_FFFFL;
            case 5 -> 4096L * rnd.nextInt(64);
            case 6 -> 1L << (20 + rnd.nextInt(40));
            case 7 -> rnd.nextLong();
            default -> rnd.nextInt(12);
        };
    }
}
