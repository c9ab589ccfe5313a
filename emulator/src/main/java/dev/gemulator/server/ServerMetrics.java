package dev.gemulator.server;

import com.sun.net.httpserver.HttpServer;
import dev.gemulator.check.Report;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.drm.DrmFile;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's metrics, scraped in Prometheus text from its own loopback
 * HTTP port: ioctls by op and errno, ioctl latency with percentiles, live
 * objects, handles, dma-bufs, names and bytes per device, scheduler
 * decisions, runs and reports by kind. Tags name ops, errnos, devices,
 * kinds and modes, never a handle, fd, name or client. Updated from the
 * simulation thread only; the device gauges read values it copies there
 * when a scrape asks (or a lockstep iteration ends).
 */
public final class ServerMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> ioctls = new HashMap<>();
    private final Map<String, Timer> latency = new HashMap<>();
    private final Map<String, Counter> reports = new HashMap<>();
    private final Map<String, Counter> runs = new HashMap<>();
    private final Counter decisions = Counter.builder("gemulator.scheduler.decisions")
            .description("choices the scheduler made between runnable threads").register(registry);
    private final Map<Integer, AtomicLong[]> devices = new HashMap<>();
    private HttpServer http;

    /**
     * Every report kind and run mode is counted from the start, at 0, so a
     * scrape of a server that found nothing says so instead of showing no
     * series at all.
     */
    public ServerMetrics() {
        for (Report.Kind k : Report.Kind.values()) {
            if (k != Report.Kind.EXPECTATION) {
                reportCounter(k.label());
            }
        }
        runCounter("lockstep");
    }

    private Counter reportCounter(String kind) {
        return reports.computeIfAbsent(kind, k -> Counter.builder("gemulator.reports").tag("kind", kind)
                .description("findings of the checkers, by kind").register(registry));
    }

    private Counter runCounter(String mode) {
        return runs.computeIfAbsent(mode, k -> Counter.builder("gemulator.runs").tag("mode", mode)
                .description("scenario runs finished").register(registry));
    }

    /** One request ran: its op ("create_dumb"), errno name ("OK", "EBADF") and how long it took. */
    public void ioctl(String op, String errno, long nanos) {
        ioctls.computeIfAbsent(op + " " + errno, k -> Counter.builder("gemulator.ioctls").tag("op", op).tag("errno", errno)
                .description("system calls and ioctls run, by op and result").register(registry)).increment();
        latency.computeIfAbsent(op, k -> Timer.builder("gemulator.ioctl.latency").tag("op", op)
                .description("time to run one request in the simulation").publishPercentiles(0.5, 0.9, 0.99)
                .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A checker reported a finding of this kind ("use-after-free"). */
    public void report(String kind) {
        reportCounter(kind).increment();
    }

    /** A run (a lockstep iteration) finished with {@code decisions} scheduler decisions. */
    public void run(String mode, long decisionsMade) {
        runCounter(mode).increment();
        decisions.increment(decisionsMade);
    }

    /** Copies the devices' object counts for the gauges (call from the thread that owns the kernel). */
    public void devices(Kernel kernel) {
        for (DrmDevice d : kernel.devices()) {
            AtomicLong[] v = devices.computeIfAbsent(d.index(), i -> gauges(String.valueOf(i)));
            long handles = 0;
            for (DrmFile f : d.files()) {
                handles += f.objectIdr().size();
            }
            v[0].set(d.liveObjects().count());
            v[1].set(handles);
            v[2].set(kernel.dmaBufs().size());
            v[3].set(d.objectNameIdr().size());
            v[4].set(d.liveObjects().bytes());
            v[5].set(d.residentBytes());
        }
    }

    private AtomicLong[] gauges(String device) {
        String[][] names = {{"gemulator.device.objects", "live GEM objects"}, {"gemulator.device.handles", "handles in all files"},
            {"gemulator.device.dmabufs", "live dma-bufs (of the whole kernel)"}, {"gemulator.device.names", "flink names"},
            {"gemulator.device.object.bytes", "bytes of live objects"},
            {"gemulator.device.resident.bytes", "bytes of object pages written at least once"}};
        AtomicLong[] v = new AtomicLong[names.length];
        for (int i = 0; i < names.length; i++) {
            v[i] = new AtomicLong();
            Gauge.builder(names[i][0], v[i], AtomicLong::get).tag("device", device).description(names[i][1])
                    .register(registry);
        }
        return v;
    }

    private volatile Runnable beforeScrape = () -> { };

    /** Runs {@code refresh} before every scrape (it copies the device counts from the thread that owns them). */
    public void beforeScrape(Runnable refresh) {
        this.beforeScrape = refresh;
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        beforeScrape.run();
        return registry.scrape();
    }

    /** Serves {@code /metrics} on 127.0.0.1:{@code port} (0: any free port); returns the port. */
    public int serve(int port) throws IOException {
        return serve("127.0.0.1", port);
    }

    /** Serves {@code /metrics} on {@code bind}:{@code port} (0: any free port); returns the port. */
    public int serve(String bind, int port) throws IOException {
        http = HttpServer.create(new InetSocketAddress(bind, port), 16);
        http.createContext("/metrics", exchange -> {
            byte[] body = scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        if (http != null) {
            http.stop(0);
        }
        registry.close();
    }
}
