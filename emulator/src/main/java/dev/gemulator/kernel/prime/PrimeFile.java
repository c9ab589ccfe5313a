package dev.gemulator.kernel.prime;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Mutex;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * struct drm_prime_file_private: the per-file PRIME cache, a multiset of
 * members (dma-buf, handle) indexed both ways, under its own mutex.
 *
 * <p>Lifetime: every member owns one reference on its dma-buf. A member is
 * added when this file exports a handle or imports a dma-buf, and removed
 * when that handle is closed.
 *
 * <p>The index by dma-buf is a red-black tree shaped exactly like the
 * kernel's, because a lookup returns the first member for the dma-buf that
 * the walk from the root meets: with several handles registered for one
 * dma-buf, which one comes back depends on the tree's shape
 * (conformance/x_prime_rbtree.gem). The index by handle has unique keys.
 */
public final class PrimeFile {
    /** A cache member. */
    public static final class Member {
        private final DmaBuf buf;
        private final int handle;
        private RbTree.Node<Member> node;

        Member(DmaBuf buf, int handle) {
            this.buf = buf;
            this.handle = handle;
        }

        public DmaBuf buf() {
            return buf;
        }

        public int handle() {
            return handle;
        }

        @Override
        public String toString() {
            return "(" + buf + ", handle " + Integer.toUnsignedString(handle) + ")";
        }
    }

    private final Mutex lock;
    private final Map<Integer, Member> byHandle = new HashMap<>();
    private final RbTree<Member> byBuf = new RbTree<>();

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
        m.node = byBuf.insert(buf.id(), m);
    }

    Member byHandle(int handle) {
        return byHandle.get(handle);
    }

    Member lookupByBuf(DmaBuf buf) {
        RbTree.Node<Member> n = byBuf.find(buf.id());
        return n == null ? null : n.value;
    }

    void remove(Member m) {
        byHandle.remove(m.handle);
        byBuf.erase(m.node);
        m.node = null;
    }

    public boolean isEmpty() {
        return byHandle.isEmpty();
    }

    /** Every member, in the order of the dma-buf tree. */
    public List<Member> members() {
        return byBuf.values();
    }
}
