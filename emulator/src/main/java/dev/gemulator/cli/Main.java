package dev.gemulator.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The gemulator command line. */
@Command(name = "gemulator", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "A deterministic emulator of a Linux vgem GPU device (GEM, PRIME, dma-buf, fences).",
        subcommands = {RunCommand.class, ExploreCommand.class, ReplayCommand.class, TraceCommand.class, ServeCommand.class,
            ClientCommand.class, StatusCommand.class, SoakCommand.class, HuntCommand.class, DiffTestCommand.class,
            DemoCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit status (usage errors: 2). */
    public static int execute(String... args) {
        return new CommandLine(new Main()).setUsageHelpWidth(110).execute(args);
    }
}
