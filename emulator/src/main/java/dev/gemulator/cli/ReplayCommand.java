package dev.gemulator.cli;

import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code gemulator replay TRACE}: runs the traced scenario again following
 * the trace's own scheduling decisions, and compares the new trace with the
 * recorded one record by record. Exit 0 identical, 1 diverged, 2 bad input.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Re-executes a recorded run from its trace (same scenario, profile, seed and decisions)",
            "and names the first record where the new run differs. Exit 0 identical, 1 diverged."})
public final class ReplayCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "TRACE")
    private Path trace;

    @Override
    public Integer call() {
        List<TraceRecord> recorded;
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(trace))) {
            recorded = TraceRecorder.read(in);
        } catch (IOException e) {
            System.err.println("gemulator: cannot read " + trace + ": " + e.getMessage());
            return 2;
        }
        if (recorded.isEmpty() || !recorded.get(0).hasHeader()) {
            System.err.println("gemulator: " + trace + " is not a trace (no header record)");
            return 2;
        }
        TraceHeader h = recorded.get(0).getHeader();
        if (dev.gemulator.server.seeded.SeededReplay.isSeeded(h)) {
            // a seeded run of real programs: the kernel side again from the recorded requests
            return dev.gemulator.server.seeded.SeededReplay.replay(recorded, System.out, System.err);
        }
        Profile p = Profile.byName(h.getProfile());
        if (p == null) {
            System.err.println("gemulator: the trace's profile '" + h.getProfile() + "' is unknown here");
            return 2;
        }
        String text;
        try {
            text = Files.readString(Path.of(h.getScenarioPath()), StandardCharsets.UTF_8);
        } catch (IOException e) {
            System.err.println("gemulator: cannot read the traced scenario " + h.getScenarioPath() + ": " + e.getMessage());
            return 2;
        }
        if (!Arrays.equals(Traces.sha256(text), h.getScenarioSha256().toByteArray())) {
            System.err.println("gemulator: " + h.getScenarioPath() + " changed since the trace was recorded");
            return 2;
        }
        Script script;
        try {
            script = Parser.parse(h.getScenarioPath(), text);
        } catch (ParseException e) {
            System.err.println("gemulator: " + e.getMessage());
            return 2;
        }
        Traces.Recorded again;
        try {
            again = Traces.run(script, h, p, Traces.replayOptions(recorded));
        } catch (IllegalStateException e) {
            System.out.println("replay diverged: " + e.getMessage());
            return 1;
        }
        int at = Traces.firstDivergence(recorded, again.records());
        if (at < 0) {
            System.out.println("replay identical: " + recorded.size() + " records, sha256 " + again.hash());
            return 0;
        }
        System.out.println("replay diverged at record " + at + ":");
        System.out.println("  expected: " + (at < recorded.size() ? Traces.show(recorded.get(at)).strip() : "(end of trace)"));
        System.out.println("  actual:   " + (at < again.records().size() ? Traces.show(again.records().get(at)).strip()
                : "(end of run)"));
        return 1;
    }
}
