package dev.gemulator.kernel.prime;

import java.util.ArrayList;
import java.util.List;

/**
 * A red-black tree with the shape rules of the kernel's lib/rbtree.c, for
 * the PRIME cache's tree of members by dma-buf. Which member a lookup meets
 * first depends on the tree's shape, so the shape must be the kernel's: the
 * same insertion walk (a key greater than the node's goes right, equal or
 * smaller goes left), the same rebalancing after insertion, and the same
 * erase (a node with two children is replaced by its successor, which takes
 * its colour), with the same rebalancing cases.
 *
 * <p>Keys stand for kernel pointers. The kernel orders different dma-bufs by
 * address, which is not reproducible; the model uses creation order. With a
 * single dma-buf in the tree the answer is the kernel's exactly.
 */
final class RbTree<V> {
    private static final int LEFT = 0;
    private static final int RIGHT = 1;

    static final class Node<V> {
        final long key;
        final V value;
        /** child[LEFT], child[RIGHT]. */
        @SuppressWarnings("unchecked")
        final Node<V>[] child = new Node[2];
        Node<V> parent;
        boolean red;

        Node(long key, V value) {
            this.key = key;
            this.value = value;
        }

        Node<V> left() {
            return child[LEFT];
        }

        Node<V> right() {
            return child[RIGHT];
        }

        /** Which child of its parent this node is. */
        int side() {
            return parent.child[LEFT] == this ? LEFT : RIGHT;
        }
    }

    private Node<V> root;
    private int size;

    int size() {
        return size;
    }

    /** rb_link_node + rb_insert_color with the kernel's walk for equal keys. */
    Node<V> insert(long key, V value) {
        Node<V> n = new Node<>(key, value);
        n.red = true;
        Node<V> parent = null;
        Node<V> cur = root;
        int dir = LEFT;
        while (cur != null) {
            parent = cur;
            dir = key > cur.key ? RIGHT : LEFT;
            cur = cur.child[dir];
        }
        n.parent = parent;
        if (parent == null) {
            root = n;
        } else {
            parent.child[dir] = n;
        }
        insertColor(n);
        size++;
        return n;
    }

    /** The lookup walk of drm_prime_lookup_buf_handle: the first node with this key met from the root. */
    Node<V> find(long key) {
        Node<V> cur = root;
        while (cur != null) {
            if (cur.key == key) {
                return cur;
            }
            cur = cur.child[cur.key < key ? RIGHT : LEFT];
        }
        return null;
    }

    /** In-order values. */
    List<V> values() {
        List<V> out = new ArrayList<>(size);
        walk(root, out);
        return out;
    }

    private void walk(Node<V> n, List<V> out) {
        if (n != null) {
            walk(n.child[LEFT], out);
            out.add(n.value);
            walk(n.child[RIGHT], out);
        }
    }

    private static boolean isRed(Node<?> n) {
        return n != null && n.red;
    }

    /**
     * Rotates {@code x} down towards {@code dir}: its child on the other side
     * takes its place (dir LEFT is a left rotation).
     */
    private void rotate(Node<V> x, int dir) {
        Node<V> y = x.child[1 - dir];
        x.child[1 - dir] = y.child[dir];
        if (y.child[dir] != null) {
            y.child[dir].parent = x;
        }
        replaceChild(x, y);
        y.child[dir] = x;
        x.parent = y;
    }

    /** Puts {@code y} where {@code x} hangs from x's parent (or the root). */
    private void replaceChild(Node<V> x, Node<V> y) {
        Node<V> p = x.parent;
        if (y != null) {
            y.parent = p;
        }
        if (p == null) {
            root = y;
        } else {
            p.child[x.side()] = y;
        }
    }

    /** __rb_insert. */
    private void insertColor(Node<V> node) {
        while (true) {
            Node<V> parent = node.parent;
            if (parent == null) {
                node.red = false;
                return;
            }
            if (!parent.red) {
                return;
            }
            Node<V> gparent = parent.parent;
            int side = parent.side();
            Node<V> uncle = gparent.child[1 - side];
            if (isRed(uncle)) {
                uncle.red = false;
                parent.red = false;
                gparent.red = true;
                node = gparent;
                continue;
            }
            if (node == parent.child[1 - side]) {
                rotate(parent, side);
                parent = node;
            }
            rotate(gparent, 1 - side);
            parent.red = false;
            gparent.red = true;
            return;
        }
    }

    /** rb_erase. */
    void erase(Node<V> node) {
        Node<V> rebalance;
        int deficit;
        if (node.child[LEFT] == null || node.child[RIGHT] == null) {
            Node<V> child = node.child[LEFT] != null ? node.child[LEFT] : node.child[RIGHT];
            Node<V> parent = node.parent;
            deficit = parent == null ? LEFT : node.side();
            replaceChild(node, child);
            if (child != null) {
                child.red = node.red;
                rebalance = null;
            } else {
                rebalance = node.red ? null : parent;
            }
        } else {
            Node<V> successor = node.child[RIGHT];
            Node<V> parent;
            Node<V> child2;
            if (successor.child[LEFT] == null) {
                parent = successor;
                child2 = successor.child[RIGHT];
                deficit = RIGHT;
            } else {
                do {
                    parent = successor;
                    successor = successor.child[LEFT];
                } while (successor.child[LEFT] != null);
                child2 = successor.child[RIGHT];
                parent.child[LEFT] = child2;
                if (child2 != null) {
                    child2.parent = parent;
                }
                successor.child[RIGHT] = node.child[RIGHT];
                node.child[RIGHT].parent = successor;
                deficit = LEFT;
            }
            successor.child[LEFT] = node.child[LEFT];
            node.child[LEFT].parent = successor;
            boolean successorWasRed = successor.red;
            replaceChild(node, successor);
            successor.red = node.red;
            if (child2 != null) {
                child2.parent = parent;
                child2.red = false;
                rebalance = null;
            } else {
                rebalance = successorWasRed ? null : parent;
            }
        }
        size--;
        node.child[LEFT] = node.child[RIGHT] = node.parent = null;
        if (rebalance != null) {
            eraseColor(rebalance, deficit);
        }
    }

    /** ____rb_erase_color: one black is missing below {@code parent} on side {@code deficit}. */
    private void eraseColor(Node<V> parent, int deficit) {
        while (true) {
            int other = 1 - deficit;
            Node<V> sibling = parent.child[other];
            if (sibling.red) {
                rotate(parent, deficit);
                sibling.red = false;
                parent.red = true;
                sibling = parent.child[other];
            }
            if (!isRed(sibling.child[other])) {
                if (!isRed(sibling.child[deficit])) {
                    sibling.red = true;
                    if (parent.red) {
                        parent.red = false;
                        return;
                    }
                    Node<V> up = parent.parent;
                    if (up == null) {
                        return;
                    }
                    deficit = parent.side();
                    parent = up;
                    continue;
                }
                rotate(sibling, other);
                sibling.red = true;
                sibling = parent.child[other];
                sibling.red = false;
            }
            rotate(parent, deficit);
            sibling.red = parent.red;
            parent.red = false;
            sibling.child[other].red = false;
            return;
        }
    }
}
