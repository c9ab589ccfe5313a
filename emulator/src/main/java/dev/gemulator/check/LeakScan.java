package dev.gemulator.check;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.dmabuf.DmaFence;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.prime.PrimeFile;
import java.util.List;

/**
 * The leak scan at device teardown: once every process has exited and every
 * deferred release has run, nothing may be left. What is left is reported,
 * one report per leaked thing, in creation order: GEM objects (what IGT
 * counts through i915_gem_objects), flink names, dma-bufs (bufinfo), drm
 * files and their PRIME cache members, and dma-fences.
 */
public final class LeakScan {
    private LeakScan() {
    }

    public static void scan(Kernel kernel, Checkers checkers) {
        for (DrmDevice dev : kernel.devices()) {
            for (DrmFile file : List.copyOf(dev.files())) {
                checkers.add(Report.Kind.LEAK, "drm_release", file + " still open");
                for (PrimeFile.Member m : file.prime().members()) {
                    checkers.add(Report.Kind.LEAK, "drm_prime_destroy_file_private",
                            "cache member (" + m.buf() + ", handle " + Integer.toUnsignedString(m.handle()) + ") of " + file);
                }
            }
            dev.objectNameIdr().forEachId(name -> {
                GemObject o = dev.objectNameIdr().find(name);
                checkers.add(Report.Kind.LEAK, "drm_gem_object_handle_free",
                        "flink name " + name + (o == null ? "" : " of " + o) + " on " + dev);
            });
            for (GemObject o : dev.liveObjects().list()) {
                checkers.add(Report.Kind.LEAK, "drm_gem_object_free", o + " of " + o.size() + " bytes on " + dev
                        + " (refcount " + o.refcount() + ", handle_count " + o.handleCount()
                        + (o.dmaBuf() != null ? ", exported as " + o.dmaBuf() : "") + ")");
            }
        }
        for (DmaBuf buf : kernel.dmaBufs()) {
            checkers.add(Report.Kind.LEAK, "dma_buf_release", buf + " of " + buf.size() + " bytes exported by "
                    + buf.exporter() + " (file count " + buf.file().refcount() + ")");
        }
        for (DmaFence f : checkers.liveFences()) {
            checkers.add(Report.Kind.LEAK, "dma_fence_release", f + " from " + f.driver()
                    + (f.isSignaled() ? " (signalled)" : " (unsignalled)"));
        }
    }
}
