package dev.gemulator.kernel.prime;

import dev.gemulator.kernel.Kernel;
import dev.gemulator.kernel.Mutex;
import dev.gemulator.kernel.Profile;
import dev.gemulator.kernel.dmabuf.DmaBuf;
import java.util.ArrayList;
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
 *
 * <p>Kernels before 4.11 keep the members on one list instead, new members
 * at the head: a lookup by dma-buf finds the newest member for it, and
 * stale members may repeat a handle.
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
    /** The 3.x list, newest first; null when the kernel uses the trees. */
    private final List<Member> list;

    public PrimeFile(Kernel kernel) {
        this.lock = new Mutex(kernel, "file->prime.lock");
        this.list = kernel.profile().cacheIndex() == Profile.CacheIndex.LIST ? new ArrayList<>() : null;
    }

    /** prime.lock. */
    public Mutex lock() {
        return lock;
    }

    void add(DmaBuf buf, int handle) {
        Member m = new Member(buf, handle);
        if (list != null) {
            list.add(0, m);
            return;
        }
        byHandle.put(handle, m);
        m.node = byBuf.insert(buf.id(), m);
    }

    Member byHandle(int handle) {
        if (list != null) {
            for (Member m : list) {
                if (m.handle == handle) {
                    return m;
                }
            }
            return null;
        }
        return byHandle.get(handle);
    }

    Member lookupByBuf(DmaBuf buf) {
        if (list != null) {
            for (Member m : list) {
                if (m.buf == buf) {
                    return m;
                }
            }
            return null;
        }
        RbTree.Node<Member> n = byBuf.find(buf.id());
        return n == null ? null : n.value;
    }

    void remove(Member m) {
        if (list != null) {
            list.remove(m);
            return;
        }
        byHandle.remove(m.handle);
        byBuf.erase(m.node);
        m.node = null;
    }

    /** Takes out every member of {@code buf} (the caller drops their references). */
    List<Member> removeAll(DmaBuf buf) {
        List<Member> out = new ArrayList<>();
        for (Member m : members()) {
            if (m.buf == buf) {
                out.add(m);
            }
        }
        for (Member m : out) {
            remove(m);
        }
        return out;
    }

    /** Forgets every member without dropping its reference (the 3.x destructor). */
    List<Member> clearWithoutPuts() {
        List<Member> out = members();
        for (Member m : out) {
            remove(m);
        }
        return out;
    }

    public boolean isEmpty() {
        return list != null ? list.isEmpty() : byHandle.isEmpty();
    }

    /** Every member: list order (newest first), or the order of the dma-buf tree. */
    public List<Member> members() {
        return list != null ? new ArrayList<>(list) : byBuf.values();
    }
}
