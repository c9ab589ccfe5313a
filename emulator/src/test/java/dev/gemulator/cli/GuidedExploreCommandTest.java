package dev.gemulator.cli;

import static dev.gemulator.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Cli.Ran;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code explore --guided}: the same command prints the same bytes, and a mutated schedule's finding replays. */
class GuidedExploreCommandTest {
    @TempDir
    Path dir;

    @Test
    void theSameGuidedCommandPrintsTheSameBytesWithAnyJobsAndItsMutantsFindingsReplay() {
        String gem = Path.of(System.getProperty("gemulator.repo", ".."), "scenarios", "v3.11", "l_flink.gem").toString();
        String[] args = {"explore", gem, "--profile", "v3.11", "--strategy", "random", "--guided", "--schedules", "600",
            "--seed", "7000", "--no-timing", "--out", dir.toString(), "--jobs", "1"};
        Ran one = run(args);
        args[args.length - 1] = "2";
        Ran two = run(args);
        assertEquals(3, one.status(), one.err());
        assertEquals(one.out(), two.out());
        assertTrue(one.out().contains("\nguided: "), one.out());
        Matcher m = Pattern.compile("replay: \\./gemulator replay (\\S+\\.guided\\.\\S+\\.trace)").matcher(one.out());
        assertTrue(m.find(), "a finding first shown by a mutated schedule: " + one.out());
        Ran replay = run("replay", m.group(1));
        assertEquals(0, replay.status(), replay.out() + replay.err());
        assertTrue(replay.out().contains("replay identical"), replay.out());
    }
}
