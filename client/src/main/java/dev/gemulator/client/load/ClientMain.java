package dev.gemulator.client.load;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The client jar's command line: {@code java -jar gemulator-client.jar load ...}. */
@Command(name = "gemulator", mixinStandardHelpOptions = true, subcommands = LoadCommand.class,
        description = "Client tools of gemulator.")
public final class ClientMain implements Runnable {
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
        return new CommandLine(new ClientMain()).setUsageHelpWidth(110).execute(args);
    }
}
