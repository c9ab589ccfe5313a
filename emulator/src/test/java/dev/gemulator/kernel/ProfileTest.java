package dev.gemulator.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.Traces;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every switch point of a profile is read where the versions differ: flipping
 * it alone, to each of its other values, changes the trace of a scenario that
 * goes through that place.
 */
class ProfileTest {
    /** A scenario that goes through the place where a switch point is read, and the profile it starts from. */
    private record Case(Profile base, String scenario) {
    }

    private static final String CLOSE = """
            A: open card0 -> $fd
            A: create_dumb $fd 4 4 32 -> $h
            A: gem_close $fd $h
            """;
    private static final String NAMES = """
            A: open card0 -> $fd
            A: create_dumb $fd 4 4 32 -> $h
            A: flink $fd $h -> $n
            A: gem_open $fd $n -> $h2 $size
            A: gem_close $fd $h
            A: gem_close $fd $h2
            """;
    private static final String EXPORT = """
            A: open card0 -> $fd
            A: open card0 -> $fd2
            A: create_dumb $fd 4 4 32 -> $h
            A: handle_to_fd $fd $h 0 -> $d
            A: fd_to_handle $fd2 $d -> $h2
            A: fd_to_handle $fd2 $d -> $h3
            A: close $d
            A: gem_close $fd $h
            A: gem_close $fd2 $h2
            """;
    /** Two handles of one file registered for one dma-buf: which one an import finds depends on the cache's structure. */
    private static final String TWO_MEMBERS = """
            A: open card0 -> $fd
            A: create_dumb $fd 4 4 32 -> $h
            A: flink $fd $h -> $n
            A: gem_open $fd $n -> $h2 $size
            A: handle_to_fd $fd $h 0 -> $d
            A: handle_to_fd $fd $h2 0 -> $d2
            A: fd_to_handle $fd $d -> $back
            """;
    /** A failed import under the seed commit: out_unlock is reached. */
    private static final String FAILED_IMPORT = """
            A: open card0 -> $fd
            A: foreign_dmabuf 4096 -> $d
            A: inject dma_buf_attach 1
            A: fd_to_handle $fd $d !ENOMEM
            """;
    /**
     * 3.11 leaves a cache member at close here: the failed import puts the
     * dma-buf once too often (v3.11/f2h_handle_enomem.gem), so closing its
     * two fds releases it, which clears the link the close's cache removal
     * goes by.
     */
    private static final String STALE_MEMBER = """
            A: open card0 -> $fd1
            A: open card0 -> $fd2
            A: create_dumb $fd1 4 4 32 -> $h
            A: handle_to_fd $fd1 $h 0 -> $d
            A: dup $d -> $d2
            A: inject drm_gem_handle_create 1
            A: fd_to_handle $fd2 $d !ENOMEM
            A: close $d
            A: close $d2
            A: close $fd1
            """;

    /** An exit that releases two files: the order of their releases. */
    private static final String EXIT = """
            A: open card0 -> $fd
            A: open card0 -> $fd2
            A: exit
            """;

    private static final Map<Class<? extends Enum<?>>, Case> CASES = new LinkedHashMap<>();

    static {
        CASES.put(Profile.HandleCount.class, new Case(Profile.MODERN, CLOSE));
        CASES.put(Profile.HandlePublication.class, new Case(Profile.MODERN, CLOSE));
        CASES.put(Profile.HandleDelete.class, new Case(Profile.MODERN, CLOSE));
        CASES.put(Profile.Flink.class, new Case(Profile.MODERN, NAMES));
        CASES.put(Profile.NameRef.class, new Case(Profile.MODERN, NAMES));
        CASES.put(Profile.GemOpen.class, new Case(Profile.MODERN, NAMES));
        CASES.put(Profile.GemOpenSize.class, new Case(Profile.MODERN, NAMES));
        CASES.put(Profile.LinkKind.class, new Case(Profile.MODERN, EXPORT));
        CASES.put(Profile.HandleToFd.class, new Case(Profile.MODERN, EXPORT));
        CASES.put(Profile.FdToHandle.class, new Case(Profile.MODERN, EXPORT));
        CASES.put(Profile.OutUnlock.class, new Case(Profile.SEED, FAILED_IMPORT));
        CASES.put(Profile.CacheRemoval.class, new Case(Profile.MODERN, EXPORT));
        CASES.put(Profile.CacheDestructor.class, new Case(Profile.V3_11, STALE_MEMBER));
        CASES.put(Profile.HandleRefs.class, new Case(Profile.MODERN, NAMES));
        CASES.put(Profile.Permissions.class, new Case(Profile.MODERN, "A: open render0 -> $fd\n"));
        CASES.put(Profile.CacheIndex.class, new Case(Profile.MODERN, TWO_MEMBERS));
        CASES.put(Profile.NameLock.class, new Case(Profile.MODERN, NAMES));
        CASES.put(Profile.TaskWorkOrder.class, new Case(Profile.MODERN, EXIT));
    }

    private static String traceHash(Profile p, String text) throws Exception {
        Script s = Parser.parse("flip.gem", text);
        Runner.RunOptions o = new Runner.RunOptions(1, Strategy.Name.RANDOM, 3, 1000);
        return Traces.run(s, Traces.header("flip.gem", text, p, o), p, o).hash();
    }

    @Test
    void everySwitchPointHasAScenarioThatGoesThroughIt() {
        assertEquals(Profile.switchPoints(), new ArrayList<>(CASES.keySet()));
    }

    @Test
    void flippingOneSwitchPointAloneChangesTheTraceOfItsScenario() throws Exception {
        List<String> unchanged = new ArrayList<>();
        for (var e : CASES.entrySet()) {
            Case c = e.getValue();
            String before = traceHash(c.base(), c.scenario());
            Enum<?> current = c.base().get(e.getKey());
            for (Enum<?> value : e.getKey().getEnumConstants()) {
                if (value == current) {
                    continue;
                }
                Profile flipped = c.base().with(value);
                assertSame(value, flipped.get(e.getKey()));
                if (before.equals(traceHash(flipped, c.scenario()))) {
                    unchanged.add(e.getKey().getSimpleName() + " " + current + " -> " + value);
                }
            }
        }
        assertEquals(List.of(), unchanged, "switch points whose flip changes nothing");
    }

    @Test
    void aWitherChangesOnlyItsOwnSwitchPoint() {
        Profile p = Profile.SEED.with(Profile.OutUnlock.UNLOCKS);
        for (Class<? extends Enum<?>> t : Profile.switchPoints()) {
            if (t != Profile.OutUnlock.class) {
                assertSame(Profile.SEED.get(t), p.get(t), t.getSimpleName());
            }
        }
        assertEquals(Profile.SEED_TYPOFIX.name(), "seed-typofix");
        assertEquals(p, Profile.SEED_TYPOFIX.named("seed", Profile.SEED.description()));
        assertNotEquals(Profile.SEED, p);
        assertThrows(IllegalArgumentException.class, () -> Profile.MODERN.with(StepKind.LOCK));
    }

    @Test
    void theProfilesDifferFromEachOther() {
        for (Profile a : Profile.ALL) {
            for (Profile b : Profile.ALL) {
                if (a != b) {
                    assertFalse(a.named("x", "").equals(b.named("x", "")), a.name() + " vs " + b.name());
                }
            }
        }
        assertTrue(Profile.switchPoints().size() >= 17);
    }
}
