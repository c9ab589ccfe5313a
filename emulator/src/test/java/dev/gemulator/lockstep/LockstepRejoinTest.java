package dev.gemulator.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.KillSoak;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A lockstep run survives its clients being killed (SIGKILL) and started
 * again, over and over ({@link KillSoak}): a killed process is gone for the
 * rest of the iteration, its restarted client joins at the next iteration
 * boundary however late it comes, and every iteration from there on has the
 * trace hash the undisturbed run gives for its seed. Here 250 iterations
 * with 5 kills, cold and warm restarts, placed in iterations (the soak
 * holds the run at a boundary while a restart starts, so a loaded machine
 * changes nothing; -Dgemulator.rejoin.iterations and -Dgemulator.rejoin.kills
 * change them); {@code ./gemulator bench rejoin} runs 1,000 with 20.
 */
@Tag("slow")
class LockstepRejoinTest {
    static final int ITERATIONS = Integer.getInteger("gemulator.rejoin.iterations", 250);
    static final int KILLS = Integer.getInteger("gemulator.rejoin.kills", 5);

    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    @Test
    void aRunWhoseClientsAreKilledAndRestartedAgainAndAgainMatchesTheUndisturbedRunAfterEveryRejoin() throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        var config = new KillSoak.Config(Path.of(System.getProperty("gemulator.repo", "..")), ITERATIONS, KILLS,
                List.of(javaBin, "-XX:TieredStopAtLevel=1", "-cp", classPath(), "dev.gemulator.cli.Main"));
        KillSoak.Outcome out = KillSoak.run(config, System.out);
        KillSoak.Verdict v = KillSoak.compare(config, out);
        int kills = out.kills().size();
        System.out.printf(Locale.ROOT, "rejoin: %d iterations, %d kills and restarts: %d compared with the"
                + " undisturbed run, %d matched, %d in kill windows (%.1f iterations each), %.0f s%n", ITERATIONS, kills,
                v.compared(), v.matched(), v.inWindows(), v.inWindows() / (double) kills, out.seconds());
        assertEquals(KILLS, kills, "kills made");
        assertEquals(ITERATIONS, out.iterations().size(), "every iteration ran");
        assertEquals(List.of(), v.mismatches(), "iterations outside the kill windows that differ");
        assertTrue(v.compared() >= 2 * kills, "iterations outside the kill windows: " + v.compared());
        int last = out.iterations().getLast().exitStatus();
        assertTrue(last == 0 || last == 3, "the last iteration ran with both processes: exit " + last);
    }
}
