package dev.gemulator.kernel.prime;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Mutex;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * struct drm_prime_file_private: the per-file PRIME cache, a multiset of
 * members (dma-buf, handle) indexed both ways, under its own mutex.
 *
 * <p>Lifetime: every member owns one reference on its dma-buf. A member is
 * added when this file exports a handle or imports a dma-buf, and removed
 * when that handle is closed. Looking up by dma-buf finds the first member
 * registered for it: what the kernel's rb-tree answers when one dma-buf is
 * cached (with several, the kernel's answer depends on pointer order and is
 * not reproducible; the model keeps registration order).
 */
public final class PrimeFile {
    /** A cache member. */
    public record Member(DmaBuf buf, int handle) {
    }

    private final Mutex lock;
    private final Map<Integer, Member> byHandle = new HashMap<>();
    private final LinkedHashMap<DmaBuf, List<Member>> byBuf = new LinkedHashMap<>();

    public PrimeFile(Kernel kernel) {
        this.lock = new Mutex(kernel, "file->prime.lock");
    }

    /** prime.lock. */
    public Mutex lock() {
        return lock;
    }

    void add(DmaBuf buf, int handle) {
        Member m = new Member(buf, handle);
        byHandle.put(handle, m);
        byBuf.computeIfAbsent(buf, b -> new ArrayList<>(1)).add(m);
    }

    Member byHandle(int handle) {
        return byHandle.get(handle);
    }

    Member firstByBuf(DmaBuf buf) {
        List<Member> l = byBuf.get(buf);
        return l == null ? null : l.get(0);
    }

    void remove(Member m) {
        byHandle.remove(m.handle());
        List<Member> l = byBuf.get(m.buf());
        l.remove(m);
        if (l.isEmpty()) {
            byBuf.remove(m.buf());
        }
    }

    public boolean isEmpty() {
        return byHandle.isEmpty();
    }

    /** Every member, grouped by dma-buf in the order the dma-bufs were first cached. */
    public List<Member> members() {
        List<Member> out = new ArrayList<>(byHandle.size());
        for (List<Member> l : byBuf.values()) {
            out.addAll(l);
        }
        return out;
    }
}
