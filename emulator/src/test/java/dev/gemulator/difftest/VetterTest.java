package dev.gemulator.difftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * The vetting rules: each non-reproducible situation is caught at its
 * statement, and the rewrite makes the scenario clean.
 */
class VetterTest {

    private static Scenario scenario(String text) {
        return Scenario.parse(text);
    }

    @Test
    void aSyncThatWaitsForAPendingFenceIsCaughtAndBecomesItsEndForm() {
        Scenario s = scenario("""
                A: open card0 -> $fd
                A: create_dumb $fd 1 1 8 -> $h $p $s
                A: handle_to_fd $fd $h RDWR -> $d
                A: fence_attach $fd $h WRITE -> $f
                A: sync $d START|READ
                A: fence_signal $fd $f
                """);
        Vetter.Violation v = Vetter.run(s).violation();
        assertNotNull(v);
        assertEquals(Vetter.Rule.FENCE_WAIT, v.rule());
        assertEquals(4, v.index());
        Scenario vetted = Vetter.vetted(s);
        assertEquals("A: sync $d END|READ", vetted.lines().get(4).text());
        assertNull(Vetter.run(vetted).violation());
        // after the fence is signalled, START does not wait
        assertNull(Vetter.run(scenario("""
                A: open card0 -> $fd
                A: create_dumb $fd 1 1 8 -> $h $p $s
                A: handle_to_fd $fd $h RDWR -> $d
                A: fence_attach $fd $h 0 -> $f
                A: sync $d START|READ
                A: fence_signal $fd $f
                A: sync $d START|RW
                """)).violation(), "a read fence does not hold up a reader");
    }

    @Test
    void anFdToHandleThatDependsOnKernelPointerOrderIsCaught() {
        // two handles of one file registered for one dma-buf, and another dma-buf in the cache
        String prefix = """
                A: open card0 -> $fd
                A: create_dumb $fd 1 1 8 -> $h1 $p1 $s1
                A: flink $fd $h1 -> $n
                A: gem_open $fd $n -> $h2 $s2
                A: handle_to_fd $fd $h1 RDWR -> $d
                A: handle_to_fd $fd $h2 RDWR -> $e
                """;
        assertNull(Vetter.run(scenario(prefix + "A: fd_to_handle $fd $d -> $x\n")).violation(),
                "one dma-buf in the cache: the tree's shape is reproducible");
        Scenario s = scenario(prefix + """
                A: create_dumb $fd 1 1 8 -> $h3 $p3 $s3
                A: handle_to_fd $fd $h3 RDWR -> $g
                A: fd_to_handle $fd $g -> $y
                A: fd_to_handle $fd $d -> $x
                """);
        Vetter.Violation v = Vetter.run(s).violation();
        assertNotNull(v);
        assertEquals(Vetter.Rule.POINTER_ORDER_LOOKUP, v.rule());
        assertEquals(9, v.index(), "the lookup of the dma-buf with one member is exact");
        assertEquals("A: fd_to_handle -1 $d -> $x", Vetter.vetted(s).lines().get(9).text());
    }

    @Test
    void aSetMasterOfAFileHoldingAMagicIsCaught() {
        Scenario s = scenario("""
                A: open card0 -> $m
                A: open card0 -> $fd
                A: get_magic $fd -> $g
                A: drop_master $m
                A: set_master $fd
                """);
        Vetter.Violation v = Vetter.run(s).violation();
        assertNotNull(v);
        assertEquals(Vetter.Rule.MAGIC_SET_MASTER, v.rule());
        assertEquals(4, v.index());
        assertNull(Vetter.run(scenario("""
                A: open card0 -> $m
                A: open card0 -> $fd
                A: drop_master $m
                A: set_master $fd
                A: get_magic $fd -> $g
                """)).violation(), "a magic taken after the set_master is in the new master's table");
    }

    @Test
    void mappingALargeObjectOrTooMuchInAllIsCaught() {
        Scenario big = scenario("""
                A: open card0 -> $fd
                A: create_dumb $fd 65536 65535 8 -> $h $p $s
                A: map_dumb $fd $h -> $o
                A: mmap $fd $o 4096 -> $m
                """);
        Vetter.Violation v = Vetter.run(big).violation();
        assertNotNull(v);
        assertEquals(Vetter.Rule.PINNED_MEMORY, v.rule());
        assertEquals("A: mmap -1 $o 4096 -> $m", Vetter.vetted(big).lines().get(3).text());
        StringBuilder many = new StringBuilder("A: open card0 -> $fd\n");
        for (int i = 0; i < 5; i++) {
            many.append("A: create_dumb $fd 4096 2048 32 -> $h").append(i).append(" $p").append(i).append(" $s")
                    .append(i).append('\n');
            many.append("A: map_dumb $fd $h").append(i).append(" -> $o").append(i).append('\n');
            many.append("A: mmap $fd $o").append(i).append(" 4096 -> $m").append(i).append('\n');
        }
        v = Vetter.run(scenario(many.toString())).violation();
        assertNotNull(v, "five mapped objects of 32 MiB");
        assertEquals(Vetter.Rule.PINNED_MEMORY, v.rule());
        assertEquals(15, v.index());
        assertNull(Vetter.run(scenario(many.toString().replace("A: mmap $fd $o4 4096 -> $m4\n", "A: gem_close $fd $h0\n"
                + "A: munmap $m0\nA: mmap $fd $o4 4096 -> $m4\n"))).violation(), "a freed object's pages are back");
    }
}
