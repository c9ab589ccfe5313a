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
    static final class Node<V> {
        final long key;
        final V value;
        Node<V> left;
        Node<V> right;
        Node<V> parent;
        boolean red;

        Node(long key, V value) {
            this.key = key;
            this.value = value;
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
        boolean right = false;
        while (cur != null) {
            parent = cur;
            right = key > cur.key;
            cur = right ? cur.right : cur.left;
        }
        n.parent = parent;
        if (parent == null) {
            root = n;
        } else if (right) {
            parent.right = n;
        } else {
            parent.left = n;
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
            cur = cur.key < key ? cur.right : cur.left;
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
            walk(n.left, out);
            out.add(n.value);
            walk(n.right, out);
        }
    }

    private static boolean isRed(Node<?> n) {
        return n != null && n.red;
    }

    private void rotateLeft(Node<V> x) {
        Node<V> y = x.right;
        x.right = y.left;
        if (y.left != null) {
            y.left.parent = x;
        }
        replaceChild(x, y);
        y.left = x;
        x.parent = y;
    }

    private void rotateRight(Node<V> x) {
        Node<V> y = x.left;
        x.left = y.right;
        if (y.right != null) {
            y.right.parent = x;
        }
        replaceChild(x, y);
        y.right = x;
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
        } else if (p.left == x) {
            p.left = y;
        } else {
            p.right = y;
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
            if (parent == gparent.left) {
                Node<V> uncle = gparent.right;
                if (isRed(uncle)) {
                    uncle.red = false;
                    parent.red = false;
                    gparent.red = true;
                    node = gparent;
                    continue;
                }
                if (node == parent.right) {
                    rotateLeft(parent);
                    parent = node;
                }
                rotateRight(gparent);
                parent.red = false;
                gparent.red = true;
                return;
            } else {
                Node<V> uncle = gparent.left;
                if (isRed(uncle)) {
                    uncle.red = false;
                    parent.red = false;
                    gparent.red = true;
                    node = gparent;
                    continue;
                }
                if (node == parent.left) {
                    rotateRight(parent);
                    parent = node;
                }
                rotateLeft(gparent);
                parent.red = false;
                gparent.red = true;
                return;
            }
        }
    }

    /** rb_erase. */
    void erase(Node<V> node) {
        Node<V> rebalance;
        boolean deficitLeft;
        if (node.left == null || node.right == null) {
            Node<V> child = node.left != null ? node.left : node.right;
            Node<V> parent = node.parent;
            deficitLeft = parent != null && parent.left == node;
            replaceChild(node, child);
            if (child != null) {
                child.red = node.red;
                rebalance = null;
            } else {
                rebalance = node.red ? null : parent;
            }
        } else {
            Node<V> successor = node.right;
            Node<V> parent;
            Node<V> child2;
            if (successor.left == null) {
                parent = successor;
                child2 = successor.right;
                deficitLeft = false;
            } else {
                do {
                    parent = successor;
                    successor = successor.left;
                } while (successor.left != null);
                child2 = successor.right;
                parent.left = child2;
                if (child2 != null) {
                    child2.parent = parent;
                }
                successor.right = node.right;
                node.right.parent = successor;
                deficitLeft = true;
            }
            successor.left = node.left;
            node.left.parent = successor;
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
        node.left = node.right = node.parent = null;
        if (rebalance != null) {
            eraseColor(rebalance, deficitLeft);
        }
    }

    /** ____rb_erase_color: one black is missing below {@code parent} on the given side. */
    private void eraseColor(Node<V> parent, boolean deficitLeft) {
        while (true) {
            if (deficitLeft) {
                Node<V> sibling = parent.right;
                if (sibling.red) {
                    rotateLeft(parent);
                    sibling.red = false;
                    parent.red = true;
                    sibling = parent.right;
                }
                if (!isRed(sibling.right)) {
                    if (!isRed(sibling.left)) {
                        sibling.red = true;
                        if (parent.red) {
                            parent.red = false;
                            return;
                        }
                        Node<V> up = parent.parent;
                        if (up == null) {
                            return;
                        }
                        deficitLeft = up.left == parent;
                        parent = up;
                        continue;
                    }
                    rotateRight(sibling);
                    sibling.red = true;
                    sibling = parent.right;
                    sibling.red = false;
                }
                rotateLeft(parent);
                sibling.red = parent.red;
                parent.red = false;
                sibling.right.red = false;
                return;
            } else {
                Node<V> sibling = parent.left;
                if (sibling.red) {
                    rotateRight(parent);
                    sibling.red = false;
                    parent.red = true;
                    sibling = parent.left;
                }
                if (!isRed(sibling.left)) {
                    if (!isRed(sibling.right)) {
                        sibling.red = true;
                        if (parent.red) {
                            parent.red = false;
                            return;
                        }
                        Node<V> up = parent.parent;
                        if (up == null) {
                            return;
                        }
                        deficitLeft = up.left == parent;
                        parent = up;
                        continue;
                    }
                    rotateLeft(sibling);
                    sibling.red = true;
                    sibling = parent.left;
                    sibling.red = false;
                }
                rotateRight(parent);
                sibling.red = parent.red;
                parent.red = false;
                sibling.left.red = false;
                return;
            }
        }
    }
}
