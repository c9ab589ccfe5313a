package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.gem.GemObject;
import java.util.Locale;

/**
 * What /sys/kernel/debug/dri/N and /sys/kernel/debug/dma_buf show, in the
 * kernel's layouts: the device's clients (drm_clients_info), its flink names
 * (drm_gem_name_info), the dma-bufs (dma_buf_debug_show), and the object
 * counts and bytes that IGT reads to count leaks. It only reads; it takes no
 * lock because it runs between system calls.
 */
public final class DrmDebugfs {
    private DrmDebugfs() {
    }

    /**
     * dri/N/name (drm_name_info): the driver, the device, the current
     * master's unique (once SET_VERSION set one) and the device's unique.
     */
    public static String name(DrmDevice dev) {
        StringBuilder b = new StringBuilder(dev.driver().name()).append(" dev=").append(dev.unique());
        DrmMaster m = dev.master();
        if (m != null && !m.unique().isEmpty()) {
            b.append(" master=").append(m.unique());
        }
        return b.append(" unique=").append(dev.unique()).append('\n').toString();
    }

    /** dri/N/clients: one line per open drm file. */
    public static String clients(DrmDevice dev) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%20s %5s %3s master a %5s %10s%n", "command",
                "tgid", "dev", "uid", "magic"));
        for (DrmFile f : dev.files()) {
            b.append(String.format(Locale.ROOT, "%20s %5d %3d   %c    %c %5d %10d%n", f.opener().name(),
                    f.opener().pid(), f.minor().index(), f.isMaster() ? 'y' : 'n', f.authenticated() ? 'y' : 'n',
                    f.opener().isRoot() ? 0 : 65534, Integer.toUnsignedLong(f.magic())));
        }
        return b.toString();
    }

    /** dri/N/gem_names: every flink name with its object's size, handle count and refcount. */
    public static String gemNames(DrmDevice dev) {
        StringBuilder b = new StringBuilder("  name     size handles refcount\n");
        dev.objectNameIdr().forEachId(name -> {
            GemObject o = dev.objectNameIdr().find(name);
            if (o != null) {
                b.append(String.format(Locale.ROOT, "%6d %8d %7d %8d%n", name, o.size(), o.handleCount(), o.refcount()));
            }
        });
        return b.toString();
    }

    /** dma_buf/bufinfo: every dma-buf with its size, file count and exporter, then the total. */
    public static String bufinfo(Kernel kernel) {
        StringBuilder b = new StringBuilder("\nDma-buf Objects:\n");
        b.append(String.format(Locale.ROOT, "%-8s\t%-8s\t%-8s\t%-8s\texp_name\t%-8s\tname%n", "size", "flags", "mode",
                "count", "ino"));
        long bytes = 0;
        int count = 0;
        for (DmaBuf buf : kernel.dmaBufs()) {
            b.append(String.format(Locale.ROOT, "%08d\t%08x\t%08x\t%08d\t%s\t%08d\t%s%n", buf.size(), 2, 2,
                    buf.file().refcount(), buf.exporter(), buf.id(), "<none>"));
            bytes += buf.size();
            count++;
        }
        return b.append(String.format(Locale.ROOT, "%nTotal %d objects, %d bytes%n", count, bytes)).toString();
    }

    /** Object counts and bytes of the device (what IGT's leak checks compare before and after). */
    public static String objects(DrmDevice dev) {
        return String.format(Locale.ROOT, "%d objects, %d bytes, %d bytes resident, %d flink names, %d clients%n",
                dev.liveObjects().count(), dev.liveObjects().bytes(), dev.residentBytes(), dev.objectNameIdr().size(),
                dev.files().size());
    }

    /** Everything, under headings named after the debugfs files. */
    public static String all(Kernel kernel) {
        StringBuilder b = new StringBuilder();
        for (DrmDevice dev : kernel.devices()) {
            String dir = "/sys/kernel/debug/dri/" + dev.index() + "/";
            b.append("== ").append(dir).append("clients\n").append(clients(dev));
            b.append("== ").append(dir).append("gem_names\n").append(gemNames(dev));
            b.append("== ").append(dir).append("objects\n").append(objects(dev));
        }
        b.append("== /sys/kernel/debug/dma_buf/bufinfo").append(bufinfo(kernel));
        return b.toString();
    }
}
