package dev.gemulator.hunt;

import dev.gemulator.check.Report;
import dev.gemulator.kernel.Profile;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Names the historical bug (spec/kernel-model.md) a schedule's reports show.
 * A schedule is classified by its first report that is not a leak, since what
 * follows is that bug's aftermath; a schedule with only leaks by what leaked.
 * A bug reached only through a failing call (an error path) is named only
 * when the run's output shows that call failing that way.
 * Each class is one bug of the spec, reproduced on its own by a scenario under
 * scenarios/, named in {@link Bug#scenario}. Under Linux 6.x nothing is a
 * known bug: every report there is a false report of the model.
 */
public final class Classifier {
    private Classifier() {
    }

    /** The bugs of the spec that the historical profiles have, with the scenario that shows each alone. */
    public enum Bug {
        UAF_EXPORT_VS_RELEASE("§1.4 use-after-free: export reads the weak link while the dma-buf is released",
                "export_vs_gem_close.gem", "v3.11"),
        L_STALE("L-stale: a cache member for a closed handle keeps the dma-buf and object for ever",
                "v3.11/l_stale.gem", "v3.11"),
        L_DOUBLE_EXPORT("L-double-export: two dma-bufs for one object, the loser keeps its object reference",
                "v3.11/l_double_export.gem", "v3.11"),
        L_FLINK("L-flink: a name made after the last handle closed keeps the object", "v3.11/l_flink.gem", "v3.11"),
        L_CREATE_WINDOW("L-create-window: a handle closed before it was counted keeps the object",
                "v3.11/l_create_window.gem", "v3.11"),
        FLINK_WINDOW("3.11 flink takes the name's reference after the lock: a racing last close frees the object first",
                "v3.11/flink_window.gem", "v3.11"),
        FLINK_NAME_ERROR("3.11 flink stores a failed allocation as the name; the last close drops a reference never taken",
                "v3.11/flink_enomem.gem", "v3.11"),
        EXPORT_ADD_FAILURE_311("3.11 export: a failed cache insert drops the object reference the dma-buf owns",
                "v3.11/h2f_add_enomem.gem", "v3.11"),
        SELF_IMPORT_PUT_311("3.11 self-import drops the dma_buf_get reference and goes on using the dma-buf:"
                + " a racing close makes the cache take a reference on a released dma-buf", "v3.11/self_import_close.gem", "v3.11"),
        EXPORT_UNCHECKED_FD_311("3.11 export: an fd that cannot be installed is returned as the result, and the"
                + " dma-buf no fd holds leaks", "v3.11/h2f_emfile.gem", "v3.11"),
        IMPORT_ERROR_PATHS_311("3.11 import: every failure after a self-import puts the dma-buf twice; "
                + "a failed cache insert leaves a stale handle", "v3.11/f2h_add_enomem.gem", "v3.11"),
        S_L("S-L1/S-L2: the seed commit caches a member after a racing close, WARN at file close and leaks",
                "seed/s_l.gem", "seed"),
        TYPO_DEADLOCK("the seed's out_unlock takes object_name_lock again: a failed import deadlocks on it,"
                + " the fail path returns holding it", "seed/typo_deadlock.gem", "seed"),
        FAIL_PATH_DEADLOCK("the 2013 series' import fail path closes the handle under the prime lock: deadlock",
                "seed/fail_path_deadlock.gem", "seed"),
        FAIL_PATH_UNLOCK("the typo-fixed import fail path, after a racing close took the new handle, releases"
                + " object_name_lock it does not hold", "seed/fail_path_unlock.gem", "seed-typofix"),
        PRIME_LOCK_LEAK("the seed's export returns holding the prime lock when caching fails",
                "seed/prime_lock_leak.gem", "seed"),
        EXPORT_UNDERFLOW_SEED("S-6: the seed's export error paths drop the object reference the dma-buf owns",
                "seed/emfile_underflow.gem", "seed"),
        GEM_OPEN_SIZE_UAF("PP-O: GEM_OPEN reads the size after dropping its reference (to 2020)",
                "seed/gem_open_uaf.gem", "seed");

        private final String description;
        private final String scenario;
        private final String profile;

        Bug(String description, String scenario, String profile) {
            this.description = description;
            this.scenario = scenario;
            this.profile = profile;
        }

        /** The earliest profile that has the bug, under which {@link #scenario} shows it. */
        public Profile profile() {
            return Profile.byName(profile);
        }

        public String description() {
            return description;
        }

        /** The scenario under scenarios/ that shows this bug by itself. */
        public String scenario() {
            return scenario;
        }
    }

    private static final Pattern OBJECT_LEAK = Pattern.compile("refcount (\\d+), handle_count (\\d+)(, exported as)?");

    /**
     * The bug a schedule under {@code profile} shows, or null when its
     * reports fit none (nothing, under 6.x, or a report to examine).
     */
    public static Bug classify(Profile profile, List<Report> reports, String output) {
        if (profile.name().equals(Profile.MODERN.name())) {
            return null;
        }
        for (Report r : reports) {
            if (r.kind() == Report.Kind.LEAK || r.kind() == Report.Kind.EXPECTATION) {
                continue;
            }
            return firstReport(profile, r, reports, output);
        }
        return leaks(profile, reports, output);
    }

    /** Whether the run's output shows {@code op} failing with one of {@code errnos}. */
    private static boolean failed(String output, String op, String... errnos) {
        for (String e : errnos) {
            if (output.contains(" " + op + " err " + e + "\n")) {
                return true;
            }
        }
        return false;
    }

    private static boolean v311(Profile p) {
        return p.handleToFd() == Profile.HandleToFd.V3_11;
    }

    private static Bug firstReport(Profile p, Report r, List<Report> all, String output) {
        String fn = r.function();
        String detail = r.detail();
        switch (r.kind()) {
            case DEADLOCK -> {
                if (detail.contains("object_name_lock held by") && p.outUnlock() == Profile.OutUnlock.RELOCKS) {
                    return Bug.TYPO_DEADLOCK;
                }
                if (detail.contains("file->prime.lock")) {
                    return leakedPrimeLock(all) ? Bug.PRIME_LOCK_LEAK : Bug.FAIL_PATH_DEADLOCK;
                }
                return null;
            }
            case LOCK_MISUSE -> {
                if (fn.equals("syscall_exit_to_user_mode") && detail.contains("file->prime.lock")
                        && p.handleToFd() == Profile.HandleToFd.SEED) {
                    return Bug.PRIME_LOCK_LEAK;
                }
                if (fn.equals("syscall_exit_to_user_mode") && detail.contains("object_name_lock")
                        && p.outUnlock() == Profile.OutUnlock.RELOCKS) {
                    return Bug.TYPO_DEADLOCK;
                }
                if (fn.equals("drm_gem_prime_fd_to_handle") && detail.contains("object_name_lock, which is not locked")
                        && p.fdToHandle() == Profile.FdToHandle.SERIES && p.outUnlock() == Profile.OutUnlock.UNLOCKS) {
                    return Bug.FAIL_PATH_UNLOCK;
                }
                return null;
            }
            case WARN -> {
                if (fn.equals("drm_prime_destroy_file_private") && p.handleToFd() == Profile.HandleToFd.SEED) {
                    return Bug.S_L;
                }
                if (fn.equals("drm_gem_object_ref_bug") && v311(p) && failed(output, "flink", "ENOMEM")) {
                    return Bug.FLINK_NAME_ERROR;
                }
                return null;
            }
            default -> {
                if (fn.equals("drm_gem_open_ioctl") && p.gemOpenSize() == Profile.GemOpenSize.AFTER_PUT) {
                    return Bug.GEM_OPEN_SIZE_UAF;
                }
                if (p.handleToFd() == Profile.HandleToFd.SEED && detail.contains("gem#")
                        && failed(output, "handle_to_fd", "EMFILE", "ENOMEM")) {
                    // the object lost the reference its dma-buf owns: whoever puts next may free it early
                    return Bug.EXPORT_UNDERFLOW_SEED;
                }
                if (!v311(p)) {
                    return null;
                }
                if (fn.equals("drm_gem_prime_handle_to_fd") && detail.contains("dma-buf")) {
                    return Bug.UAF_EXPORT_VS_RELEASE;
                }
                if (fn.equals("drm_gem_flink_ioctl")) {
                    return Bug.FLINK_WINDOW;
                }
                if (fn.equals("drm_prime_add_buf_handle") && detail.contains("dma-buf")) {
                    return Bug.SELF_IMPORT_PUT_311;
                }
                return firstErrorPath311(output, detail.contains("gem#"));
            }
        }
    }

    /**
     * The 3.11 error path whose failure the output shows first: each leaves a
     * reference count short (the object's for a failed export or name, the
     * dma-buf's for a failed import), so whatever breaks later goes back to
     * the earliest of them.
     */
    private static Bug firstErrorPath311(String output, boolean objectBroke) {
        Bug bug = null;
        int at = Integer.MAX_VALUE;
        String[][] paths = {{"handle_to_fd", "EXPORT_ADD_FAILURE_311"}, {"flink", "FLINK_NAME_ERROR"},
            {"fd_to_handle", "IMPORT_ERROR_PATHS_311"}};
        for (String[] path : paths) {
            int i = output.indexOf(" " + path[0] + " err ENOMEM\n");
            boolean fits = path[0].equals("fd_to_handle") || objectBroke;
            if (i >= 0 && i < at && fits) {
                at = i;
                bug = Bug.valueOf(path[1]);
            }
        }
        return bug;
    }

    /** Whether a task returned to user space holding a prime lock before the deadlock. */
    private static boolean leakedPrimeLock(List<Report> all) {
        return all.stream().anyMatch(x -> x.kind() == Report.Kind.LOCK_MISUSE && x.detail().contains("file->prime.lock"));
    }

    private static Bug leaks(Profile p, List<Report> reports, String output) {
        if (reports.stream().noneMatch(r -> r.kind() == Report.Kind.LEAK)) {
            return null;
        }
        if (!v311(p)) {
            return null;
        }
        if (reports.stream().anyMatch(r -> r.function().equals("drm_gem_object_handle_free"))) {
            return Bug.L_FLINK;
        }
        boolean dmaBufLeaked = reports.stream().anyMatch(r -> r.function().equals("dma_buf_release"));
        if (dmaBufLeaked && output.contains(" handle_to_fd ok -24\n")) {
            return Bug.EXPORT_UNCHECKED_FD_311;
        }
        for (Report r : reports) {
            if (r.function().equals("drm_gem_object_free")) {
                var m = OBJECT_LEAK.matcher(r.detail());
                if (m.find()) {
                    if (Integer.parseInt(m.group(2)) > 0) {
                        return Bug.L_CREATE_WINDOW;
                    }
                    // a leaked dma-buf still linked: a stale member keeps it; unlinked: the link moved to another
                    return m.group(3) != null ? Bug.L_STALE : Bug.L_DOUBLE_EXPORT;
                }
            }
        }
        return dmaBufLeaked ? Bug.L_STALE : null;
    }
}
