package dev.gemulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Every command's help renders as written: picocli passes each description
 * through String.format, and a bare '%' ("40% POS") makes it print a
 * warning on stderr with the text unformatted.
 */
class HelpTextTest {

    private static void collect(CommandLine cl, List<CommandLine> out) {
        out.add(cl);
        for (CommandLine sub : cl.getSubcommands().values()) {
            collect(sub, out);
        }
    }

    /** What rendering the usage help of every command in {@code commands} printed on stderr. */
    private static String warnings(List<CommandLine> commands) {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            for (CommandLine cl : commands) {
                assertFalse(cl.getUsageMessage().isEmpty());
            }
        } finally {
            System.setErr(err);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyCommandsHelpRendersWithoutAWarning() {
        List<CommandLine> commands = new ArrayList<>();
        collect(Main.commandLine(), commands);
        assertTrue(commands.size() >= 15, "only " + commands.size() + " commands");
        assertEquals("", warnings(commands));
    }

    @Command(name = "bad")
    static final class Bad {
        @Option(names = "--x", description = "40% POS")
        int x;
    }

    @Test
    void theCheckSeesABarePercent() {
        assertTrue(warnings(List.of(new CommandLine(new Bad()))).contains("Could not format"));
    }
}
