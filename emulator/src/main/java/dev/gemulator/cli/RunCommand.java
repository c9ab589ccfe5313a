package dev.gemulator.cli;

import dev.gemulator.Machine;
import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gemulator run FILE.gem}: runs a scenario and prints the contract output. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs a gemscript scenario on a fresh emulated device and prints its contract output.",
            "One line per statement (LINE PROC OP ok VALUES, or err ERRNO), the checkers' reports and the expectations "
            + "summary, as docs/gemscript.md lays them out. Statements in par blocks interleave under a seeded strategy: "
            + "the same seed gives the same interleaving, output and trace.",
            "Exit status: 0 all expectations held, 1 one failed, 2 the file cannot be read or parsed (or a bad option), "
            + "3 a checker reported a kernel bug."})
public final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE.gem", description = "the scenario")
    private Path file;

    @Mixin
    private ScheduleOptions kernel;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the interleaving of par blocks (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--strategy", defaultValue = "random",
            description = "how par threads interleave: random, pct, pos, conflict (default: ${DEFAULT-VALUE})")
    private String strategy;

    @Option(names = "--trace", paramLabel = "OUT", description = "write the run's trace (length-delimited protobuf) to OUT")
    private Path traceOut;

    @Override
    public Integer call() throws IOException {
        Profile p = kernel.resolveProfile();
        if (p == null) {
            return 2;
        }
        kernel.check();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            System.err.println("gemulator: " + UserError.cannotRead(file, e));
            return 2;
        }
        Strategy.Name name;
        try {
            name = Strategy.Name.parse(strategy, List.of());
        } catch (IllegalArgumentException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        }
        Script script;
        try {
            script = Parser.parse(file.toString(), text);
        } catch (ParseException e) {
            System.err.println("gemulator: " + e.getMessage());
            return Runner.PARSE_ERROR;
        }
        OutputStream traceFile = traceOut == null ? null : UserError.create(traceOut, "--trace");
        Runner.RunOptions options = new Runner.RunOptions(seed, name, kernel.pctDepth,
                kernel.pctSteps(script, p, name));
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false,
                StandardCharsets.UTF_8);
        try {
            if (traceOut == null) {
                return new Runner(new Machine(p), out, options).run(script);
            }
            Traces.Recorded rec = Traces.run(script, Traces.header(file.toString(), text, p, options), p, options, out);
            out.flush();
            try (var os = new BufferedOutputStream(traceFile)) {
                TraceRecorder.write(rec.records(), os);
            }
            System.err.println("gemulator: trace of " + rec.records().size() + " records written to " + traceOut
                    + " (sha256 " + rec.hash() + ")");
            return rec.exitStatus();
        } finally {
            out.flush();
        }
    }
}
