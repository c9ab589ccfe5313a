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

    /** dri/N/clients: one line per open drm file. */
    public static String clients(DrmDevice dev) {
        StringBuilder b = new StringBuilder(clientsHeader());
        for (DrmFile f : dev.files()) {
            b.append(clientLine(f));
        }
        return b.toString();
    }

    /** The header line of dri/N/clients. */
    public static String clientsHeader() {
        return String.format(Locale.ROOT, "%20s %5s %3s master a %5s %10s%n", "command", "tgid", "dev", "uid", "magic");
    }

    /** One drm file's line of dri/N/clients. */
    public static String clientLine(DrmFile f) {
        return String.format(Locale.ROOT, "%20s %5d %3d   %c    %c %5d %10d%n", f.opener().name(),
                f.opener().pid(), f.minor().index(), f.isMaster() ? 'y' : 'n', f.authenticated() ? 'y' : 'n',
                f.opener().isRoot() ? 0 : 65534, Integer.toUnsignedLong(f.magic()));
    }

    /** dri/N/gem_names: every flink name with its object's size, handle count and refcount. */
    public static String gemNames(DrmDevice dev) {
        StringBuilder b = new StringBuilder(gemNamesHeader());
        dev.objectNameIdr().forEachId(name -> {
            GemObject o = dev.objectNameIdr().find(name);
            if (o != null) {
                b.append(gemNameLine(name, o));
            }
        });
        return b.toString();
    }

    /** The header line of dri/N/gem_names. */
    public static String gemNamesHeader() {
        return "  name     size handles refcount\n";
    }

    /** One flink name's line of dri/N/gem_names. */
    public static String gemNameLine(int name, GemObject o) {
        return String.format(Locale.ROOT, "%6d %8d %7d %8d%n", name, o.size(), o.handleCount(), o.refcount());
    }

    /** dma_buf/bufinfo: every dma-buf with its size, file count and exporter, then the total. */
    public static String bufinfo(Kernel kernel) {
        StringBuilder b = new StringBuilder(bufinfoHeader());
        long bytes = 0;
        int count = 0;
        for (DmaBuf buf : kernel.dmaBufs()) {
            b.append(bufinfoLine(buf));
            bytes += buf.size();
            count++;
        }
        return b.append(bufinfoTotal(count, bytes)).toString();
    }

    /** The header of dma_buf/bufinfo. */
    public static String bufinfoHeader() {
        return "\nDma-buf Objects:\n" + String.format(Locale.ROOT, "%-8s\t%-8s\t%-8s\t%-8s\texp_name\t%-8s\tname%n",
                "size", "flags", "mode", "count", "ino");
    }

    /** One dma-buf's line of dma_buf/bufinfo. */
    public static String bufinfoLine(DmaBuf buf) {
        return String.format(Locale.ROOT, "%08d\t%08x\t%08x\t%08d\t%s\t%08d\t%s%n", buf.size(), 2, 2,
                buf.file().refcount(), buf.exporter(), buf.id(), "<none>");
    }

    /** The last line of dma_buf/bufinfo. */
    public static String bufinfoTotal(int count, long bytes) {
        return String.format(Locale.ROOT, "%nTotal %d objects, %d bytes%n", count, bytes);
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
