package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.Idr;
import dev.gemulator.kernel.KObject;
import dev.gemulator.kernel.Kernel;

/**
 * struct drm_master: a group of clients around one master file. It owns the
 * magic table (numbers from 1) of the files opened under it. The device's
 * current master and every primary file opened under it hold a reference.
 */
public final class DrmMaster extends KObject {
    private final DrmDevice dev;
    private final Idr<DrmFile> magicMap = new Idr<>(1);
    private String unique = "";

    /** drm_master_create. */
    DrmMaster(DrmDevice dev) {
        super(dev.kernel().nextId(Kernel.IdKind.MASTER));
        this.dev = dev;
    }

    @Override
    protected Kernel kernel() {
        return dev.kernel();
    }

    @Override
    public String kind() {
        return "master";
    }

    /** master->unique: the bus id, set by drm_set_busid (SET_VERSION 1.1 and later); empty before. */
    public String unique() {
        return unique;
    }

    void setUnique(String unique) {
        this.unique = unique;
    }

    /** master->magic_map. */
    public Idr<DrmFile> magicMap() {
        return magicMap;
    }

    /** drm_master_put. */
    void masterPut(String function) {
        if (put(function)) {
            magicMap.clear();
            markFreed(function);
        }
    }
}
