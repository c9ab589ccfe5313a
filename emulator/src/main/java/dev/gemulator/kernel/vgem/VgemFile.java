package dev.gemulator.kernel.vgem;

import dev.gemulator.kernel.Idr;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Mutex;

/**
 * struct vgem_file: a DRM file's table of the fences it attached, by id
 * (from 1). Signalling an id leaves it allocated with no fence, so fence ids
 * are never reused while the file is open. The table owns one reference on
 * each fence it still holds. It hands out at most the device's limit of
 * fence ids per file (then ENOSPC, as when the idr's range runs out).
 */
public final class VgemFile {
    private final Idr<VgemFence> fenceIdr;
    private final Mutex fenceMutex;

    VgemFile(Kernel kernel, int fenceLimit) {
        this.fenceIdr = new Idr<>(1, kernel.idrBudget());
        fenceIdr.setEnd(fenceLimit == Integer.MAX_VALUE ? Integer.MAX_VALUE : fenceLimit + 1);
        this.fenceMutex = new Mutex(kernel, "vfile->fence_mutex");
    }

    Idr<VgemFence> fenceIdr() {
        return fenceIdr;
    }

    Mutex fenceMutex() {
        return fenceMutex;
    }
}
