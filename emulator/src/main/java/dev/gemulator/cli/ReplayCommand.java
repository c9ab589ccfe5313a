package dev.gemulator.cli;

import dev.gemulator.gemscript.ParseException;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceHeader;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.server.seeded.SeededReplay;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.trace.Traces;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gemulator replay TRACE}: runs the traced scenario again following
 * the trace's own scheduling decisions, and compares the new trace with the
 * recorded one record by record. Exit 0 identical, 1 diverged, 2 bad input.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Re-executes a recorded run from its trace and names the first record where the new run differs.",
            "The trace names its scenario (read again from the path it was recorded with, which must not have changed), "
            + "profile, seed, strategy and every scheduling decision.",
            "Exit status: 0 identical, 1 diverged, 2 not a trace, or its scenario is missing or changed."})
public final class ReplayCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "TRACE")
    private Path trace;

    @Option(names = "--profile", paramLabel = "P", description = "a seeded run's trace (race --trace): re-execute it "
            + "under kernel profile P instead of its own, and name the first record where the kernel side differs")
    private String profile;

    @Override
    public Integer call() {
        List<TraceRecord> recorded;
        TraceRecorder.ReadBack back;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(trace))) {
            back = TraceRecorder.readCutOff(in);
        } catch (IOException e) {
            throw new UserError(UserError.cannotRead(trace, e));
        }
        recorded = back.records();
        if (back.corruption() != null) {
            throw new UserError(trace + " is corrupt: " + back.corruption());
        }
        if (recorded.isEmpty() || !recorded.get(0).hasHeader()) {
            throw new UserError(trace + " is not a gemulator trace (it does not start with a trace header; "
                    + "traces come from run --trace, serve --trace, status --trace and explore --shrink)");
        }
        if (!back.ended()) {
            throw new UserError(trace + " stops after " + recorded.size() + " records without its end (its writer was "
                    + "stopped): trace show and trace html read it, replay needs a whole run");
        }
        TraceHeader h = recorded.get(0).getHeader();
        if (SeededReplay.isSeeded(h)) {
            // a seeded run of real programs: the kernel side again from the recorded requests
            return SeededReplay.replay(recorded, profile, System.out, System.err);
        }
        if (profile != null) {
            throw new UserError("--profile replays a seeded run's trace (race --trace) under another profile; "
                    + trace + " is a scenario's: run the scenario with --profile instead");
        }
        if (h.getFormatVersion() != Traces.FORMAT_VERSION) {
            throw new UserError(trace + " was written in trace format " + h.getFormatVersion() + " (" + h.getEmulatorVersion()
                    + "); this gemulator writes format " + Traces.FORMAT_VERSION + " and replays only that: record the run "
                    + "again (trace show, html and perfetto still read it)");
        }
        Profile p = Profile.byName(h.getProfile());
        if (p == null) {
            throw new UserError("the trace's profile '" + h.getProfile() + "' is unknown here (known: "
                    + Profile.names() + ")");
        }
        if (h.getStrategy().equals("arrival")) {
            throw new UserError(trace + " is a free-running server's trace: requests ran in arrival order, so there is "
                    + "no schedule to replay (trace show, trace html and trace perfetto read it)");
        }
        String text;
        try {
            text = Files.readString(Path.of(h.getScenarioPath()), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserError("cannot read the traced scenario " + h.getScenarioPath() + " (replay from the directory "
                    + "the run was recorded in): " + (e instanceof NoSuchFileException ? "no such file"
                            : e.getMessage()));
        }
        if (!Arrays.equals(Traces.sha256(text), h.getScenarioSha256().toByteArray())) {
            throw new UserError(h.getScenarioPath() + " changed since the trace was recorded: replay needs the same file");
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
