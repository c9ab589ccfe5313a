package dev.gemulator.server;

/**
 * What one server lets its clients have: connections (more are refused with
 * a reason), fds per process (EMFILE beyond, like RLIMIT_NOFILE), object
 * memory per device (ENOMEM when a write needs more), requests a connection
 * may have in the simulation at once (more wait unread), GEM objects per
 * device (ENOMEM) and handles per drm file (ENOSPC, as when the kernel's idr
 * runs out).
 */
public record Limits(int maxClients, int maxFdsPerProcess, long deviceMemoryBytes, int maxInFlight,
        int maxObjectsPerDevice, int maxHandlesPerFile) {
    public static final Limits DEFAULT = new Limits(1024, 1024, 4L << 30, 64, 1 << 20, 1 << 20);

    public Limits {
        if (maxClients < 1 || maxFdsPerProcess < 4 || deviceMemoryBytes < 4096 || maxInFlight < 1
                || maxObjectsPerDevice < 1 || maxHandlesPerFile < 1) {
            throw new IllegalArgumentException("limits too small: " + maxClients + " clients, " + maxFdsPerProcess
                    + " fds, " + deviceMemoryBytes + " bytes, " + maxInFlight + " in flight, " + maxObjectsPerDevice
                    + " objects, " + maxHandlesPerFile + " handles");
        }
    }
}
