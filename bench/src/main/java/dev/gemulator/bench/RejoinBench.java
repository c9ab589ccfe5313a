package dev.gemulator.bench;

import dev.gemulator.cli.KillSoak;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./gemulator bench rejoin [--iterations N] [--kills K]}: the lockstep
 * kill-and-restart soak ({@link KillSoak}) at its full size, 1,000
 * iterations with 20 kills (the test suite runs 250 with 5): every kill and
 * when its restart came back, then how many iterations outside the kill
 * windows have the undisturbed run's trace hash.
 */
final class RejoinBench {
    private RejoinBench() {
    }

    public static void main(String[] args) throws Exception {
        int iterations = 1000;
        int kills = 20;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--iterations" -> iterations = Integer.parseInt(args[i + 1]);
                case "--kills" -> kills = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        var config = new KillSoak.Config(Path.of(System.getProperty("gemulator.repo", ".")), iterations, kills,
                List.of(java, "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-cp",
                        System.getProperty("java.class.path"), "dev.gemulator.cli.Main"));
        System.out.printf(Locale.ROOT, "lockstep rejoin soak: %s, %d iterations, %d kills (SIGKILL) and restarts%n",
                KillSoak.SCENARIO, iterations, kills);
        KillSoak.Outcome out = KillSoak.run(config, System.out);
        KillSoak.Verdict v = KillSoak.compare(config, out);
        System.out.printf(Locale.ROOT, "%d iterations in %.0f s; %d in kill windows (%.1f each: from the kill to the"
                + " restart's join); %d compared with the undisturbed run, %d matched%n", out.iterations().size(),
                out.seconds(), v.inWindows(), v.inWindows() / (double) kills, v.compared(), v.matched());
        if (!v.mismatches().isEmpty()) {
            System.out.println("MISMATCHES: " + v.mismatches());
        }
    }
}
