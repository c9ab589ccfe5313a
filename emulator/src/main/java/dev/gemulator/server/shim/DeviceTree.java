package dev.gemulator.server.shim;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.drm.DrmDebugfs;
import dev.gemulator.kernel.drm.DrmDevice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The device as libdrm and IGT find it on a Linux 6.1 machine with vgem
 * loaded, as a directory tree that the C shim redirects paths into:
 *
 * <pre>
 *  dev/dri/card0, renderD128            stand-ins (the shim stats them as 226:0, 226:128)
 *  sys/dev/char/226:0 -> ../../devices/platform/vgem/drm/card0
 *  sys/devices/platform/vgem/           uevent (MODALIAS=platform:vgem), subsystem -> bus/platform
 *      drm/card0/                       dev, uevent (MAJOR, MINOR, DEVNAME, DEVTYPE), device, subsystem
 *  sys/class/drm/card0 -> ...           and version
 *  sys/kernel/debug/dri/0/              name, clients, gem_names (the live model's)
 *  sys/kernel/debug/dma_buf/bufinfo     (live)
 *  sys/module/vgem/                     initstate, refcnt (live), holders/
 *  dev/kmsg, sys/class/vtconsole/, proc/sys/kernel/ftrace_dump_on_oops
 *                                       what IGT writes on a host, kept here instead
 * </pre>
 *
 * <p>The live files' content is rendered when a program opens one
 * ({@link #render}); the stand-ins in the tree only give them an inode.
 */
public final class DeviceTree {
    /** The files whose content is the live model's. */
    public static final List<String> LIVE = List.of(
            "/sys/kernel/debug/dri/0/name", "/sys/kernel/debug/dri/0/clients", "/sys/kernel/debug/dri/0/gem_names",
            "/sys/kernel/debug/dri/128/name", "/sys/kernel/debug/dri/128/clients",
            "/sys/kernel/debug/dri/128/gem_names", "/sys/kernel/debug/dma_buf/bufinfo", "/sys/module/vgem/refcnt");

    private final Path root;

    private DeviceTree(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Makes the tree in {@code root} (replacing one an earlier server left). */
    public static DeviceTree make(Path root) {
        try {
            DeviceTree t = new DeviceTree(root);
            if (Files.exists(root)) {
                t.delete(); // an earlier server's, left behind
            }
            Files.createDirectories(root);
            t.build();
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the device tree in " + root + ": " + e.getMessage(), e);
        }
    }

    private void build() throws IOException {
        node("dev/dri/card0", "rw-rw----");
        node("dev/dri/renderD128", "rw-rw-rw-");
        writable("dev/kmsg", "");
        String vgem = "sys/devices/platform/vgem";
        file(vgem + "/uevent", "MODALIAS=platform:vgem\n");
        file(vgem + "/modalias", "platform:vgem\n");
        file(vgem + "/driver_override", "(null)\n");
        Files.createDirectories(root.resolve("sys/bus/platform/devices"));
        link(vgem + "/subsystem", "../../../bus/platform");
        link("sys/bus/platform/devices/vgem", "../../../devices/platform/vgem");
        minor(vgem, "card0", 0);
        minor(vgem, "renderD128", 128);
        file("sys/class/drm/version", "drm 1.1.0 20060810\n");
        link("sys/class/drm/card0", "../../devices/platform/vgem/drm/card0");
        link("sys/class/drm/renderD128", "../../devices/platform/vgem/drm/renderD128");
        link("sys/dev/char/226:0", "../../devices/platform/vgem/drm/card0");
        link("sys/dev/char/226:128", "../../devices/platform/vgem/drm/renderD128");
        for (int minor : new int[] {0, 128}) {
            String dir = "sys/kernel/debug/dri/" + minor;
            file(dir + "/name", "");
            file(dir + "/clients", "");
            file(dir + "/gem_names", "");
        }
        file("sys/kernel/debug/dma_buf/bufinfo", "");
        file("sys/module/vgem/initstate", "live\n");
        file("sys/module/vgem/refcnt", "");
        file("sys/module/vgem/coresize", "16384\n");
        Files.createDirectories(root.resolve("sys/module/vgem/holders"));
        writable("sys/class/vtconsole/vtcon0/bind", "1\n");
        file("sys/class/vtconsole/vtcon0/name", "(S) dummy device\n");
        writable("proc/sys/kernel/ftrace_dump_on_oops", "0\n");
    }

    /** A drm minor's sysfs directory under the platform device. */
    private void minor(String vgem, String name, int minor) throws IOException {
        String dir = vgem + "/drm/" + name;
        file(dir + "/dev", "226:" + minor + "\n");
        file(dir + "/uevent", "MAJOR=226\nMINOR=" + minor + "\nDEVNAME=dri/" + name + "\nDEVTYPE=drm_minor\n");
        link(dir + "/device", "../../../vgem");
        link(dir + "/subsystem", "../../../../../class/drm");
    }

    private void file(String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("r--r--r--"));
    }

    /** A node's stand-in: its mode is the node's (crw-rw---- card0, crw-rw-rw- renderD128), chmod changes it. */
    private void node(String path, String mode) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }

    private void writable(String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw-rw-"));
    }

    private void link(String path, String target) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.createSymbolicLink(p, Path.of(target));
    }

    /**
     * The content of a live file, rendered from the model now, or null when
     * {@code path} is not one.
     */
    public static String render(Kernel kernel, String path) {
        DrmDevice dev = kernel.devices().get(0);
        return switch (path) {
            case "/sys/kernel/debug/dri/0/name", "/sys/kernel/debug/dri/128/name" -> DrmDebugfs.name(dev);
            case "/sys/kernel/debug/dri/0/clients", "/sys/kernel/debug/dri/128/clients" -> DrmDebugfs.clients(dev);
            case "/sys/kernel/debug/dri/0/gem_names", "/sys/kernel/debug/dri/128/gem_names" -> DrmDebugfs.gemNames(dev);
            case "/sys/kernel/debug/dma_buf/bufinfo" -> DrmDebugfs.bufinfo(kernel);
            case "/sys/module/vgem/refcnt" -> moduleReferences(kernel) + "\n";
            default -> null;
        };
    }

    /**
     * The vgem module's references (module_refcount) as the kernel takes
     * them: one per open drm file (drm_stub_open's fops_get, given back at
     * the file's release) and one per live dma-buf it exported
     * (dma_buf_export's try_module_get of the exporter, module_put in
     * dma_buf_release). A mapping holds its vm_file, so it counts through
     * its drm file or dma-buf.
     */
    public static int moduleReferences(Kernel kernel) {
        return kernel.devices().get(0).files().size() + kernel.dmaBufs().size();
    }

    /** What goes with the module when it is unloaded (and comes back when it is loaded). */
    private static final List<String> MODULE_PARTS = List.of("dev/dri/card0", "dev/dri/renderD128",
            "sys/dev/char/226:0", "sys/dev/char/226:128", "sys/class/drm/card0", "sys/class/drm/renderD128",
            "sys/devices/platform/vgem", "sys/bus/platform/devices/vgem", "sys/kernel/debug/dri/0",
            "sys/kernel/debug/dri/128", "sys/module/vgem");

    /** The module is unloaded: its nodes, its sysfs and debugfs entries go (kept aside for a load). */
    public void unload() {
        move(root, root.resolve(".unloaded"));
    }

    /** The module is loaded again: its entries come back. */
    public void load() {
        move(root.resolve(".unloaded"), root);
    }

    private static void move(Path from, Path to) {
        try {
            for (String part : MODULE_PARTS) {
                Path src = from.resolve(part);
                if (Files.exists(src, LinkOption.NOFOLLOW_LINKS)) {
                    Path dst = to.resolve(part);
                    Files.createDirectories(dst.getParent());
                    Files.move(src, dst);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the module's entries of the device tree: " + e.getMessage(), e);
        }
    }

    /** Removes the tree. */
    public void delete() {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left behind
                }
            });
        } catch (IOException e) {
            // gone already
        }
    }
}
