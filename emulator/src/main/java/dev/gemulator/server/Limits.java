package dev.gemulator.server;

import java.util.regex.Pattern;

/**
 * What one server lets its clients have: a limit on every quantity a client
 * controls, each answered the way the kernel answers running out of it (an
 * errno) or, for what the kernel has no call for, by refusing the
 * connection with a reason. {@link MemoryPlan} adds up what they allow at
 * worst and checks it against the heap before the server starts.
 *
 * <ul>
 * <li>{@code maxClients}: connections at once, those that have not said
 * Hello yet included; more are refused with a reason.
 * <li>{@code maxFdsPerProcess}: RLIMIT_NOFILE of every process (EMFILE).
 * <li>{@code deviceMemoryBytes}: object pages and their indexes per device
 * (ENOMEM when a write needs more).
 * <li>{@code maxInFlight}: requests of one connection in the simulation at
 * once, system calls and questions (status, debugfs, trace) alike; the rest
 * wait unread. {@code maxInFlightBytes}: the same in bytes (request frames,
 * and what a read asks back); one request always gets through.
 * <li>{@code maxObjectsPerDevice}: GEM objects (ENOMEM);
 * {@code maxHandlesPerFile}: handles of one drm file (ENOSPC, as when its
 * idr runs out); {@code maxIdSlots}: what the handle and fence-id tables of
 * all files together may grow to (ENOSPC).
 * <li>{@code maxThreadsPerProcess}, {@code maxThreads}: threads of one
 * process and of the machine (EAGAIN, as clone at RLIMIT_NPROC or
 * threads-max); a thread's name has at most {@link #MAX_NAME_CHARS}
 * characters and no control or invisible ones (else the connection is
 * refused with a reason).
 * <li>{@code maxFiles}: open files of the machine (ENFILE, as at
 * fs.file-max), for the calls that make one (open, export, sync_file,
 * channel).
 * <li>{@code maxFenceSlotsPerObject}: fences one object's reservation holds
 * (ENOMEM, as dma_resv_reserve_fences); {@code maxFenceIdsPerFile}: fence ids
 * one file hands out in its life (ENOSPC, as its idr);
 * {@code maxFences}: live fences of the machine (ENOMEM, as kmalloc).
 * <li>{@code maxMapsPerProcess}, {@code maxMaps}: mappings of one process
 * (ENOMEM, as at vm.max_map_count) and of the machine (ENOMEM).
 * <li>{@code helloTimeoutMillis}: a connection must say Hello within this
 * long, and {@code helloIdleMillis}: must not stay silent this long before
 * it does; else it is refused and closed. Before Hello a frame may have at
 * most {@link #HELLO_FRAME_BYTES}.
 * </ul>
 */
public record Limits(int maxClients, int maxFdsPerProcess, long deviceMemoryBytes, int maxInFlight,
        int maxObjectsPerDevice, int maxHandlesPerFile, int maxThreadsPerProcess, int maxThreads, int maxFiles,
        long maxIdSlots, int maxFenceSlotsPerObject, int maxFenceIdsPerFile, int maxFences, int maxMapsPerProcess,
        int maxMaps, long maxInFlightBytes, long helloTimeoutMillis, long helloIdleMillis) {

    /** The longest thread name, in characters. */
    public static final int MAX_NAME_CHARS = 64;
    /** The largest frame before Hello (a Hello is a few hundred bytes). */
    public static final int HELLO_FRAME_BYTES = 4096;
    /** What a process may be called (a Hello's name, a socketpair peer's). */
    public static final Pattern PROCESS_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");
    /** The most bytes of requests the simulation's inbox holds (one bigger request fits alone). */
    public static final long INBOX_BYTES = 64L << 20;
    /** The most debugfs text one answer carries (the rest is cut, and the answer says so). */
    public static final int MAX_DEBUGFS_BYTES = 1 << 20;

    public static final Limits DEFAULT = new Limits(1024, 1024, 4L << 30, 64, 1 << 20, 1 << 20, 256, 8192, 1 << 16,
            1L << 23, 4096, 1 << 20, 1 << 18, 65530, 1 << 18, 4L << 20, 10_000, 5_000);

    public Limits {
        if (maxClients < 1 || maxFdsPerProcess < 4 || deviceMemoryBytes < 4096 || maxInFlight < 1
                || maxObjectsPerDevice < 1 || maxHandlesPerFile < 1 || maxThreadsPerProcess < 1 || maxThreads < 1
                || maxFiles < 4 || maxIdSlots < 0 || maxFenceSlotsPerObject < 1 || maxFenceIdsPerFile < 1
                || maxFences < 1 || maxMapsPerProcess < 1 || maxMaps < 1 || maxInFlightBytes < 1
                || helloTimeoutMillis < 1 || helloIdleMillis < 1) {
            throw new IllegalArgumentException("limits too small: " + maxClients + " clients, " + maxFdsPerProcess
                    + " fds, " + deviceMemoryBytes + " bytes, " + maxInFlight + " in flight, " + maxObjectsPerDevice
                    + " objects, " + maxHandlesPerFile + " handles, " + maxThreadsPerProcess + " threads per process, "
                    + maxThreads + " threads, " + maxFiles + " files, " + maxIdSlots + " id slots, "
                    + maxFenceSlotsPerObject + " fences per object, " + maxFenceIdsPerFile + " fence ids per file, "
                    + maxFences + " fences, " + maxMapsPerProcess + " maps per process, " + maxMaps + " maps, "
                    + maxInFlightBytes + " bytes in flight, " + helloTimeoutMillis + " ms to Hello, "
                    + helloIdleMillis + " ms idle before Hello");
        }
    }

    /** The first six limits; every other one as {@link #DEFAULT} has it. */
    public Limits(int maxClients, int maxFdsPerProcess, long deviceMemoryBytes, int maxInFlight,
            int maxObjectsPerDevice, int maxHandlesPerFile) {
        this(maxClients, maxFdsPerProcess, deviceMemoryBytes, maxInFlight, maxObjectsPerDevice, maxHandlesPerFile,
                DEFAULT.maxThreadsPerProcess, DEFAULT.maxThreads, DEFAULT.maxFiles, DEFAULT.maxIdSlots,
                DEFAULT.maxFenceSlotsPerObject, DEFAULT.maxFenceIdsPerFile, DEFAULT.maxFences,
                DEFAULT.maxMapsPerProcess, DEFAULT.maxMaps, DEFAULT.maxInFlightBytes, DEFAULT.helloTimeoutMillis,
                DEFAULT.helloIdleMillis);
    }

    public Limits withDeviceMemoryBytes(long bytes) {
        return new Limits(maxClients, maxFdsPerProcess, bytes, maxInFlight, maxObjectsPerDevice, maxHandlesPerFile,
                maxThreadsPerProcess, maxThreads, maxFiles, maxIdSlots, maxFenceSlotsPerObject, maxFenceIdsPerFile,
                maxFences, maxMapsPerProcess, maxMaps, maxInFlightBytes, helloTimeoutMillis, helloIdleMillis);
    }

    public Limits withThreads(int perProcess, int total) {
        return new Limits(maxClients, maxFdsPerProcess, deviceMemoryBytes, maxInFlight, maxObjectsPerDevice,
                maxHandlesPerFile, perProcess, total, maxFiles, maxIdSlots, maxFenceSlotsPerObject, maxFenceIdsPerFile,
                maxFences, maxMapsPerProcess, maxMaps, maxInFlightBytes, helloTimeoutMillis, helloIdleMillis);
    }

    public Limits withFiles(int files, long idSlots) {
        return new Limits(maxClients, maxFdsPerProcess, deviceMemoryBytes, maxInFlight, maxObjectsPerDevice,
                maxHandlesPerFile, maxThreadsPerProcess, maxThreads, files, idSlots, maxFenceSlotsPerObject,
                maxFenceIdsPerFile, maxFences, maxMapsPerProcess, maxMaps, maxInFlightBytes, helloTimeoutMillis,
                helloIdleMillis);
    }

    public Limits withFences(int slotsPerObject, int idsPerFile, int total) {
        return new Limits(maxClients, maxFdsPerProcess, deviceMemoryBytes, maxInFlight, maxObjectsPerDevice,
                maxHandlesPerFile, maxThreadsPerProcess, maxThreads, maxFiles, maxIdSlots, slotsPerObject, idsPerFile,
                total, maxMapsPerProcess, maxMaps, maxInFlightBytes, helloTimeoutMillis, helloIdleMillis);
    }

    public Limits withMaps(int perProcess, int total) {
        return new Limits(maxClients, maxFdsPerProcess, deviceMemoryBytes, maxInFlight, maxObjectsPerDevice,
                maxHandlesPerFile, maxThreadsPerProcess, maxThreads, maxFiles, maxIdSlots, maxFenceSlotsPerObject,
                maxFenceIdsPerFile, maxFences, perProcess, total, maxInFlightBytes, helloTimeoutMillis, helloIdleMillis);
    }

    public Limits withInFlightBytes(long bytes) {
        return new Limits(maxClients, maxFdsPerProcess, deviceMemoryBytes, maxInFlight, maxObjectsPerDevice,
                maxHandlesPerFile, maxThreadsPerProcess, maxThreads, maxFiles, maxIdSlots, maxFenceSlotsPerObject,
                maxFenceIdsPerFile, maxFences, maxMapsPerProcess, maxMaps, bytes, helloTimeoutMillis, helloIdleMillis);
    }

    public Limits withHelloTimeouts(long timeoutMillis, long idleMillis) {
        return new Limits(maxClients, maxFdsPerProcess, deviceMemoryBytes, maxInFlight, maxObjectsPerDevice,
                maxHandlesPerFile, maxThreadsPerProcess, maxThreads, maxFiles, maxIdSlots, maxFenceSlotsPerObject,
                maxFenceIdsPerFile, maxFences, maxMapsPerProcess, maxMaps, maxInFlightBytes, timeoutMillis, idleMillis);
    }
}
