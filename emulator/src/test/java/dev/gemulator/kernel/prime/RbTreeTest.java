package dev.gemulator.kernel.prime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The PRIME cache's red-black tree keeps the red-black invariants and the kernel's equal-key order. */
@Tag("slow")
class RbTreeTest {

    @SuppressWarnings("unchecked")
    private static <V> RbTree.Node<V> root(RbTree<V> t) throws Exception {
        Field f = RbTree.class.getDeclaredField("root");
        f.setAccessible(true);
        return (RbTree.Node<V>) f.get(t);
    }

    /** Returns the black height; fails on a red node with a red child or unequal black heights. */
    private static int check(RbTree.Node<?> n, RbTree.Node<?> parent) {
        if (n == null) {
            return 1;
        }
        assertEquals(parent, n.parent, "parent link");
        if (n.red) {
            assertFalse(n.left() != null && n.left().red, "red node with a red child");
            assertFalse(n.right() != null && n.right().red, "red node with a red child");
        }
        if (n.left() != null) {
            assertTrue(n.left().key <= n.key, "order");
        }
        if (n.right() != null) {
            assertTrue(n.right().key >= n.key, "order");
        }
        int l = check(n.left(), n);
        int r = check(n.right(), n);
        assertEquals(l, r, "black heights");
        return l + (n.red ? 0 : 1);
    }

    @Test
    void randomInsertsAndErasesKeepTheRedBlackInvariants() throws Exception {
        long seed = 20261124L;
        System.out.println("seed " + seed);
        Random rnd = new Random(seed);
        RbTree<Integer> t = new RbTree<>();
        List<RbTree.Node<Integer>> live = new ArrayList<>();
        for (int step = 0; step < 20_000; step++) {
            if (live.isEmpty() || rnd.nextInt(3) != 0) {
                live.add(t.insert(rnd.nextInt(8), step));
            } else {
                t.erase(live.remove(rnd.nextInt(live.size())));
            }
            RbTree.Node<Integer> root = root(t);
            assertFalse(root != null && root.red, "red root");
            check(root, null);
            assertEquals(live.size(), t.size());
        }
    }

    @Test
    void withOneKeyTheLookupFindsWhatTheKernelFinds() {
        RbTree<Integer> t = new RbTree<>();
        List<RbTree.Node<Integer>> nodes = new ArrayList<>();
        for (int h = 1; h <= 7; h++) {
            nodes.add(t.insert(42, h));
        }
        assertEquals(2, t.find(42).value);
        t.erase(nodes.get(1));
        assertEquals(4, t.find(42).value);
        t.erase(nodes.get(3));
        assertEquals(3, t.find(42).value);
    }
}
