package dev.gemulator.kernel.drm;

import dev.gemulator.kernel.Idr;
import dev.gemulator.kernel.SpinLock;
import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.prime.PrimeFile;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.vfs.KFile;

/**
 * struct drm_file: one open of a device node, shared by every fd that dup or
 * SCM_RIGHTS made of it.
 *
 * <p>Lifetime: it lives as long as its struct file, i.e. until the last fd
 * and the last mapping made through it are gone. Its handle table owns the
 * handles' share of each object's reference; its PRIME cache owns one
 * reference on each cached dma-buf.
 */
public final class DrmFile {
    private final DrmMinor minor;
    private final Process opener;
    private final Idr<GemObject> objectIdr;
    private final SpinLock tableLock;
    private final PrimeFile prime;
    private KFile filp;
    private Object driverPriv;
    private boolean authenticated;
    private boolean isMaster;
    private boolean wasMaster;
    private DrmMaster master;
    private int magic;

    DrmFile(DrmMinor minor, Process opener) {
        this.minor = minor;
        this.opener = opener;
        this.objectIdr = new Idr<>(1, minor.dev().kernel().idrBudget());
        this.tableLock = new SpinLock(minor.dev().kernel(), "file->table_lock");
        this.prime = new PrimeFile(minor.dev().kernel());
        objectIdr.setEnd(minor.dev().handleLimit() + 1);
    }

    public DrmMinor minor() {
        return minor;
    }

    public DrmDevice dev() {
        return minor.dev();
    }

    /** file->pid: the process that opened it. */
    public Process opener() {
        return opener;
    }

    /** file->object_idr: handle to object; a reserved handle maps to nothing. */
    public Idr<GemObject> objectIdr() {
        return objectIdr;
    }

    /** file->table_lock, protecting the handle table. */
    public SpinLock tableLock() {
        return tableLock;
    }

    /** file->prime: the per-file PRIME cache and its lock. */
    public PrimeFile prime() {
        return prime;
    }

    /** The struct file this drm_file is the private data of. */
    public KFile filp() {
        return filp;
    }

    void setFilp(KFile filp) {
        this.filp = filp;
    }

    public Object driverPriv() {
        return driverPriv;
    }

    void setDriverPriv(Object driverPriv) {
        this.driverPriv = driverPriv;
    }

    /** drm_is_render_client. */
    public boolean isRenderClient() {
        return minor.type() == DrmMinor.Type.RENDER;
    }

    public boolean isPrimaryClient() {
        return minor.type() == DrmMinor.Type.PRIMARY;
    }

    public boolean authenticated() {
        return authenticated;
    }

    void setAuthenticated(boolean authenticated) {
        this.authenticated = authenticated;
    }

    boolean isMaster() {
        return isMaster;
    }

    void setIsMaster(boolean isMaster) {
        this.isMaster = isMaster;
    }

    boolean wasMaster() {
        return wasMaster;
    }

    void setWasMaster(boolean wasMaster) {
        this.wasMaster = wasMaster;
    }

    DrmMaster master() {
        return master;
    }

    void setMaster(DrmMaster master) {
        this.master = master;
    }

    int magic() {
        return magic;
    }

    void setMagic(int magic) {
        this.magic = magic;
    }

    @Override
    public String toString() {
        return "drm_file(" + (filp == null ? "?" : filp.toString()) + " " + minor.scriptName() + ")";
    }
}
