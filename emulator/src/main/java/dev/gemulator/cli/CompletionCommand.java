package dev.gemulator.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/**
 * {@code gemulator completion}: picocli's bash (and zsh) completion script
 * for every command and option, the launcher's own commands included.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = {"Prints a bash/zsh completion script for every command and option: source <(./gemulator completion).",
            "Put that line in ~/.bashrc to have it in every shell."})
public final class CompletionCommand implements Callable<Integer> {

    /** The launcher's own commands (./gemulator), which the emulator's command line does not run. */
    static final String[][] LAUNCHER = {
        {"test", "build everything and run the whole test suite (Maven verify; --quick: the tests not tagged slow)"},
        {"build", "build now (the launcher also builds by itself when a source changed)"},
    };

    @Override
    public Integer call() {
        System.out.print(script());
        return 0;
    }

    /** The completion script. */
    static String script() {
        CommandLine cl = Main.commandLine();
        for (String[] c : LAUNCHER) {
            CommandSpec spec = CommandSpec.create().name(c[0]).mixinStandardHelpOptions(true);
            if (c[0].equals("test")) {
                spec.addOption(OptionSpec.builder("--quick").description("the tests not tagged slow only").build());
            }
            cl.addSubcommand(c[0], spec);
        }
        cl.addSubcommand("bench", new CommandLine(CommandSpec.create().name("bench"))
                .addSubcommand("sched", CommandSpec.create()).addSubcommand("server", CommandSpec.create())
                .addSubcommand("fuzz", CommandSpec.create()).addSubcommand("churn", CommandSpec.create()));
        return AutoComplete.bash("gemulator", cl);
    }
}
