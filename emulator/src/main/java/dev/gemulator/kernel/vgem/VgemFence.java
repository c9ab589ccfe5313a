package dev.gemulator.kernel.vgem;

import dev.gemulator.kernel.Clock;
import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.dmabuf.DmaFence;

/**
 * struct vgem_fence: a dma-fence that user space signals, and that signals
 * itself {@link #TIMEOUT_NANOS} after it was created so a forgotten fence
 * cannot hang the device (VGEM_FENCE_TIMEOUT).
 */
public final class VgemFence extends DmaFence {
    /** VGEM_FENCE_TIMEOUT: 10 s. */
    public static final long TIMEOUT_NANOS = 10_000_000_000L;

    private final Clock.Timer timer;

    /** vgem_fence_create: arms the timeout timer. */
    VgemFence(Kernel kernel) {
        super(kernel, "vgem");
        Clock clock = kernel.clock();
        this.timer = clock.addTimer(clock.nowNanos() + TIMEOUT_NANOS, this::timeout);
    }

    /** vgem_fence_timeout (timer context). */
    private void timeout() {
        signal("vgem_fence_timeout");
    }

    /** vgem_fence_release: the timer must not fire on a freed fence. */
    @Override
    protected void release(String function) {
        kernel().clock().cancel(timer);
    }
}
