package dev.gemulator.cli;

import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import picocli.CommandLine.Option;

/** The options that choose the kernel and tune PCT, shared by run and explore. */
final class ScheduleOptions {

    @Option(names = "--profile", defaultValue = "6.x",
            description = "kernel profile: 6.x, v3.11, seed, seed-typofix, 3.12 (default: ${DEFAULT-VALUE})")
    String profile;

    @Option(names = "--pct-depth", defaultValue = "3", description = "PCT's bug depth d (default: ${DEFAULT-VALUE})")
    int pctDepth;

    @Option(names = "--pct-steps", defaultValue = "0",
            description = "PCT's step count k (default: measured with one random run)")
    long pctSteps;

    /** The numbers are in range, or a usage error says which is not. */
    void check() {
        UserError.check(pctDepth >= 1, "--pct-depth wants at least 1, not " + pctDepth);
        UserError.check(pctSteps >= 0, "--pct-steps wants 0 (measure it) or more, not " + pctSteps);
    }

    /** The chosen profile, or null after saying on stderr that it is unknown. */
    Profile resolveProfile() {
        Profile p = Profile.byName(profile);
        if (p == null) {
            throw new UserError("unknown kernel profile '" + profile + "' (known: " + Profile.names() + ")");
        }
        return p;
    }

    /** PCT's k: as given, or measured with one random run of the scenario. */
    long pctSteps(Script script, Profile p, Strategy.Name strategy) {
        if (strategy == Strategy.Name.PCT && pctSteps <= 0) {
            pctSteps = Runner.measureSteps(script, p);
        }
        return pctSteps;
    }
}
