package dev.gemulator.kernel.dmabuf;

import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.KResult;
import dev.gemulator.kernel.proc.Vma;

/** struct dma_buf_ops: what the exporter does for its dma-bufs. */
public interface DmaBufOps {

    /** Who exported it, as bufinfo shows ("vgem" for a GEM export of vgem). */
    String exporter(DmaBuf buf);

    /** The final release of the dma-buf (the exporter drops what the buffer owned). */
    void release(DmaBuf buf);

    /** Maps the buffer into {@code vma}; EINVAL when the exporter cannot map. */
    default KResult<Void> mmap(DmaBuf buf, Vma vma) {
        return KResult.err(Errno.EINVAL, "the exporter " + exporter(buf) + " cannot map its dma-bufs");
    }
}
