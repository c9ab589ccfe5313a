package dev.gemulator.bench;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Open;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.sched.Strategy;
import dev.gemulator.transport.GemulatorServer;
import dev.gemulator.server.WireIoctl;
import dev.gemulator.trace.Traces;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * The server's throughput and latency on loopback, against a plain Netty echo
 * server with the same framing and frames of the same size, measured in the
 * same run: free-running ioctls/s with 1, 4 and 16 client connections, and a
 * lockstep run of 4 processes against free-running with 4. Nothing is
 * asserted.
 */
public final class ServerBench {
    private ServerBench() {
    }

    private record Result(double opsPerSecond, Histogram latency) {
    }

    private static final Syscall GET_CAP = WireIoctl.syscall(3,
            new Ioctl.GetCap(5)).build();

    /** N connections, each looping one request at a time for {@code seconds}. */
    private static Result free(int port, int clients, double seconds, EventLoopGroup group) throws Exception {
        List<WireClient> wires = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            WireClient w = new WireClient(group, "127.0.0.1", port, "P" + i, null);
            w.call(Request.newBuilder().setCall(Syscall.newBuilder().setOpen(Open.newBuilder().setNode("card0"))));
            wires.add(w);
        }
        return loop(clients, seconds, i -> wires.get(i).call(Request.newBuilder().setCall(GET_CAP)), () -> wires.forEach(WireClient::close));
    }

    private interface Op {
        void run(int client) throws Exception;
    }

    private static Result loop(int clients, double seconds, Op op, Runnable close) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Histogram all = new Histogram(3);
        long[] counts = new long[clients];
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads.add(Thread.ofPlatform().start(() -> {
                Histogram h = new Histogram(3);
                try {
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        op.run(client);
                        h.recordValue(System.nanoTime() - t0);
                        counts[client]++;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                synchronized (all) {
                    all.add(h);
                }
            }));
        }
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        close.run();
        long total = 0;
        for (long n : counts) {
            total += n;
        }
        return new Result(total / secs, all);
    }

    /** The server's framing: a 4-byte length, then the frame. */
    private static ChannelPipeline framed(Channel ch) {
        return ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 20, 0, 4, 0, 4, true))
                .addLast(new LengthFieldPrepender(4));
    }

    /** A Netty echo server with the same framing. */
    private static Channel echoServer(EventLoopGroup boss, EventLoopGroup workers) throws Exception {
        return new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        framed(ch).addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                ctx.writeAndFlush(msg.retain());
                            }
                        });
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    private static Result echo(int port, int clients, double seconds, int frameBytes, EventLoopGroup group) throws Exception {
        List<Channel> channels = new ArrayList<>();
        List<SynchronousQueue<Boolean>> replies = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            SynchronousQueue<Boolean> q = new SynchronousQueue<>();
            replies.add(q);
            channels.add(new Bootstrap().group(group).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            framed(ch).addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) throws Exception {
                                    q.put(Boolean.TRUE);
                                }
                            });
                        }
                    }).connect("127.0.0.1", port).sync().channel());
        }
        byte[] frame = new byte[frameBytes];
        return loop(clients, seconds, i -> {
            channels.get(i).writeAndFlush(Unpooled.wrappedBuffer(frame));
            replies.get(i).take();
        }, () -> channels.forEach(c -> c.close().syncUninterruptibly()));
    }

    /** Lockstep: 4 processes, each asking for its get_cap statements; returns statements per second. */
    private static double lockstep(int processes, int perProcess) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < processes; p++) {
            sb.append("P").append(p).append(": open card0\n");
        }
        sb.append("repeat ").append(perProcess).append(" {\n");
        for (int p = 0; p < processes; p++) {
            sb.append("  P").append(p).append(": get_cap 3 PRIME\n");
        }
        sb.append("}\n");
        String text = sb.toString();
        Script script = Parser.parse("lockstep.gem", text);
        Runner.RunOptions o = new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000);
        List<String> names = new ArrayList<>();
        for (int p = 0; p < processes; p++) {
            names.add("P" + p);
        }
        double secs;
        try (InProcessLockstep l = InProcessLockstep.start(script, Traces.header("lockstep.gem", text, Profile.MODERN, o),
                Profile.MODERN, o, 1, names)) {
            secs = l.await();
        }
        return processes * (perProcess + 1) / secs;
    }

    /** Iterations of a small 2-process scenario with the same clients: the mean device reset between them. */
    private static double[] iterations(int count) throws Exception {
        String text = "A: open card0 -> $fd\nA: send_fd $fd B -> $bfd\nA: create_dumb $fd 4 4 32 -> $h\n"
                + "B: gem_close $bfd $h\nA: close $fd\nB: close $bfd\n";
        Script script = Parser.parse("reset.gem", text);
        Runner.RunOptions o = new Runner.RunOptions(1, Strategy.Name.RANDOM, 3, 1000);
        try (InProcessLockstep l = InProcessLockstep.start(script, Traces.header("reset.gem", text, Profile.MODERN, o),
                Profile.MODERN, o, count, List.of("A", "B"))) {
            double secs = l.await();
            return new double[] {l.run.meanResetNanos() / 1000, count / secs};
        }
    }

    public static void main(String[] args) throws Exception {
        double seconds = 3;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--seconds")) {
                seconds = Double.parseDouble(args[++i]);
            } else {
                System.err.println("usage: bench server [--seconds S]");
                System.exit(2);
            }
        }
        int frameBytes = ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(123456).setCall(GET_CAP))
                .build().getSerializedSize();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        Channel echo = echoServer(boss, workers);
        int echoPort = ((InetSocketAddress) echo.localAddress()).getPort();
        GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 4096);
        echo(echoPort, 4, 1, frameBytes, clientGroup);
        free(server.port(), 4, 1, clientGroup);

        System.out.println("gemulator bench server: loopback, request/response, frames of " + frameBytes + " bytes, "
                + seconds + " s each, JDK " + System.getProperty("java.version"));
        System.out.println();
        String fmt = "%-10s %14s %14s %8s %10s %10s %10s %10s%n";
        System.out.printf(Locale.ROOT, fmt, "clients", "echo ops/s", "server ops/s", "x echo", "echo p50", "echo p99",
                "p50", "p99");
        double free4 = 0;
        for (int clients : new int[] {1, 4, 16}) {
            Result e = echo(echoPort, clients, seconds, frameBytes, clientGroup);
            Result f = free(server.port(), clients, seconds, clientGroup);
            if (clients == 4) {
                free4 = f.opsPerSecond();
            }
            System.out.printf(Locale.ROOT, fmt, clients, String.format(Locale.ROOT, "%,.0f", e.opsPerSecond()),
                    String.format(Locale.ROOT, "%,.0f", f.opsPerSecond()),
                    String.format(Locale.ROOT, "%.2f", f.opsPerSecond() / e.opsPerSecond()),
                    us(e.latency().getValueAtPercentile(50)), us(e.latency().getValueAtPercentile(99)),
                    us(f.latency().getValueAtPercentile(50)), us(f.latency().getValueAtPercentile(99)));
        }
        server.close();
        lockstep(4, 500);
        double ls = lockstep(4, (int) Math.max(500, seconds * 2000));
        System.out.println();
        System.out.printf(Locale.ROOT, "lockstep, 4 processes: %,.0f statements/s = %.2f x free-running with 4 clients%n",
                ls, ls / free4);
        iterations(50);
        double[] it = iterations(500);
        System.out.printf(Locale.ROOT, "lockstep iterations, 2 processes, 6 statements: device reset %.0f us on average,"
                + " %,.0f iterations/s%n", it[0], it[1]);
        echo.close().sync();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static String us(long nanos) {
        return String.format(Locale.ROOT, "%.1f us", nanos / 1000.0);
    }
}
