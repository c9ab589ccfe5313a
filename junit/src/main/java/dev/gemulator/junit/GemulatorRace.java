package dev.gemulator.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test method once per seed against a fresh seeded device: every
 * system call of every thread of the test is interleaved inside the
 * emulated kernel under the seed, the same way every time. The method takes
 * a {@link dev.gemulator.client.ClientProcess} (the process it acts as, its
 * main thread), and may also take the {@link dev.gemulator.client.Gemulator}
 * or a {@link dev.gemulator.client.VirtualClock}; it starts threads with
 * {@link dev.gemulator.client.ClientThread#start}.
 *
 * <pre>{@code
 * @GemulatorRace(seeds = 200, profile = "v3.11")
 * void exportVersusClose(ClientProcess a) {
 *     DrmFd fd = a.open("card0");
 *     ClientThread t = ClientThread.start(a, () -> loop(fd));
 *     loop(fd);
 *     t.join();
 * }
 * }</pre>
 *
 * <p>A seed fails when the kernel's checkers report something (use after
 * free, leak, deadlock...) or when the method throws; the failure names the
 * seed, what was found, and the command that replays the run from its trace
 * (written under {@code target/gemulator-race/}).
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(GemulatorRaceExtension.class)
public @interface GemulatorRace {
    /** How many seeds: firstSeed, firstSeed + 1, ... */
    int seeds() default 100;

    /** The first seed. */
    long firstSeed() default 1;

    /** The kernel profile: "6.x", "v3.11", "seed", "seed-typofix", "3.12". */
    String profile() default "6.x";

    /** The strategy: "random", "pct", "pos". */
    String strategy() default "pos";

    /** PCT's depth d. */
    int pctDepth() default 3;

    /** PCT's step count k (about the number of steps of one run). */
    long pctSteps() default 10_000;

    /** The name of the process the test acts as. */
    String process() default "A";

    /** Seconds of real time one seed may take (a thread that never makes its next call holds the run). */
    long timeoutSeconds() default 60;
}
