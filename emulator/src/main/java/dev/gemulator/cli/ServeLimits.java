package dev.gemulator.cli;

import dev.gemulator.server.Limits;
import dev.gemulator.server.MemoryPlan;
import dev.gemulator.transport.GemulatorServer;
import java.util.Locale;
import java.util.function.BiFunction;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * The limits of {@code gemulator serve} (a picocli mixin of its options):
 * what one client may make the server hold, parsed into {@link Limits} and
 * checked against the heap ({@link MemoryPlan}) before the server starts.
 */
final class ServeLimits {
    /** The default device memory when the heap holds it beside the other limits. */
    private static final long AUTO_DEVICE_MEMORY = 4L << 30;
    /** The least device memory "auto" settles for. */
    private static final long LEAST_DEVICE_MEMORY = 64L << 20;

    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    @Option(names = "--max-frame", defaultValue = "" + GemulatorServer.DEFAULT_MAX_FRAME_BYTES,
            description = "largest frame accepted, in bytes (default: ${DEFAULT-VALUE})")
    int maxFrame;

    @Option(names = "--inbox", defaultValue = "4096", description = "requests queued before connections stop being read (default: ${DEFAULT-VALUE})")
    int inbox;

    @Option(names = "--max-clients", defaultValue = "1024",
            description = "connections at once; more are refused with a reason (default: ${DEFAULT-VALUE})")
    int maxClients;

    @Option(names = "--max-fds", defaultValue = "1024",
            description = "RLIMIT_NOFILE of every process: EMFILE beyond (default: ${DEFAULT-VALUE})")
    int maxFds;

    @Option(names = "--device-memory", defaultValue = "auto", paramLabel = "BYTES",
            description = {"object memory per device, pages and their indexes (suffix K, M, G): a write that needs more",
                "fails with ENOMEM (default: ${DEFAULT-VALUE}: 4G, or what the heap holds beside the other limits)"})
    String deviceMemory;

    @Option(names = "--max-in-flight", defaultValue = "64",
            description = "requests and questions of one connection in the simulation at once; the rest wait unread (default: ${DEFAULT-VALUE})")
    int maxInFlight;

    @Option(names = "--max-in-flight-bytes", defaultValue = "" + (2 << 20),
            description = "bytes one connection has in flight, what reads and debugfs answer included (default: ${DEFAULT-VALUE})")
    long maxInFlightBytes;

    @Option(names = "--max-threads-per-process", defaultValue = "256",
            description = "threads of one process; more get EAGAIN (default: ${DEFAULT-VALUE})")
    int maxThreadsPerProcess;

    @Option(names = "--max-threads", defaultValue = "8192",
            description = "threads of all processes together; more get EAGAIN (default: ${DEFAULT-VALUE})")
    int maxThreads;

    @Option(names = "--max-files", defaultValue = "65536",
            description = "open files of the machine; open, export and sync_file export beyond get ENFILE (default: ${DEFAULT-VALUE})")
    int maxFiles;

    @Option(names = "--max-id-slots", defaultValue = "8388608",
            description = "slots of all handle and fence-id tables together; beyond, ENOSPC (default: ${DEFAULT-VALUE})")
    long maxIdSlots;

    @Option(names = "--max-fences-per-object", defaultValue = "4096",
            description = "fences one object's reservation holds; an attach beyond gets ENOMEM (default: ${DEFAULT-VALUE})")
    int maxFencesPerObject;

    @Option(names = "--max-fence-ids-per-file", defaultValue = "1048576",
            description = "fence ids one drm file hands out in its life; beyond, ENOSPC (default: ${DEFAULT-VALUE})")
    int maxFenceIdsPerFile;

    @Option(names = "--max-fences", defaultValue = "262144",
            description = "live fences of the machine; beyond, ENOMEM (default: ${DEFAULT-VALUE})")
    int maxFences;

    @Option(names = "--max-maps-per-process", defaultValue = "65530",
            description = "mappings of one process (vm.max_map_count); beyond, ENOMEM (default: ${DEFAULT-VALUE})")
    int maxMapsPerProcess;

    @Option(names = "--max-maps", defaultValue = "262144",
            description = "mappings of all processes together; beyond, ENOMEM (default: ${DEFAULT-VALUE})")
    int maxMaps;

    @Option(names = "--hello-timeout-ms", defaultValue = "10000",
            description = "a connection must say Hello within this long, else it is refused (default: ${DEFAULT-VALUE})")
    long helloTimeoutMillis;

    @Option(names = "--hello-idle-ms", defaultValue = "5000",
            description = "a connection that has not said Hello may be silent this long (default: ${DEFAULT-VALUE})")
    long helloIdleMillis;

    @Option(names = "--memory-plan", description = "print what the limits let clients make the server hold at worst, and stop")
    boolean memoryPlan;

    @Option(names = "--max-objects", defaultValue = "1048576",
            description = "GEM objects per device; creating more fails with ENOMEM (default: ${DEFAULT-VALUE})")
    int maxObjects;

    @Option(names = "--max-handles", defaultValue = "1048576",
            description = "handles per drm file; more fail with ENOSPC (default: ${DEFAULT-VALUE})")
    int maxHandles;

    /** The limit options' numbers are in range, or a usage error says which is not. */
    void check() {
        UserError.check(maxFrame >= 1024, "--max-frame wants at least 1024 bytes, not " + maxFrame);
        UserError.check(inbox >= 1, "--inbox wants at least 1, not " + inbox);
        UserError.check(maxClients >= 1, "--max-clients wants at least 1, not " + maxClients);
        UserError.check(maxFds >= 3, "--max-fds wants at least 3 (0, 1 and 2 are taken), not " + maxFds);
        UserError.check(maxInFlight >= 1, "--max-in-flight wants at least 1, not " + maxInFlight);
        UserError.check(maxObjects >= 0, "--max-objects wants 0 or more, not " + maxObjects);
        UserError.check(maxHandles >= 0, "--max-handles wants 0 or more, not " + maxHandles);
    }

    /** The limits as given (--device-memory auto: 4G, before {@link #planned}). */
    Limits parse() {
        String m = deviceMemory.trim().toUpperCase(Locale.ROOT);
        long bytes;
        if (m.equals("AUTO")) {
            bytes = AUTO_DEVICE_MEMORY;
        } else {
            long unit = m.endsWith("K") ? 1L << 10 : m.endsWith("M") ? 1L << 20 : m.endsWith("G") ? 1L << 30 : 1;
            bytes = Math.multiplyExact(Long.parseLong(unit == 1 ? m : m.substring(0, m.length() - 1)), unit);
        }
        return new Limits(maxClients, maxFds, bytes, maxInFlight, maxObjects, maxHandles,
                maxThreadsPerProcess, maxThreads, maxFiles, maxIdSlots, maxFencesPerObject, maxFenceIdsPerFile,
                maxFences, maxMapsPerProcess, maxMaps, maxInFlightBytes, helloTimeoutMillis, helloIdleMillis);
    }

    /**
     * The limits checked against the heap (memory bounded by construction):
     * with --device-memory auto the device gets what fits beside the rest (at
     * most 4G); limits that do not fit the heap refuse to start, with the plan
     * and what to lower. Null (having said why) when they do not fit.
     */
    Limits planned(Limits limits) {
        long heap = Runtime.getRuntime().maxMemory();
        boolean auto = deviceMemory.trim().equalsIgnoreCase("auto");
        var plan = MemoryPlan.of(limits, maxFrame, heap);
        if (auto) { // the device gets what fits beside the rest, at most 4G; on a small heap the rest shrinks first
            if (plan.deviceMemoryThatFits() < LEAST_DEVICE_MEMORY) {
                limits = scaledToFit(limits.withDeviceMemoryBytes(LEAST_DEVICE_MEMORY), heap);
                plan = MemoryPlan.of(limits, maxFrame, heap);
            }
            long fits = plan.deviceMemoryThatFits();
            if (fits >= LEAST_DEVICE_MEMORY) {
                limits = limits.withDeviceMemoryBytes(Math.min(AUTO_DEVICE_MEMORY, fits));
                plan = MemoryPlan.of(limits, maxFrame, heap);
            }
        }
        if (memoryPlan) {
            System.out.print(plan.describe());
            return plan.fits() ? limits : null;
        }
        if (!plan.fits()) {
            System.err.println("gemulator: these limits let clients make the server hold more than its heap at worst:");
            System.err.print(plan.describe());
            System.err.println("gemulator: lower the biggest of them (the options named), or give the JVM more heap (-Xmx)");
            return null;
        }
        return limits;
    }

    /**
     * A small heap with every limit at its default: the limits of kernel
     * objects not given on the command line (objects, files, id slots,
     * fences, mappings) shrink by one factor until the plan fits beside the
     * least device memory, and the serve command says so.
     */
    private Limits scaledToFit(Limits l, long heap) {
        ParseResult parsed = spec.commandLine().getParseResult();
        for (double f = 0.5; f > 1e-3; f /= 2) {
            double k = f;
            BiFunction<String, Long, Long> scale = (option, value) ->
                    parsed.hasMatchedOption(option) ? value : Math.max(64, (long) (value * k));
            var scaled = new Limits(l.maxClients(), l.maxFdsPerProcess(), l.deviceMemoryBytes(),
                    l.maxInFlight(), scale.apply("--max-objects", (long) l.maxObjectsPerDevice()).intValue(),
                    l.maxHandlesPerFile(), l.maxThreadsPerProcess(), l.maxThreads(),
                    scale.apply("--max-files", (long) l.maxFiles()).intValue(),
                    scale.apply("--max-id-slots", l.maxIdSlots()), l.maxFenceSlotsPerObject(), l.maxFenceIdsPerFile(),
                    scale.apply("--max-fences", (long) l.maxFences()).intValue(), l.maxMapsPerProcess(),
                    scale.apply("--max-maps", (long) l.maxMaps()).intValue(), l.maxInFlightBytes(),
                    l.helloTimeoutMillis(), l.helloIdleMillis());
            if (MemoryPlan.of(scaled, maxFrame, heap).fits()) {
                System.err.printf(Locale.ROOT, "gemulator: a heap of %d MiB holds the default limits only with"
                        + " less of everything: --max-objects %d, --max-files %d, --max-id-slots %d, --max-fences %d,"
                        + " --max-maps %d (give the JVM more heap with -Xmx for more)%n", heap >> 20,
                        scaled.maxObjectsPerDevice(), scaled.maxFiles(), scaled.maxIdSlots(), scaled.maxFences(),
                        scaled.maxMaps());
                return scaled;
            }
        }
        return l;
    }
}
