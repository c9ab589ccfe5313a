package dev.gemulator.kernel;

import java.util.List;

/**
 * A kernel version as the model sees it: the value of every switch point of
 * spec/kernel-model.md §7 at which kernel versions behave differently. The
 * model reads these flags at exactly those places, so two profiles differ in
 * the lines they select and nowhere else.
 *
 * <p>Only the modern profile is implemented so far; the 2013 profiles (v3.11,
 * seed, seed-typofix, 3.12) come with the seeded scheduler.
 */
public record Profile(
        String name,
        String description,
        HandleCount handleCount,             // F1
        HandlePublication handlePublication, // F2
        HandleDelete handleDelete,           // F3
        boolean flinkChecksHandleCount,      // F4
        boolean nameOwnsObjectRef,           // F5
        boolean gemOpenAtomic,               // F6
        boolean gemOpenSizeUnderRef,         // F7
        LinkKind linkKind,                   // F8
        boolean linkUnderNameLock,           // F9
        boolean exportRechecksHandleCount,   // F10
        boolean importRelinks,               // F11
        boolean cacheFilledOnEveryExport,    // F12
        boolean exportHoldsPrimeLock,        // F13
        boolean exportLooksUpCacheByHandle,  // F14
        ExportErrorPaths exportErrorPaths,   // F15
        boolean importOutUnlockRelocks,      // F16
        boolean importFailUnlocksFirst,      // F17
        CacheRemoval cacheRemoval,           // F18
        boolean cacheDestructorFrees,        // F19
        boolean selfImportFirst,             // F20
        boolean oneObjectRefForAllHandles,   // F21
        Permissions permissions,             // F22
        boolean deferredFput) {              // F23

    public enum HandleCount { ATOMIC_UNLOCKED, UNDER_NAME_LOCK }
    public enum HandlePublication { BEFORE_COUNT, WITH_COUNT, RESERVE_THEN_PUBLISH }
    public enum HandleDelete { UNPUBLISH_FIRST, RESERVE_RELEASE_FREE }
    public enum LinkKind { WEAK, STRONG }
    public enum ExportErrorPaths { V3_11, SEED, BALANCED }
    public enum CacheRemoval { BY_BUF, BY_LINK, BY_HANDLE }
    public enum Permissions { NO_RENDER_NODES, V4_14, V6 }

    /** Linux 6.x (the real kernel of the conformance recordings is 6.1): spec §7 "P-6.x". */
    public static final Profile MODERN = new Profile(
            "6.x", "Linux 6.x: the default, what ../shared/conformance was recorded on",
            HandleCount.UNDER_NAME_LOCK,
            HandlePublication.RESERVE_THEN_PUBLISH,
            HandleDelete.RESERVE_RELEASE_FREE,
            true, false, true, true,
            LinkKind.STRONG, true, true, true, true, true, true,
            ExportErrorPaths.BALANCED, false, true,
            CacheRemoval.BY_HANDLE, false, true, true,
            Permissions.V6, true);

    public static final List<Profile> ALL = List.of(MODERN);

    /** The profile with this name ("6.x"), or null. */
    public static Profile byName(String name) {
        for (Profile p : ALL) {
            if (p.name.equals(name)) {
                return p;
            }
        }
        return null;
    }
}
