package dev.gemulator.kernel;

import java.util.List;

/**
 * A kernel version as the model sees it: the value of every switch point of
 * spec/kernel-model.md §7 at which kernel versions behave differently. The
 * model reads these flags at exactly those places, so two profiles differ in
 * the lines they select and nowhere else.
 *
 * <p>The profiles: {@link #MODERN} (Linux 6.x, the default), {@link #V3_11}
 * (before the 2013 series), {@link #SEED} (the seed commit as merged),
 * {@link #SEED_TYPOFIX} and {@link #V3_12} (after the series).
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
        boolean deferredFput,                // F23
        CacheIndex cacheIndex,               // the cache's structure: a list (3.x) or rb-trees (4.11+)
        NameLock nameLock) {                 // object_name_lock: a spinlock (3.10/3.11) or a mutex

    public enum HandleCount { ATOMIC_UNLOCKED, UNDER_NAME_LOCK }
    public enum HandlePublication { BEFORE_COUNT, WITH_COUNT, RESERVE_THEN_PUBLISH }
    public enum HandleDelete { UNPUBLISH_FIRST, RESERVE_RELEASE_FREE }
    public enum LinkKind { WEAK, STRONG }
    public enum ExportErrorPaths { V3_11, SEED, BALANCED }
    public enum CacheRemoval { BY_BUF, BY_LINK, BY_HANDLE }
    public enum Permissions { NO_RENDER_NODES, V4_14, V6 }
    public enum CacheIndex { LIST, RB_TREE }
    public enum NameLock { SPINLOCK, MUTEX }

    /** Linux 6.x (the real kernel of the conformance recordings is 6.1): spec §7 "P-6.x". */
    public static final Profile MODERN = new Profile(
            "6.x", "Linux 6.x: the default, what ../shared/conformance was recorded on",
            HandleCount.UNDER_NAME_LOCK,            // F1
            HandlePublication.RESERVE_THEN_PUBLISH, // F2
            HandleDelete.RESERVE_RELEASE_FREE,      // F3
            true,                                   // F4 flink refuses an object without handles
            false,                                  // F5 names own no reference
            true,                                   // F6 gem_open is one critical section
            true,                                   // F7 the size is read under the reference
            LinkKind.STRONG,                        // F8
            true,                                   // F9
            true,                                   // F10
            true,                                   // F11
            true,                                   // F12
            true,                                   // F13
            true,                                   // F14
            ExportErrorPaths.BALANCED,              // F15
            false,                                  // F16
            true,                                   // F17
            CacheRemoval.BY_HANDLE,                 // F18
            false,                                  // F19 the destructor only WARNs
            true,                                   // F20
            true,                                   // F21
            Permissions.V6,                         // F22
            true,                                   // F23
            CacheIndex.RB_TREE,
            NameLock.MUTEX);

    /**
     * Linux 3.10/3.11, before the 2013 series (spec §1 and §7 "P-3.11"): an
     * atomic handle count outside any lock, handles published before they
     * are counted, a weak dma-buf link cleared by the dma-buf's release and
     * serialized only by the exporting file's prime lock, a list cache
     * removed by dma-buf and freed without puts at close, and names that
     * own an object reference. No render nodes.
     */
    public static final Profile V3_11 = new Profile(
            "v3.11", "Linux 3.11, before \"drm/prime: proper locking+refcounting for obj->dma_buf link\"",
            HandleCount.ATOMIC_UNLOCKED,            // F1
            HandlePublication.BEFORE_COUNT,         // F2
            HandleDelete.UNPUBLISH_FIRST,           // F3
            false,                                  // F4 flink does not look at the handle count
            true,                                   // F5 a name owns an object reference
            false,                                  // F6 gem_open: name lookup and handle creation apart
            false,                                  // F7 the size is read after the reference is gone
            LinkKind.WEAK,                          // F8
            false,                                  // F9 only the file's prime lock
            false,                                  // F10
            false,                                  // F11
            false,                                  // F12 the cache is filled on a fresh export only
            false,                                  // F13
            false,                                  // F14
            ExportErrorPaths.V3_11,                 // F15
            false,                                  // F16 (no name lock in import)
            false,                                  // F17
            CacheRemoval.BY_BUF,                    // F18
            true,                                   // F19 the destructor frees members without puts
            false,                                  // F20
            false,                                  // F21 one object reference per handle
            Permissions.NO_RENDER_NODES,            // F22
            true,                                   // F23
            CacheIndex.LIST,
            NameLock.SPINLOCK);

    /**
     * The seed commit 319c933c exactly as merged (spec §2, §7 "P-seed"): the
     * link owns a dma-buf reference and every access to it is under
     * object_name_lock, but HANDLE_TO_FD caches the member after dropping
     * that lock (S-L1, S-L2), only on a fresh export (S-dup), its error
     * paths drop a reference the dma-buf owns, and FD_TO_HANDLE's out_unlock
     * takes object_name_lock again instead of releasing it.
     */
    public static final Profile SEED = new Profile(
            "seed", "Linux at 319c933c \"drm/prime: proper locking+refcounting for obj->dma_buf link\" (2013)",
            HandleCount.UNDER_NAME_LOCK,            // F1
            HandlePublication.WITH_COUNT,           // F2
            HandleDelete.UNPUBLISH_FIRST,           // F3
            true,                                   // F4
            true,                                   // F5 a name owns an object reference
            true,                                   // F6
            false,                                  // F7 the size is read after the reference is gone (PP-O)
            LinkKind.STRONG,                        // F8
            true,                                   // F9
            true,                                   // F10
            true,                                   // F11
            false,                                  // F12 the cache is filled on a fresh export only
            false,                                  // F13 the prime lock only around the insertion
            false,                                  // F14
            ExportErrorPaths.SEED,                  // F15
            true,                                   // F16 out_unlock takes the lock again (the typo)
            false,                                  // F17 the fail path closes the handle under the prime lock
            CacheRemoval.BY_BUF,                    // F18
            false,                                  // F19 the destructor only WARNs
            false,                                  // F20
            false,                                  // F21 one object reference per handle
            Permissions.NO_RENDER_NODES,            // F22
            true,                                   // F23
            CacheIndex.LIST,
            NameLock.MUTEX);

    /** The seed commit with only its double-lock typo fixed (spec §7 "P-seed+typofix"). */
    public static final Profile SEED_TYPOFIX = with(SEED, "seed-typofix",
            "the seed commit with out_unlock releasing object_name_lock", false, SEED.exportErrorPaths(),
            SEED.cacheFilledOnEveryExport(), SEED.exportHoldsPrimeLock(), SEED.exportLooksUpCacheByHandle(),
            SEED.cacheRemoval());

    /**
     * After the 2013 series (3.12 to about 4.4, spec §4.2 and §7
     * "P-3.12-fixed"): HANDLE_TO_FD holds the prime lock throughout, looks
     * the handle up in the cache and always caches under object_name_lock;
     * GEM_CLOSE removes the members of the link only. The fail path of
     * FD_TO_HANDLE still deadlocks on the prime lock.
     */
    public static final Profile V3_12 = with(SEED_TYPOFIX, "3.12",
            "Linux 3.12 to ~4.4: the 2013 series with the cache always filled", false, ExportErrorPaths.BALANCED,
            true, true, true, CacheRemoval.BY_LINK);

    private static Profile with(Profile p, String name, String description, boolean outUnlockRelocks,
            ExportErrorPaths errorPaths, boolean cacheAlways, boolean holdsPrimeLock, boolean lookupByHandle,
            CacheRemoval removal) {
        return new Profile(name, description, p.handleCount, p.handlePublication, p.handleDelete,
                p.flinkChecksHandleCount, p.nameOwnsObjectRef, p.gemOpenAtomic, p.gemOpenSizeUnderRef, p.linkKind,
                p.linkUnderNameLock, p.exportRechecksHandleCount, p.importRelinks, cacheAlways, holdsPrimeLock,
                lookupByHandle, errorPaths, outUnlockRelocks, p.importFailUnlocksFirst, removal,
                p.cacheDestructorFrees, p.selfImportFirst, p.oneObjectRefForAllHandles, p.permissions,
                p.deferredFput, p.cacheIndex, p.nameLock);
    }

    /** DRM_RDWR in HANDLE_TO_FD's flags is refused before Linux 4.6. */
    public boolean exportAllowsRdwr() {
        return permissions != Permissions.NO_RENDER_NODES;
    }

    public static final List<Profile> ALL = List.of(MODERN, V3_11, SEED, SEED_TYPOFIX, V3_12);

    /** The profile with this name ("6.x", "v3.11"), or null. */
    public static Profile byName(String name) {
        for (Profile p : ALL) {
            if (p.name.equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** Names of the implemented profiles, for messages. */
    public static String names() {
        return String.join(", ", ALL.stream().map(Profile::name).toList());
    }
}
