package dev.gemulator.server;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import dev.gemulator.kernel.drm.DrmDebugfs;
import dev.gemulator.kernel.drm.DrmDevice;
import dev.gemulator.kernel.drm.DrmFile;
import dev.gemulator.kernel.gem.GemObject;
import java.util.List;

/**
 * The debugfs views ({@link DrmDebugfs#all}) made a slice at a time, as a
 * reader of the real files gets them a page per read(2): each turn of the
 * simulation thread writes at most {@link #LINES_PER_SLICE} lines, so that
 * a question about a device with a million names costs other connections no
 * more than a system call's worth of waiting per turn. Between turns the
 * device may change, as it may between two reads of a real debugfs file:
 * a file or dma-buf is shown as it was when its view began (a list of them
 * is taken then), a name as it is when its line is written. The text stops
 * at {@link Limits#MAX_DEBUGFS_BYTES}, saying so.
 */
final class DebugfsSlices {
    static final int LINES_PER_SLICE = 128;

    private enum Stage { CLIENTS, NAMES, OBJECTS, BUFINFO, DONE }

    private final Kernel kernel;
    private final List<DrmDevice> devices;
    private final StringBuilder out = new StringBuilder();
    private Stage stage = Stage.CLIENTS;
    private int device;
    private Object[] snapshot;
    private int at;
    private long bufBytes;

    DebugfsSlices(Kernel kernel) {
        this.kernel = kernel;
        this.devices = kernel.devices();
    }

    /** Writes the next slice; true when the text is whole. */
    boolean slice() {
        int lines = 0;
        while (stage != Stage.DONE && lines < LINES_PER_SLICE) {
            if (out.length() > Limits.MAX_DEBUGFS_BYTES - 256) {
                out.append("... (cut: an answer carries at most ").append(Limits.MAX_DEBUGFS_BYTES).append(" bytes)\n");
                stage = Stage.DONE;
                break;
            }
            lines += step();
        }
        return stage == Stage.DONE;
    }

    String text() {
        return out.toString();
    }

    /** One line (or one heading) of the stage under way; how many lines it wrote. */
    private int step() {
        if (stage != Stage.BUFINFO && device >= devices.size()) {
            stage = Stage.BUFINFO;
        }
        switch (stage) {
            case CLIENTS -> {
                DrmDevice dev = devices.get(device);
                if (snapshot == null) {
                    out.append("== ").append(dir(dev)).append("clients\n").append(DrmDebugfs.clientsHeader());
                    snapshot = dev.files().toArray();
                    at = 0;
                } else if (at < snapshot.length) {
                    out.append(DrmDebugfs.clientLine((DrmFile) snapshot[at++]));
                } else {
                    snapshot = null;
                    stage = Stage.NAMES;
                    at = -1;
                }
            }
            case NAMES -> {
                DrmDevice dev = devices.get(device);
                if (at < 0) {
                    out.append("== ").append(dir(dev)).append("gem_names\n").append(DrmDebugfs.gemNamesHeader());
                    at = 0;
                } else {
                    int name = dev.objectNameIdr().nextAllocated(at);
                    if (name < 0) {
                        stage = Stage.OBJECTS;
                    } else {
                        GemObject o = dev.objectNameIdr().find(name);
                        if (o != null) {
                            out.append(DrmDebugfs.gemNameLine(name, o));
                        }
                        at = name + 1;
                    }
                }
            }
            case OBJECTS -> {
                DrmDevice dev = devices.get(device);
                out.append("== ").append(dir(dev)).append("objects\n").append(DrmDebugfs.objects(dev));
                device++;
                stage = Stage.CLIENTS;
            }
            case BUFINFO -> {
                if (snapshot == null) {
                    out.append("== /sys/kernel/debug/dma_buf/bufinfo").append(DrmDebugfs.bufinfoHeader());
                    snapshot = kernel.dmaBufs().toArray();
                    at = 0;
                    bufBytes = 0;
                } else if (at < snapshot.length) {
                    DmaBuf buf = (DmaBuf) snapshot[at++];
                    out.append(DrmDebugfs.bufinfoLine(buf));
                    bufBytes += buf.size();
                } else {
                    out.append(DrmDebugfs.bufinfoTotal(snapshot.length, bufBytes));
                    snapshot = null;
                    stage = Stage.DONE;
                }
            }
            case DONE -> {
                return 0;
            }
        }
        return 1;
    }

    private static String dir(DrmDevice dev) {
        return "/sys/kernel/debug/dri/" + dev.index() + "/";
    }
}
