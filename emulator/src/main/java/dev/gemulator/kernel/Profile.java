package dev.gemulator.kernel;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * A kernel version as the model sees it: the value of every switch point at
 * which the modelled kernel versions behave differently (spec/kernel-model.md
 * §7). Each switch point is an enum of its own, read at exactly the place
 * where the versions differ, so two profiles differ in the lines they select
 * and nowhere else; {@link #with} changes one switch point by its value
 * ({@code SEED.with(OutUnlock.UNLOCKS)}).
 *
 * <p>Where the versions differ in the shape of a whole function rather than
 * in one line, the switch point picks the function: {@link HandleToFd},
 * {@link FdToHandle}. The naming scheme of the functions a profile picks: the
 * method without a suffix is what Linux 6.x runs; a historical shape carries
 * the name of the earliest profile that runs it ({@code handleCreateV311},
 * {@code handleCreateTailSeed}).
 *
 * <p>Two switch points of §7 are not here because no modelled version makes
 * them observable: F20 (the import check order: vgem always has an sg-table
 * importer, so the 3.12 order refuses nothing) and F23 (deferred final fput:
 * every kernel defers, the immediate variant was a debugging aid).
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
        Flink flink,                         // F4
        NameRef nameRef,                     // F5
        GemOpen gemOpen,                     // F6
        GemOpenSize gemOpenSize,             // F7
        LinkKind linkKind,                   // F8
        HandleToFd handleToFd,               // F9, F10, F12, F13, F14, F15
        FdToHandle fdToHandle,               // F11, F17
        OutUnlock outUnlock,                 // F16
        CacheRemoval cacheRemoval,           // F18
        CacheDestructor cacheDestructor,     // F19
        HandleRefs handleRefs,               // F21
        Permissions permissions,             // F22
        CacheIndex cacheIndex,
        NameLock nameLock,
        TaskWorkOrder taskWorkOrder) {

    /** F1: obj->handle_count is an atomic outside any lock (3.10/3.11) or a plain int under object_name_lock. */
    public enum HandleCount { ATOMIC_UNLOCKED, UNDER_NAME_LOCK }

    /**
     * F2: a new handle is published before the object is counted (3.11), both
     * together under the locks (the 2013 series), or reserved empty and
     * published last (2025).
     */
    public enum HandlePublication { BEFORE_COUNT, WITH_COUNT, RESERVE_THEN_PUBLISH }

    /** F3: GEM_CLOSE frees the id first (to 2016) or empties it, releases, then frees it. */
    public enum HandleDelete { UNPUBLISH_FIRST, RESERVE_RELEASE_FREE }

    /**
     * F4: GEM_FLINK as of 3.9 to 3.11 (no look at the handle count; the name's
     * object reference is taken after object_name_lock is dropped; a failed
     * id allocation is stored as the name) or refusing an object whose last
     * handle is gone (a8e11d1c on).
     */
    public enum Flink { V3_11, CHECKS_HANDLE_COUNT }

    /** F5: a flink name owns an object reference (up to the 2013 series) or none. */
    public enum NameRef { OWNS_OBJECT_REF, NONE }

    /** F6: GEM_OPEN looks the name up and creates the handle apart (3.11) or in one critical section. */
    public enum GemOpen { SPLIT, ATOMIC }

    /** F7: GEM_OPEN reads the object's size after dropping its reference (2013-2020) or before. */
    public enum GemOpenSize { AFTER_PUT, UNDER_REF }

    /**
     * F8: the object's dma-buf link is weak, owning nothing and cleared by the
     * dma-buf's release (3.11), or strong, owning a dma-buf reference dropped
     * with the last handle.
     */
    public enum LinkKind { WEAK, STRONG }

    /**
     * Which drm_gem_prime_handle_to_fd runs: 3.11's (only the prime lock, no
     * re-check, a member on a fresh export only, unchecked fd install), the
     * seed's (object_name_lock around the link, the member added after it is
     * dropped and only on a fresh export, error paths dropping the dma-buf's
     * object reference), or the one from the 2013 series on (the prime lock
     * across the ioctl, the cache looked up by handle first, a member on every
     * path under object_name_lock, balanced error paths). Covers F9, F10 and
     * F12 to F15.
     */
    public enum HandleToFd { V3_11, SEED, SERIES }

    /**
     * Which drm_gem_prime_fd_to_handle runs: 3.11's (no link, a self-import
     * that drops the dma-buf reference at once, a failed member insertion
     * that drops the handle count of a handle left in the table), the 2013
     * series' (import relinks, the failed insertion closes the handle under
     * the prime lock, the final put before the unlock), or the one since
     * about 5.7 (the prime lock dropped before the failure is handled, the
     * unlock before the put). Covers F11 and F17.
     */
    public enum FdToHandle { V3_11, SERIES, MODERN }

    /** F16: FD_TO_HANDLE's out_unlock takes object_name_lock again (the seed's typo) or releases it. */
    public enum OutUnlock { RELOCKS, UNLOCKS }

    /** F18: GEM_CLOSE drops the cache members of the import and the link, of the link only, or of the handle. */
    public enum CacheRemoval { BY_BUF, BY_LINK, BY_HANDLE }

    /** F19: a closing file's cache destructor frees leftover members without puts (3.11) or only WARNs. */
    public enum CacheDestructor { FREES_WITHOUT_PUTS, WARNS }

    /** F21: every handle owns an object reference (to ~4.x) or one reference is shared by all handles. */
    public enum HandleRefs { ONE_PER_HANDLE, ONE_FOR_ALL }

    /**
     * F22: no render nodes and HANDLE_TO_FD refusing DRM_RDWR (2013), or the
     * 6.x permission table with render nodes and DRM_RDWR (4.6 on).
     */
    public enum Permissions { NO_RENDER_NODES, V6 }

    /** The PRIME cache's structure: a list searched in order (3.x) or rb-trees (4.11 on). */
    public enum CacheIndex { LIST, RB_TREE }

    /** dev->object_name_lock: a spinlock (3.10/3.11) or a mutex (the 2013 series on). */
    public enum NameLock { SPINLOCK, MUTEX }

    /**
     * The order task_work_run runs the deferred final fputs it finds queued:
     * oldest first (it reversed the list, to 5.8) or newest first (5.9 on:
     * "task_work: remove fifo ordering guarantee"). An exit's file releases
     * run in reverse fd order on 6.x (conformance/x_exit_release_order.gem).
     */
    public enum TaskWorkOrder { OLDEST_FIRST, NEWEST_FIRST }

    /** Linux 6.x (the real kernel of the conformance recordings is 6.1): spec §7 "P-6.x". */
    public static final Profile MODERN = new Profile(
            "6.x", "Linux 6.x: the default, what ../shared/conformance was recorded on",
            HandleCount.UNDER_NAME_LOCK,
            HandlePublication.RESERVE_THEN_PUBLISH,
            HandleDelete.RESERVE_RELEASE_FREE,
            Flink.CHECKS_HANDLE_COUNT,
            NameRef.NONE,
            GemOpen.ATOMIC,
            GemOpenSize.UNDER_REF,
            LinkKind.STRONG,
            HandleToFd.SERIES,
            FdToHandle.MODERN,
            OutUnlock.UNLOCKS,
            CacheRemoval.BY_HANDLE,
            CacheDestructor.WARNS,
            HandleRefs.ONE_FOR_ALL,
            Permissions.V6,
            CacheIndex.RB_TREE,
            NameLock.MUTEX,
            TaskWorkOrder.NEWEST_FIRST);

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
            HandleCount.ATOMIC_UNLOCKED,
            HandlePublication.BEFORE_COUNT,
            HandleDelete.UNPUBLISH_FIRST,
            Flink.V3_11,
            NameRef.OWNS_OBJECT_REF,
            GemOpen.SPLIT,
            GemOpenSize.AFTER_PUT,
            LinkKind.WEAK,
            HandleToFd.V3_11,
            FdToHandle.V3_11,
            OutUnlock.UNLOCKS,
            CacheRemoval.BY_BUF,
            CacheDestructor.FREES_WITHOUT_PUTS,
            HandleRefs.ONE_PER_HANDLE,
            Permissions.NO_RENDER_NODES,
            CacheIndex.LIST,
            NameLock.SPINLOCK,
            TaskWorkOrder.OLDEST_FIRST);

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
            HandleCount.UNDER_NAME_LOCK,
            HandlePublication.WITH_COUNT,
            HandleDelete.UNPUBLISH_FIRST,
            Flink.CHECKS_HANDLE_COUNT,
            NameRef.OWNS_OBJECT_REF,
            GemOpen.ATOMIC,
            GemOpenSize.AFTER_PUT,
            LinkKind.STRONG,
            HandleToFd.SEED,
            FdToHandle.SERIES,
            OutUnlock.RELOCKS,
            CacheRemoval.BY_BUF,
            CacheDestructor.WARNS,
            HandleRefs.ONE_PER_HANDLE,
            Permissions.NO_RENDER_NODES,
            CacheIndex.LIST,
            NameLock.MUTEX,
            TaskWorkOrder.OLDEST_FIRST);

    /** The seed commit with only its double-lock typo fixed (spec §7 "P-seed+typofix"). */
    public static final Profile SEED_TYPOFIX = SEED
            .named("seed-typofix", "the seed commit with out_unlock releasing object_name_lock")
            .with(OutUnlock.UNLOCKS);

    /**
     * After the 2013 series (3.12 to about 4.4, spec §4.2 and §7
     * "P-3.12-fixed"): HANDLE_TO_FD holds the prime lock throughout, looks
     * the handle up in the cache and always caches under object_name_lock;
     * GEM_CLOSE removes the members of the link only. The fail path of
     * FD_TO_HANDLE still deadlocks on the prime lock.
     */
    public static final Profile V3_12 = SEED_TYPOFIX
            .named("3.12", "Linux 3.12 to ~4.4: the 2013 series with the cache always filled")
            .with(HandleToFd.SERIES)
            .with(CacheRemoval.BY_LINK);

    public static final List<Profile> ALL = List.of(MODERN, V3_11, SEED, SEED_TYPOFIX, V3_12);

    /** This profile under another name and description. */
    public Profile named(String newName, String newDescription) {
        Object[] values = values();
        values[0] = newName;
        values[1] = newDescription;
        return make(values);
    }

    /**
     * This profile with one switch point changed: the one whose type
     * {@code value} is ({@code with(OutUnlock.UNLOCKS)}). The name stays; a
     * profile made this way for an experiment should be {@link #named} too.
     */
    public Profile with(Enum<?> value) {
        RecordComponent[] components = Profile.class.getRecordComponents();
        Object[] values = values();
        for (int i = 0; i < components.length; i++) {
            if (components[i].getType() == value.getDeclaringClass()) {
                values[i] = value;
                return make(values);
            }
        }
        throw new IllegalArgumentException(value.getDeclaringClass().getSimpleName() + " is not a switch point");
    }

    /** The switch points' types, in declaration order (every enum-typed component). */
    public static List<Class<? extends Enum<?>>> switchPoints() {
        List<Class<? extends Enum<?>>> out = new ArrayList<>();
        for (RecordComponent c : Profile.class.getRecordComponents()) {
            if (c.getType().isEnum()) {
                @SuppressWarnings("unchecked")
                Class<? extends Enum<?>> t = (Class<? extends Enum<?>>) c.getType();
                out.add(t);
            }
        }
        return out;
    }

    /** The value of the switch point of type {@code type}. */
    public Enum<?> get(Class<? extends Enum<?>> type) {
        RecordComponent[] components = Profile.class.getRecordComponents();
        Object[] values = values();
        for (int i = 0; i < components.length; i++) {
            if (components[i].getType() == type) {
                return (Enum<?>) values[i];
            }
        }
        throw new IllegalArgumentException(type.getSimpleName() + " is not a switch point");
    }

    private Object[] values() {
        RecordComponent[] components = Profile.class.getRecordComponents();
        Object[] values = new Object[components.length];
        try {
            for (int i = 0; i < components.length; i++) {
                values[i] = components[i].getAccessor().invoke(this);
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return values;
    }

    private static Profile make(Object[] values) {
        Class<?>[] types = new Class<?>[values.length];
        RecordComponent[] components = Profile.class.getRecordComponents();
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
        }
        try {
            return Profile.class.getDeclaredConstructor(types).newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** DRM_RDWR in HANDLE_TO_FD's flags is refused before Linux 4.6 (with the 2013 permissions). */
    public boolean exportAllowsRdwr() {
        return permissions != Permissions.NO_RENDER_NODES;
    }

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
