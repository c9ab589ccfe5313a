package dev.gemulator.cli;

import dev.gemulator.client.ConnectionLostException;
import dev.gemulator.load.LoadCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The gemulator command line. Every usage or environment error is one line
 * on stderr naming what is wrong and what to do, never a stack trace: exit
 * status 2 for bad options, input or environment (as the commands document
 * theirs), 1 for a bug of gemulator itself ({@code GEMULATOR_DEBUG=1} adds
 * its stack trace).
 */
@Command(name = "gemulator", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "A deterministic emulator of a Linux vgem GPU device (GEM, PRIME, dma-buf, fences).",
        footer = {"", "The launcher (./gemulator) also runs: test (the whole test suite; test --quick: the tests not tagged slow), build, bench [sched|server|fuzz|churn|race].",
            "Shell completion: source <(./gemulator completion)."},
        subcommands = {RunCommand.class, ExploreCommand.class, RaceCommand.class, MergeCommand.class, ReplayCommand.class, TraceCommand.class, ServeCommand.class,
            ClientCommand.class, StatusCommand.class, LoadCommand.class, SoakCommand.class,
            HuntCommand.class, DiffTestCommand.class, DemoCommand.class, CompletionCommand.class,
            CommandLine.HelpCommand.class})
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
        return commandLine().execute(args);
    }

    /** The command line with its error handling: one line per mistake. */
    static CommandLine commandLine() {
        return new CommandLine(new Main()).setUsageHelpWidth(110).setAbbreviatedOptionsAllowed(false)
                .setParameterExceptionHandler(Main::badUsage).setExecutionExceptionHandler(Main::failed);
    }

    /** A bad option or argument: what is wrong, and where the help is. */
    private static int badUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        String name = cl.getCommandSpec().qualifiedName(" ");
        String message = e.getMessage();
        List<String> suggestions = e instanceof CommandLine.UnmatchedArgumentException u
                ? u.getSuggestions() : List.of();
        cl.getErr().println(name + ": " + message + (suggestions.isEmpty() ? "" : " (did you mean "
                + String.join(" or ", suggestions.stream().limit(3).toList()) + "?)") + "; see " + name + " --help");
        cl.getErr().flush();
        return 2;
    }

    /** A command failed: the user's mistake or the environment's in one line; a bug of ours says so. */
    private static int failed(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        String name = cl.getCommandSpec().qualifiedName(" ");
        PrintWriter err = cl.getErr();
        int status;
        if (e instanceof UserError u) {
            err.println(name + ": " + u.getMessage());
            status = u.status();
        } else if (e instanceof ConnectionLostException c) {
            err.println(name + ": " + c.getMessage());
            status = 2;
        } else if (e instanceof IOException || e instanceof UncheckedIOException) {
            err.println(name + ": " + e.getMessage());
            status = 2;
        } else {
            err.println(name + ": internal error (a bug of gemulator, please report it with the command line): " + e);
            if (System.getenv("GEMULATOR_DEBUG") != null) {
                e.printStackTrace(err);
            }
            status = 1;
        }
        err.flush();
        return status;
    }
}
