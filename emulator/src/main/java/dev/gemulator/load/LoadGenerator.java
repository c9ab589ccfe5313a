package dev.gemulator.load;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DmaBufFd;
import dev.gemulator.client.DrmException;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.wire.WireClient;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * Handle churn from N client processes with M threads each against a
 * server ({@link LoadCommand} is its command line): a seeded mix of create,
 * export, import, flink, open, close, fd close and fd passing, at a target
 * rate or as fast as it goes, for a duration. Prints a live progress line on
 * a terminal, then a report with HdrHistogram percentiles per op (and a JSON
 * file with --json), then checks that the device holds nothing once the
 * clients are gone.
 *
 * <p>It counts what the server counts: every system call it makes, under
 * the server's name for it ({@code create_dumb}, {@code prime_handle_to_fd}, ...),
 * with every error, those of its set-up and clean-up included. A step of
 * the mix that has nothing to work on (an export with no handle yet) makes
 * no call and is not counted; one that passes an fd makes five calls (the
 * send, and the peer's receive, import, close of the handle and close of
 * the fd), and the peer's consent to receive (its channel for the sender)
 * is one call of the set-up.
 * So for one run the totals equal the server's {@code gemulator_ioctls_total}
 * by op and errno ({@code LoadMetricsTest}).
 */
public final class LoadGenerator {
    /** What to run. */
    public record Config(String host, int port, String token, int processes, int threads, long seed, double rate,
            double seconds, int firstProcess, boolean leakCheck, Duration connectRetry) {
        /** As a forked client or the command line has it, connecting at once. */
        public Config(String host, int port, String token, int processes, int threads, long seed, double rate,
                double seconds, int firstProcess, boolean leakCheck) {
            this(host, port, token, processes, threads, seed, rate, seconds, firstProcess, leakCheck,
                    Duration.ZERO);
        }

        /** Processes L0 .. L(n-1), and the leak check at the end. */
        public Config(String host, int port, String token, int processes, int threads, long seed, double rate,
                double seconds) {
            this(host, port, token, processes, threads, seed, rate, seconds, 0, true);
        }
    }

    /**
     * What came out: latency histograms in ns per op (every call, failed ones
     * included), failures by "op ERRNO", the calls made, and whether the
     * device ended empty.
     */
    public record Result(Map<String, Histogram> latency, Map<String, Long> errors, long ops, double seconds,
            boolean deviceEmpty, String deviceAfter) {
        /** Calls that failed. */
        public long errorCount() {
            return errors.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Calls of {@code op} that returned {@code errno} ("OK" for success), as the server's metrics count them. */
        public long count(String op, String errno) {
            Histogram h = latency.get(op);
            long all = h == null ? 0 : h.getTotalCount();
            long failed = errors.entrySet().stream().filter(e -> e.getKey().startsWith(op + " "))
                    .mapToLong(Map.Entry::getValue).sum();
            return errno.equals("OK") ? all - failed : errors.getOrDefault(op + " " + errno, 0L);
        }
    }

    /** The steps of the mix, weighted by how often they come. */
    /** The steps of the mix: each one system call (or a few) on what the thread holds. */
    private enum Step { CREATE, EXPORT, IMPORT, FLINK, OPEN, CLOSE, FD_CLOSE, SEND_FD }

    /** The mix, drawn uniformly: creates three times as often as most, closes twice. */
    private static final Step[] MIX = {Step.CREATE, Step.CREATE, Step.CREATE, Step.EXPORT, Step.IMPORT, Step.FLINK,
        Step.OPEN, Step.CLOSE, Step.CLOSE, Step.FD_CLOSE, Step.SEND_FD};

    private LoadGenerator() {
    }

    /** Runs the load; with {@code progress}, a live line on stdout each second. */
    public static Result run(Config c, boolean progress) throws InterruptedException {
        Map<String, Histogram> latency = new TreeMap<>();
        Map<String, Long> errors = new TreeMap<>();
        AtomicLong ops = new AtomicLong();
        AtomicLong errorCount = new AtomicLong();
        // every call's latency also goes here, read each second for the live p99 of the last second
        org.HdrHistogram.Recorder live = new org.HdrHistogram.Recorder(3);
        AtomicLong lastLoopEnd = new AtomicLong();
        // the duration counts from when every process is connected (a forked JVM takes a while to get there)
        long[] window = new long[2];
        List<Runnable> starts = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        List<Gemulator> connections = new ArrayList<>();
        List<Counts> peers = new ArrayList<>();
        List<DrmFd> peerFds = new ArrayList<>();
        for (int p = c.firstProcess(); p < c.firstProcess() + c.processes(); p++) {
            Gemulator g = Gemulator.connect(c.host(), c.port(), c.token(), c.connectRetry(),
                    m -> System.err.println("gemulator load: " + m));
            connections.add(g);
            ClientProcess proc = g.process("L" + p);
            ClientProcess peer = g.process("L" + p + "peer");
            Counts peerCounts = new Counts(ops, errorCount, live);
            peers.add(peerCounts);
            DrmFd peerFd = peerCounts.call("open", () -> peer.open("render0"));
            if (peerFd == null) {
                throw new IllegalStateException(peer + " cannot open render0: " + peerCounts.errors);
            }
            peerFds.add(peerFd);
            if (!peerCounts.run("channel_open", () -> peer.acceptFdsFrom(proc.name()))) {
                throw new IllegalStateException(peer + " cannot accept fds from " + proc + ": " + peerCounts.errors);
            }
            for (int t = 0; t < c.threads(); t++) {
                Random rnd = new Random(c.seed() * 1_000_003 + p * 1009L + t);
                double interval = c.rate() > 0 ? 1e9 * c.processes() * c.threads() / c.rate() : 0;
                starts.add(() -> workers.add(Thread.ofPlatform().start(() -> {
                    Counts mine = new Counts(ops, errorCount, live);
                    worker(proc, peer, peerFd, rnd, window[1], interval, mine, lastLoopEnd);
                    mine.addTo(latency, errors);
                })));
            }
        }
        long t0 = System.nanoTime();
        window[0] = t0;
        window[1] = t0 + (long) (c.seconds() * 1e9);
        starts.forEach(Runnable::run);
        long lastOps = 0;
        long lastTime = t0;
        while (workers.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(progress ? 1000 : 200);
            if (progress) {
                long now = System.nanoTime();
                long o = ops.get();
                double p99 = live.getIntervalHistogram().getValueAtPercentile(99) / 1000.0;
                System.out.printf(Locale.ROOT, "\r%8.0f ops/s  %,10d ops  %,8d errors  p99 %8.1f us ",
                        (o - lastOps) / ((now - lastTime) / 1e9), o, errorCount.get(), p99);
                System.out.flush();
                lastOps = o;
                lastTime = now;
            }
        }
        if (progress) {
            System.out.println();
        }
        for (Thread w : workers) {
            w.join();
        }
        // the rate is that of the mix: its loops ran until the last worker's ended (clean-up is counted, not timed)
        double took = (lastLoopEnd.get() - t0) / 1e9;
        for (int i = 0; i < connections.size(); i++) {
            peers.get(i).run("close", peerFds.get(i)::close);
            peers.get(i).addTo(latency, errors);
            connections.get(i).close();
        }
        // after every process is gone the device must hold nothing
        String[] after = c.leakCheck() ? leakCheck(c.host(), c.port(), c.token()) : new String[] {"", "unchecked"};
        return new Result(latency, errors, ops.get(), took, after[0].equals("empty"), after[1]);
    }

    /**
     * One thread's (or a peer's) counts: every call's latency under its op,
     * failures by "op ERRNO", and the run's totals.
     */
    private static final class Counts {
        private final Map<String, Histogram> latency = new TreeMap<>();
        private final Map<String, Long> errors = new TreeMap<>();
        private final AtomicLong ops;
        private final AtomicLong errorCount;
        private final org.HdrHistogram.Recorder live;

        Counts(AtomicLong ops, AtomicLong errorCount, org.HdrHistogram.Recorder live) {
            this.ops = ops;
            this.errorCount = errorCount;
            this.live = live;
        }

        /** Makes one call named {@code op} (the server's name), counting it; null when it failed. */
        synchronized <T> T call(String op, Supplier<T> body) {
            long t = System.nanoTime();
            try {
                return body.get();
            } catch (DrmException e) {
                // a handle closed twice (imports of one dma-buf share a handle), a name gone: counted, not fatal
                errors.merge(op + " " + e.errno().name(), 1L, Long::sum);
                errorCount.incrementAndGet();
                return null;
            } finally {
                long nanos = Math.max(1, System.nanoTime() - t);
                latency.computeIfAbsent(op, k -> new Histogram(3)).recordValue(nanos);
                live.recordValue(nanos);
                ops.incrementAndGet();
            }
        }

        /** A call with no result; whether it succeeded. */
        boolean run(String op, Runnable body) {
            return call(op, () -> {
                body.run();
                return Boolean.TRUE;
            }) != null;
        }

        void addTo(Map<String, Histogram> allLatency, Map<String, Long> allErrors) {
            synchronized (allLatency) {
                latency.forEach((op, h) -> allLatency.computeIfAbsent(op, k -> new Histogram(3)).add(h));
                errors.forEach((k, v) -> allErrors.merge(k, v, Long::sum));
            }
        }
    }

    /**
     * Asks the server's debugfs until the device holds nothing (5 s at most):
     * {"empty", the objects line} or {"", what it still holds}.
     */
    static String[] leakCheck(String host, int port, String token) throws InterruptedException {
        String after = "";
        boolean empty = false;
        var group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (var observer = new WireClient(group, host, port, "load", token, true)) {
            long deadline = System.nanoTime() + 5_000_000_000L;
            do {
                String text = observer.debugfs();
                after = text.lines().filter(l -> l.contains(" objects, ")).findFirst().orElse(text);
                empty = after.startsWith("0 objects, 0 bytes") && text.contains("Total 0 objects");
                if (!empty) {
                    Thread.sleep(50);
                }
            } while (!empty && System.nanoTime() < deadline);
        } finally {
            group.shutdownGracefully();
        }
        return new String[] {empty ? "empty" : "", after};
    }

    /** A result as lines a parent can read back ({@link #fromLines}): what a forked client JVM hands over. */
    static List<String> toLines(Result r) {
        List<String> out = new ArrayList<>();
        out.add("ops " + r.ops());
        out.add("seconds " + r.seconds());
        r.latency().forEach((op, h) -> {
            ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
            int n = h.encodeIntoCompressedByteBuffer(buf);
            out.add("latency " + op + " " + Base64.getEncoder().encodeToString(Arrays.copyOf(buf.array(), n)));
        });
        r.errors().forEach((k, v) -> out.add("error " + v + " " + k));
        return out;
    }

    /** Adds the results written by {@link #toLines} into one. */
    static Result merge(List<List<String>> parts, boolean deviceEmpty, String deviceAfter) throws DataFormatException {
        Map<String, Histogram> latency = new TreeMap<>();
        Map<String, Long> errors = new TreeMap<>();
        long ops = 0;
        double seconds = 0;
        for (List<String> lines : parts) {
            for (String l : lines) {
                String[] f = l.split(" ", 3);
                switch (f[0]) {
                    case "ops" -> ops += Long.parseLong(f[1]);
                    case "seconds" -> seconds = Math.max(seconds, Double.parseDouble(f[1]));
                    case "latency" -> latency.computeIfAbsent(f[1], k -> new Histogram(3)).add(Histogram
                            .decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder()
                                    .decode(f[2])), 0));
                    case "error" -> errors.merge(f[2], Long.parseLong(f[1]), Long::sum);
                    default -> throw new IllegalArgumentException("not a line of a load result: " + l);
                }
            }
        }
        return new Result(latency, errors, ops, seconds, deviceEmpty, deviceAfter);
    }

    private static void worker(ClientProcess proc, ClientProcess peer, DrmFd peerFd, Random rnd, long end,
            double interval, Counts n, AtomicLong lastLoopEnd) {
        DrmFd fd = n.call("open", () -> proc.open("card0"));
        List<Integer> handles = new ArrayList<>();
        List<DmaBufFd> dmabufs = new ArrayList<>();
        List<Integer> names = new ArrayList<>();
        long next = System.nanoTime();
        while (fd != null && System.nanoTime() < end) {
            if (interval > 0) {
                next += (long) interval;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            Step step = MIX[rnd.nextInt(MIX.length)];
            switch (step) {
                case EXPORT -> {
                    if (!handles.isEmpty()) {
                        int h = handles.get(rnd.nextInt(handles.size()));
                        add(dmabufs, n.call("prime_handle_to_fd", () -> fd.primeHandleToFd(h, DrmFd.RDWR)));
                        continue;
                    }
                }
                case IMPORT -> {
                    if (!dmabufs.isEmpty()) {
                        DmaBufFd d = dmabufs.get(rnd.nextInt(dmabufs.size()));
                        add(handles, n.call("prime_fd_to_handle", () -> fd.primeFdToHandle(d)));
                        continue;
                    }
                }
                case FLINK -> {
                    if (!handles.isEmpty()) {
                        int h = handles.get(rnd.nextInt(handles.size()));
                        add(names, n.call("gem_flink", () -> fd.flink(h)));
                        continue;
                    }
                }
                case OPEN -> {
                    if (!names.isEmpty()) {
                        int name = names.remove(rnd.nextInt(names.size()));
                        DrmFd.Opened o = n.call("gem_open", () -> fd.gemOpen(name));
                        add(handles, o == null ? null : o.handle());
                        continue;
                    }
                }
                case CLOSE -> {
                    if (!handles.isEmpty()) {
                        int h = handles.remove(rnd.nextInt(handles.size()));
                        n.run("gem_close", () -> fd.gemClose(h));
                        continue;
                    }
                }
                case FD_CLOSE -> {
                    if (!dmabufs.isEmpty()) {
                        DmaBufFd d = dmabufs.remove(rnd.nextInt(dmabufs.size()));
                        n.run("close", d::close);
                        continue;
                    }
                }
                case SEND_FD -> {
                    if (!dmabufs.isEmpty()) {
                        DmaBufFd d = dmabufs.get(rnd.nextInt(dmabufs.size()));
                        // the peer accepted fds from this process at set-up: the fd waits in its channel
                        DmaBufFd passed = n.call("send_fd", () -> proc.sendFd(d, peer.name())) == null ? null
                                : n.call("recv_fd", () -> peer.receiveDmaBuf(Duration.ZERO));
                        if (passed != null) {
                            Integer h = n.call("prime_fd_to_handle", () -> peerFd.primeFdToHandle(passed));
                            if (h != null) {
                                n.run("gem_close", () -> peerFd.gemClose(h));
                            }
                            n.run("close", passed::close);
                        }
                        continue;
                    }
                }
                case CREATE -> {
                }
            }
            // CREATE, and every step that had nothing to work on yet
            DrmFd.Dumb bo = n.call("create_dumb", () -> fd.createDumb(1 + rnd.nextInt(256), 1 + rnd.nextInt(256), 32));
            add(handles, bo == null ? null : bo.handle());
        }
        lastLoopEnd.accumulateAndGet(System.nanoTime(), Math::max);
        if (fd == null) {
            return;
        }
        for (int h : handles) {
            n.run("gem_close", () -> fd.gemClose(h)); // EINVAL when two imports shared the handle: counted
        }
        for (DmaBufFd d : dmabufs) {
            n.run("close", d::close);
        }
        n.run("close", fd::close);
    }

    private static <T> void add(List<T> to, T value) {
        if (value != null) {
            to.add(value);
        }
    }

    /** The report: totals, then per op its calls, failures and latency percentiles, then the failures by errno. */
    public static void report(Result r, PrintStream out) {
        out.printf(Locale.ROOT, "gemulator load: %,d system calls in %.1f s = %.0f calls/s, %,d failed%n", r.ops(),
                r.seconds(), r.ops() / r.seconds(), r.errorCount());
        out.println("op                        calls     failed      p50 us      p90 us      p99 us      max us");
        r.latency().forEach((op, h) -> out.printf(Locale.ROOT, "%-20s %,10d %,10d %11.1f %11.1f %11.1f %11.1f%n", op,
                h.getTotalCount(), h.getTotalCount() - r.count(op, "OK"), h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(90) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0));
        r.errors().forEach((k, v) -> out.printf(Locale.ROOT, "  failed %s: %,d%n", k, v));
        out.println("leak check: " + (r.deviceEmpty() ? "the device holds nothing after the clients left"
                : "NOT EMPTY: " + r.deviceAfter()));
    }

    /** The result as JSON: the totals, per op its calls and percentiles in ns, and the failures by "op ERRNO". */
    public static String json(Result r) {
        StringBuilder b = new StringBuilder("{\"ops\":").append(r.ops()).append(",\"seconds\":")
                .append(String.format(Locale.ROOT, "%.3f", r.seconds())).append(",\"device_empty\":").append(r.deviceEmpty())
                .append(",\"ops_by_type\":{");
        String sep = "";
        for (var e : r.latency().entrySet()) {
            Histogram h = e.getValue();
            b.append(sep).append('"').append(e.getKey()).append("\":{\"count\":").append(h.getTotalCount())
                    .append(",\"p50_ns\":").append(h.getValueAtPercentile(50)).append(",\"p90_ns\":")
                    .append(h.getValueAtPercentile(90)).append(",\"p99_ns\":").append(h.getValueAtPercentile(99))
                    .append(",\"max_ns\":").append(h.getMaxValue()).append('}');
            sep = ",";
        }
        b.append("},\"errors\":{");
        sep = "";
        for (var e : r.errors().entrySet()) {
            b.append(sep).append('"').append(e.getKey()).append("\":").append(e.getValue());
            sep = ",";
        }
        return b.append("}}\n").toString();
    }

}
