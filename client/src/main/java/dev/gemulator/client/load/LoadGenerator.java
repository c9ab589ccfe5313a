package dev.gemulator.client.load;

import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DmaBufFd;
import dev.gemulator.client.DrmException;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Gemulator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Handle churn from N client processes with M threads each against a
 * server ({@link LoadCommand} is its command line): a seeded mix of create, export, import, flink, open, close, fd
 * close and fd passing, at a target rate or as fast as it goes, for a
 * duration. Prints a live progress line on a terminal, then a report with
 * HdrHistogram percentiles per op (and a JSON file with --json), then checks
 * that the device holds nothing once the clients are gone.
 */
public final class LoadGenerator {
    /** What to run. */
    public record Config(String host, int port, String token, int processes, int threads, long seed, double rate,
            double seconds, int firstProcess, boolean leakCheck) {
        /** Processes L0 .. L(n-1), and the leak check at the end. */
        public Config(String host, int port, String token, int processes, int threads, long seed, double rate,
                double seconds) {
            this(host, port, token, processes, threads, seed, rate, seconds, 0, true);
        }
    }

    /** What came out: ops and errors per op, latency histograms in ns, and whether the device ended empty. */
    public record Result(Map<String, Histogram> latency, Map<String, Long> errors, long ops, double seconds,
            boolean deviceEmpty, String deviceAfter) {
    }

    private static final String[] OPS = {"create", "create", "create", "export", "import", "flink", "open", "close",
        "close", "fd_close", "send_fd"};

    private LoadGenerator() {
    }

    public static Result run(Config c, boolean progress) throws InterruptedException {
        Map<String, Histogram> latency = new TreeMap<>();
        Map<String, Long> errors = new TreeMap<>();
        AtomicLong ops = new AtomicLong();
        AtomicLong errorCount = new AtomicLong();
        // every op's latency also goes here, read each second for the live p99 of the last second
        org.HdrHistogram.Recorder live = new org.HdrHistogram.Recorder(3);
        AtomicLong lastLoopEnd = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        List<Gemulator> connections = new ArrayList<>();
        List<ClientProcess[]> pairs = new ArrayList<>();
        List<DrmFd> peerFds = new ArrayList<>();
        for (int p = c.firstProcess(); p < c.firstProcess() + c.processes(); p++) {
            Gemulator g = Gemulator.connect(c.host(), c.port(), c.token());
            connections.add(g);
            ClientProcess proc = g.process("L" + p);
            ClientProcess peer = g.process("L" + p + "peer");
            pairs.add(new ClientProcess[] {proc, peer});
            peerFds.add(peer.open("render0"));
        }
        // the duration counts from when every process is connected (a forked JVM takes a while to get there)
        long t0 = System.nanoTime();
        long end = t0 + (long) (c.seconds() * 1e9);
        for (int i = 0; i < pairs.size(); i++) {
            int p = c.firstProcess() + i;
            ClientProcess proc = pairs.get(i)[0];
            ClientProcess peer = pairs.get(i)[1];
            DrmFd peerFd = peerFds.get(i);
            for (int t = 0; t < c.threads(); t++) {
                Random rnd = new Random(c.seed() * 1_000_003 + p * 1009L + t);
                double interval = c.rate() > 0 ? 1e9 * c.processes() * c.threads() / c.rate() : 0;
                workers.add(Thread.ofPlatform().start(() -> {
                    worker(proc, peer, peerFd, rnd, end, interval, latency, errors, ops, errorCount, live);
                    lastLoopEnd.accumulateAndGet(System.nanoTime(), Math::max);
                }));
            }
        }
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
        // the ops ran until the last worker's loop ended; its clean-up after that is no op
        double took = (lastLoopEnd.get() - t0) / 1e9;
        connections.forEach(Gemulator::close);
        // after every process is gone the device must hold nothing
        String[] after = c.leakCheck() ? leakCheck(c.host(), c.port(), c.token()) : new String[] {"", "unchecked"};
        return new Result(latency, errors, ops.get(), took, after[0].equals("empty"), after[1]);
    }

    /**
     * Asks the server's debugfs until the device holds nothing (5 s at most):
     * {"empty", the objects line} or {"", what it still holds}.
     */
    static String[] leakCheck(String host, int port, String token) throws InterruptedException {
        String after = "";
        boolean empty = false;
        var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try (var observer = new dev.gemulator.server.WireClient(group, host, port, "load", token, true)) {
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
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(h.getNeededByteBufferCapacity());
            int n = h.encodeIntoCompressedByteBuffer(buf);
            out.add("latency " + op + " " + java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n)));
        });
        r.errors().forEach((k, v) -> out.add("error " + v + " " + k));
        return out;
    }

    /** Adds the results written by {@link #toLines} into one. */
    static Result merge(List<List<String>> parts, boolean deviceEmpty, String deviceAfter) throws java.util.zip.DataFormatException {
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
                            .decodeFromCompressedByteBuffer(java.nio.ByteBuffer.wrap(java.util.Base64.getDecoder()
                                    .decode(f[2])), 0));
                    case "error" -> errors.merge(f[2], Long.parseLong(f[1]), Long::sum);
                    default -> throw new IllegalArgumentException("not a line of a load result: " + l);
                }
            }
        }
        return new Result(latency, errors, ops, seconds, deviceEmpty, deviceAfter);
    }

    private static void worker(ClientProcess proc, ClientProcess peer, DrmFd peerFd, Random rnd, long end,
            double interval, Map<String, Histogram> latency, Map<String, Long> errors, AtomicLong ops,
            AtomicLong errorCount, org.HdrHistogram.Recorder live) {
        DrmFd fd = proc.open("card0");
        List<Integer> handles = new ArrayList<>();
        List<DmaBufFd> dmabufs = new ArrayList<>();
        List<Integer> names = new ArrayList<>();
        Map<String, Histogram> mine = new TreeMap<>();
        Map<String, Long> myErrors = new TreeMap<>();
        long next = System.nanoTime();
        while (System.nanoTime() < end) {
            if (interval > 0) {
                next += (long) interval;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
            }
            String op = OPS[rnd.nextInt(OPS.length)];
            long t = System.nanoTime();
            try {
                switch (op) {
                    case "create" -> handles.add(fd.createDumb(1 + rnd.nextInt(256), 1 + rnd.nextInt(256), 32).handle());
                    case "export" -> {
                        if (!handles.isEmpty()) {
                            dmabufs.add(fd.primeHandleToFd(handles.get(rnd.nextInt(handles.size())), DrmFd.RDWR));
                        }
                    }
                    case "import" -> {
                        if (!dmabufs.isEmpty()) {
                            handles.add(fd.primeFdToHandle(dmabufs.get(rnd.nextInt(dmabufs.size()))));
                        }
                    }
                    case "flink" -> {
                        if (!handles.isEmpty()) {
                            names.add(fd.flink(handles.get(rnd.nextInt(handles.size()))));
                        }
                    }
                    case "open" -> {
                        if (!names.isEmpty()) {
                            handles.add(fd.gemOpen(names.remove(rnd.nextInt(names.size()))).handle());
                        }
                    }
                    case "close" -> {
                        if (!handles.isEmpty()) {
                            fd.gemClose(handles.remove(rnd.nextInt(handles.size())));
                        }
                    }
                    case "fd_close" -> {
                        if (!dmabufs.isEmpty()) {
                            dmabufs.remove(rnd.nextInt(dmabufs.size())).close();
                        }
                    }
                    default -> {
                        if (!dmabufs.isEmpty()) {
                            DmaBufFd passed = proc.sendFd(dmabufs.get(rnd.nextInt(dmabufs.size())), peer);
                            peerFd.gemClose(peerFd.primeFdToHandle(passed));
                            passed.close();
                        }
                    }
                }
            } catch (DrmException e) {
                // a handle closed twice (imports of one dma-buf share a handle) or a name gone: counted, not fatal
                myErrors.merge(op + " " + e.errno().name(), 1L, Long::sum);
                errorCount.incrementAndGet();
            }
            long nanos = Math.max(1, System.nanoTime() - t);
            mine.computeIfAbsent(op, k -> new Histogram(3)).recordValue(nanos);
            live.recordValue(nanos);
            ops.incrementAndGet();
        }
        for (int h : handles) {
            try {
                fd.gemClose(h);
            } catch (DrmException e) {
                // shared by two imports: closed already
            }
        }
        dmabufs.forEach(DmaBufFd::close);
        fd.close();
        synchronized (latency) {
            mine.forEach((op, h) -> latency.computeIfAbsent(op, k -> new Histogram(3)).add(h));
            myErrors.forEach((k, v) -> errors.merge(k, v, Long::sum));
        }
    }

    public static void report(Result r, java.io.PrintStream out) {
        out.printf(Locale.ROOT, "gemulator load: %,d ops in %.1f s = %.0f ops/s, %,d errors%n", r.ops(), r.seconds(),
                r.ops() / r.seconds(), r.errors().values().stream().mapToLong(Long::longValue).sum());
        out.println("op            count      p50 us      p90 us      p99 us      max us");
        r.latency().forEach((op, h) -> out.printf(Locale.ROOT, "%-10s %,8d %11.1f %11.1f %11.1f %11.1f%n", op,
                h.getTotalCount(), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0));
        r.errors().forEach((k, v) -> out.printf(Locale.ROOT, "  error %s: %,d%n", k, v));
        out.println("leak check: " + (r.deviceEmpty() ? "the device holds nothing after the clients left"
                : "NOT EMPTY: " + r.deviceAfter()));
    }

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
