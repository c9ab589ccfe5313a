package dev.gemulator.cli;

import dev.gemulator.explore.Shard;
import picocli.CommandLine.Option;

/**
 * The options of a command whose work splits into shards that gemulator
 * merge joins again, shared by explore and race: which shard, the exit
 * status of a shard that found something, and the text without its timing.
 */
final class ShardOptions {

    @Option(names = "--shard", paramLabel = "I/N",
            description = "run shard I of N (0 <= I < N) of the seeds (explore's dfs: of the schedule tree); I may be "
                + "$(VAR), read from the environment (JOB_COMPLETION_INDEX in a Kubernetes Indexed Job); with --json, "
                + "gemulator merge joins the shards into what one whole run prints")
    private String shardText;

    @Option(names = "--found-exit-status", paramLabel = "N", defaultValue = "3",
            description = "the exit status when something was found (default: ${DEFAULT-VALUE}; 0 for a shard in a Job, "
                + "whose findings are in its results)")
    private int foundStatus;

    @Option(names = "--no-timing", description = "leave the timing out of the text (to compare runs; merge prints none)")
    private boolean noTiming;

    /** The numbers are in range, or a usage error says which is not. */
    void check() {
        UserError.check(foundStatus >= 0 && foundStatus <= 255, "--found-exit-status wants 0 to 255, not " + foundStatus);
    }

    boolean sharded() {
        return shardText != null;
    }

    /** The --shard option, or null for the whole run; a malformed one is a usage error. */
    Shard shard() {
        if (shardText == null) {
            return null;
        }
        try {
            return Shard.parse(shardText, System.getenv());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** The command's exit status: 0, or --found-exit-status when something was found. */
    int exitStatus(boolean found) {
        return found ? foundStatus : 0;
    }

    /** Whether the text shows the run's timing. */
    boolean timing() {
        return !noTiming;
    }
}
