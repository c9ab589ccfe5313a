package dev.gemulator.race;

import dev.gemulator.check.FindingKey;
import dev.gemulator.check.Report;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.TraceRecord;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.transport.Listener;
import dev.gemulator.transport.SeededServer;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Races real programs: for every seed a fresh seeded device, the programs
 * connected to it (relaunched for every seed, or kept when they run their
 * part once per seed: persistent clients), and the outcome — the checkers'
 * reports and the programs' exit statuses and output. Jobs run seeds in
 * parallel, each with its own server; every seed's outcome depends on the
 * seed only, never on which job ran it or when.
 */
public final class RaceRunner {
    /** The java of the JDK this runs on, for the programs' commands that name plain java. */
    static final Path OUR_JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    /**
     * What to race: the commands (each one program), the processes the run
     * waits for (one per command by default: A, B, C...; the program is
     * told its name in GEMULATOR_PROCESS), the kernel profile, the strategy
     * (PCT's depth and k), the seeds, the parallel jobs, how long one seed
     * may take in real time before it is stopped (a program that hangs in
     * user space), after how long in user space a thread is named, and where
     * the runner's own messages go.
     */
    public record Options(List<List<String>> commands, List<String> processes, Profile profile, Strategy.Name strategy,
            int pctDepth, long pctSteps, long firstSeed, long lastSeed, int jobs, long timeoutMillis,
            long watchdogMillis, PrintStream log) {

        /** The process name the {@code i}-th command is launched as. */
        String processOf(int i) {
            return i < processes.size() ? processes.get(i) : String.valueOf((char) ('A' + i));
        }

        List<String> expected() {
            if (!processes.isEmpty()) {
                return processes;
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < commands.size(); i++) {
                out.add(processOf(i));
            }
            return out;
        }

        long seeds() {
            return lastSeed - firstSeed + 1;
        }

        /** The same race with PCT's k. */
        public Options withPctSteps(long k) {
            return new Options(commands, processes, profile, strategy, pctDepth, k, firstSeed, lastSeed, jobs,
                    timeoutMillis, watchdogMillis, log);
        }
    }

    /**
     * One seed: the reports, every process's exit status (by name), every
     * command's output (by process name), a problem that is no kernel
     * finding (null: none), and the trace when it was recorded.
     */
    public record Outcome(long seed, List<Report> reports, Map<String, Integer> statuses, Map<String, String> output,
            String problem, List<TraceRecord> trace, String traceHash, long steps) {

        /** The keys of this seed's findings: each report's, a failed program's (exit-status P), a timeout's. */
        public List<FindingKey> findingKeys() {
            List<FindingKey> keys = new ArrayList<>();
            for (Report r : reports) {
                FindingKey k = FindingKey.of(r);
                if (!keys.contains(k)) {
                    keys.add(k);
                }
            }
            if (problem == null) {
                statuses.forEach((p, s) -> {
                    if (s != 0) {
                        keys.add(new FindingKey(FindingKey.Kind.EXIT_STATUS, p));
                    }
                });
            } else if (problem.startsWith("timeout")) {
                keys.add(new FindingKey(FindingKey.Kind.TIMEOUT, "run"));
            }
            return keys;
        }

        /** What the finding {@code key} says in this seed. */
        public String detail(FindingKey key) {
            for (Report r : reports) {
                if (key.matches(r)) {
                    return r.detail();
                }
            }
            if (key.kind() == FindingKey.Kind.EXIT_STATUS) {
                String p = key.subject();
                return "process " + p + " exited with status " + statuses.get(p);
            }
            return problem == null ? "" : problem;
        }
    }

    /** A distinct finding: its key, what its first seed said, how many seeds showed it. */
    public record Finding(FindingKey key, String detail, long firstSeed, long seeds, Outcome first) {
        /** The kind as the reports write it ("use-after-free", "exit-status"). */
        public String kind() {
            return key.kind().label();
        }

        /** The kernel function (or process, or "run") it is about. */
        public String function() {
            return key.subject();
        }
    }

    /** The race: its findings (in key order), seeds run, time, launches, whether the clients were persistent. */
    public record Result(List<Finding> findings, long seeds, double seconds, long launches, boolean persistent,
            String error) {
    }

    /** The programs could not take part (they did not connect, a command does not exist). */
    public static final class RaceError extends RuntimeException {
        public RaceError(String message) {
            super(message);
        }
    }

    private final Options options;
    private final AtomicLong launches = new AtomicLong();
    private final List<Boolean> persistentJobs = Collections.synchronizedList(new ArrayList<>());

    public RaceRunner(Options options) {
        this.options = options;
    }

    public Options options() {
        return options;
    }

    /** The run configuration of one seed. */
    SeededRun.Config config(long seed, boolean trace) {
        return new SeededRun.Config(options.profile(), seed, options.strategy(), options.pctDepth(), options.pctSteps(),
                options.expected(), 0, trace, "race " + shortCommandLine(options.commands()), null,
                options.watchdogMillis(), dev.gemulator.kernel.proc.Process.DEFAULT_FD_LIMIT);
    }

    /** The commands as one line: "java -cp x Foo --- java -cp x Bar". */
    public static String commandLine(List<List<String>> commands) {
        List<String> parts = new ArrayList<>();
        for (List<String> c : commands) {
            parts.add(String.join(" ", c.stream().map(RaceRunner::quote).toList()));
        }
        return String.join(" --- ", parts);
    }

    /** The same, long arguments (classpaths) cut in the middle: for people, not to run. */
    public static String shortCommandLine(List<List<String>> commands) {
        List<List<String>> cut = new ArrayList<>();
        for (List<String> c : commands) {
            cut.add(c.stream().map(a -> a.length() <= 60 ? a : a.substring(0, 24) + "..." + a.substring(a.length() - 24))
                    .toList());
        }
        return commandLine(cut);
    }

    static String quote(String arg) {
        return arg.matches("[A-Za-z0-9_./:=,+@%-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'";
    }

    /**
     * PCT needs k, the number of steps of a run: measured with one random
     * run of the programs (seed 0).
     */
    public long measureSteps() {
        try (Job job = new Job(this, 0)) {
            SeededRun.Config c = config(0, false);
            c = new SeededRun.Config(c.profile(), 0, Strategy.Name.RANDOM, c.pctDepth(), 1, c.processes(), 0, false,
                    c.description(), null, c.watchdogMillis(), c.fdLimit());
            Outcome o = job.run(c);
            if (o.problem() != null && !o.problem().startsWith("timeout")) {
                throw new RaceError(o.problem());
            }
            return Math.max(1, o.steps());
        }
    }

    /** Runs every seed on {@code jobs} jobs and gathers the distinct findings, each with its first seed. */
    public Result run() {
        return run(null);
    }

    /**
     * Runs seeds in order until one shows the finding {@code stopKey}:
     * seeds past it are not started, the ones before it all run,
     * so the finding's first seed is the same as a full run's.
     */
    public Result runUntil(FindingKey stopKey) {
        return run(stopKey);
    }

    private Result run(FindingKey stopKey) {
        long start = System.nanoTime();
        long n = options.seeds();
        List<Outcome> outcomes = new ArrayList<>(Collections.nCopies((int) n, null));
        AtomicLong next = new AtomicLong(options.firstSeed());
        AtomicLong stopAt = new AtomicLong(Long.MAX_VALUE);
        int jobs = (int) Math.max(1, Math.min(options.jobs(), n));
        ExecutorService pool = Executors.newFixedThreadPool(jobs);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int j = 0; j < jobs; j++) {
                int index = j;
                futures.add(pool.submit(() -> {
                    try (Job job = new Job(this, index)) {
                        long seed;
                        while ((seed = next.getAndIncrement()) <= options.lastSeed() && seed < stopAt.get()) {
                            Outcome o = job.run(config(seed, false));
                            if (o.problem() != null && o.problem().startsWith("error: ")) {
                                throw new RaceError(o.problem().substring(7));
                            }
                            synchronized (outcomes) {
                                outcomes.set((int) (seed - options.firstSeed()), o);
                            }
                            if (stopKey != null && o.findingKeys().contains(stopKey)) {
                                stopAt.accumulateAndGet(seed, Math::min);
                            }
                        }
                        persistentJobs.add(job.persistent());
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RaceError("interrupted");
        } catch (ExecutionException e) {
            next.set(Long.MAX_VALUE);
            if (e.getCause() instanceof RaceError r) {
                throw r;
            }
            throw new IllegalStateException("a job failed: " + e.getCause(), e.getCause());
        } finally {
            next.set(Long.MAX_VALUE);
            pool.shutdownNow();
        }
        Map<FindingKey, Finding> findings = new TreeMap<>();
        long ran = 0;
        for (Outcome o : outcomes) {
            if (o == null || o.seed() > stopAt.get()) {
                continue; // not run, or past the stop
            }
            ran++;
            for (FindingKey key : o.findingKeys()) {
                Finding f = findings.get(key);
                findings.put(key, f == null ? new Finding(key, o.detail(key), o.seed(), 1, o)
                        : new Finding(key, f.detail(), f.firstSeed(), f.seeds() + 1, f.first()));
            }
        }
        boolean persistent = !persistentJobs.isEmpty() && persistentJobs.stream().allMatch(b -> b);
        return new Result(List.copyOf(findings.values()), ran, (System.nanoTime() - start) / 1e9, launches.get(),
                persistent, null);
    }

    /** The configuration of seed {@code seed} with a trace (for reruns: shrinking). */
    public SeededRun.Config traced(long seed) {
        return config(seed, true);
    }

    /** One seed again, with its trace (or following {@code decisions}, when not null). */
    public Outcome runOne(long seed, int[] decisions) {
        try (Job job = new Job(this, 0)) {
            SeededRun.Config c = config(seed, true);
            return job.run(decisions == null ? c : c.replaying(decisions));
        }
    }

    /** A job that keeps its server and programs for several runs (the shrinker's). */
    public Job job() {
        return new Job(this, 0);
    }

    void launched() {
        launches.incrementAndGet();
    }

    /**
     * The C shim (LD_PRELOAD library) native programs run with: the system
     * property gemulator.shim, else GEMULATOR_SHIM_LIB (the launcher builds
     * it and sets that); null when neither names an existing file.
     */
    public static Path shimLibrary() {
        String s = System.getProperty("gemulator.shim");
        if (s == null || s.isEmpty()) {
            s = System.getenv("GEMULATOR_SHIM_LIB");
        }
        return s == null || s.isEmpty() || !Files.isRegularFile(Path.of(s)) ? null : Path.of(s).toAbsolutePath();
    }

    /** A parallel worker: its own server, and the programs of its current seed. */
    public static final class Job implements AutoCloseable {
        private final RaceRunner runner;
        private final Options options;
        private final SeededServer server;
        private final Path dir;
        private final List<Program> programs = new ArrayList<>();
        private int runs;
        private int launches;

        /** A launched command: its process, the process name it was told, its output file. */
        private record Program(Process process, String name, Path output) {
        }

        Job(RaceRunner runner, int index) {
            this.runner = runner;
            this.options = runner.options;
            try {
                this.dir = Files.createTempDirectory("gemulator-race-" + index + "-");
                this.server = SeededServer.start("127.0.0.1", 0, null, 64 << 20, 1024, options.log());
            } catch (IOException e) {
                throw new RaceError("cannot make a working directory: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RaceError("interrupted");
            }
            if (Listener.unixAvailable()) {
                try {
                    server.listenUnix(dir.resolve("gemulator.sock"));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    // TCP alone then
                }
            }
        }

        /** Whether this job launched its programs once for several runs (persistent clients). */
        boolean persistent() {
            return runs > 1 && launches == 1;
        }

        /** Runs one seed: reuses the programs when all of them wait for the next seed, else launches them. */
        public Outcome run(SeededRun.Config config) {
            runs++;
            boolean reuse = !programs.isEmpty() && programs.stream().allMatch(p -> p.process().isAlive())
                    && server.persistentProcesses().containsAll(config.processes());
            if (!reuse) {
                stopPrograms();
            }
            SeededRun run = server.next(config);
            if (!reuse) {
                launch(config.seed());
            }
            SeededRun.Result result;
            String problem = null;
            long deadline = System.nanoTime() + options.timeoutMillis() * 1_000_000;
            while (true) {
                try {
                    result = run.finished().get(100, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException e) {
                    if (!run.started() && programs.stream().noneMatch(p -> p.process().isAlive())) {
                        run.abort("the programs exited");
                        problem = "error: " + notConnected(run);
                    } else if (System.nanoTime() > deadline) {
                        run.abort("timed out after " + options.timeoutMillis() / 1000 + " s");
                        if (problem == null) {
                            problem = "timeout: seed " + config.seed() + " ran longer than "
                                    + options.timeoutMillis() / 1000 + " s (a thread held the run in user space;"
                                    + " the watchdog named it on stderr)";
                        }
                        deadline = Long.MAX_VALUE;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    run.abort("interrupted");
                    throw new RaceError("interrupted");
                } catch (ExecutionException e) {
                    stopPrograms();
                    String why = String.valueOf(e.getCause().getMessage());
                    return new Outcome(config.seed(), List.of(), Map.of(), Map.of(), "diverged: " + why, List.of(), "", 0);
                }
            }
            if (problem == null && !result.started()) {
                problem = "error: " + notConnected(run);
            }
            Map<String, Integer> statuses = new LinkedHashMap<>(result.exitStatuses());
            boolean keep = problem == null && !result.aborted()
                    && programs.stream().allMatch(p -> server.iterating(p.name()));
            if (!keep) {
                // launched for this seed only: their exit statuses are the programs' own
                for (Program p : programs) {
                    Integer s = waitFor(p, result.aborted() ? 2_000 : 30_000);
                    if (config.processes().size() == programs.size()) {
                        statuses.put(p.name(), s == null ? SeededRun.KILLED : s);
                    }
                }
            }
            Map<String, String> output = new LinkedHashMap<>();
            boolean wanted = !result.reports().isEmpty() || problem != null
                    || statuses.values().stream().anyMatch(s -> s != 0) || config.trace();
            if (wanted) {
                for (Program p : programs) {
                    output.put(p.name(), outputOf(p, config.seed(), keep));
                }
            }
            if (!keep) {
                stopPrograms();
            }
            return new Outcome(config.seed(), result.reports(), statuses, output, problem, result.trace(),
                    result.traceHash(), result.steps());
        }

        private String notConnected(SeededRun run) {
            StringBuilder sb = new StringBuilder("the run waited for processes "
                    + String.join(", ", run.config().processes()) + " but "
                    + (run.joinedProcesses().isEmpty() ? "none" : "only " + String.join(", ", run.joinedProcesses()))
                    + " connected");
            for (Program p : programs) {
                Integer s = waitFor(p, 1_000);
                sb.append("\n  ").append(p.name()).append(": ").append(s == null ? "still running" : "exited " + s);
                String out = outputOf(p, run.seed(), false).strip();
                if (!out.isEmpty()) {
                    sb.append("; its output:\n    ").append(out.replace("\n", "\n    "));
                }
            }
            return sb.toString();
        }

        private void launch(long seed) {
            launches++;
            for (int i = 0; i < options.commands().size(); i++) {
                String name = options.processOf(i);
                Path out = dir.resolve(name + ".out");
                ProcessBuilder pb = new ProcessBuilder(withOurJava(options.commands().get(i))).redirectErrorStream(true)
                        .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                Map<String, String> env = pb.environment();
                // the same JDK first on PATH, for programs that are scripts starting java themselves
                env.put("PATH", OUR_JAVA.getParent() + File.pathSeparator + env.getOrDefault("PATH", ""));
                env.put("GEMULATOR_SERVER", "127.0.0.1:" + server.port());
                env.put("GEMULATOR_PROCESS", name);
                env.put("GEMULATOR_SEED", String.valueOf(seed));
                env.put("GEMULATOR_RACE_MARKERS", "1");
                Path sock = dir.resolve("gemulator.sock");
                if (Files.exists(sock)) {
                    env.put("GEMULATOR_SOCKET", sock.toString());
                    Path shim = shimLibrary();
                    if (shim != null && nativeProgram(options.commands().get(i))) {
                        // a C program: through the shim, as `gemulator exec` runs it
                        String before = env.get("LD_PRELOAD");
                        env.put("LD_PRELOAD", shim + (before == null || before.isEmpty() ? "" : ":" + before));
                    }
                }
                try {
                    programs.add(new Program(pb.start(), name, out));
                    runner.launched();
                } catch (IOException e) {
                    stopPrograms();
                    throw new RaceError("cannot run " + String.join(" ", options.commands().get(i)) + ": "
                            + e.getMessage());
                }
            }
        }

        /**
         * The command with a bare {@code java} as the JDK this runs on: the
         * client library wants Java 21 or newer, and the java first on PATH
         * may be older (the launcher looks further for its JDK).
         */
        static List<String> withOurJava(List<String> command) {
            if (!command.get(0).equals("java")) {
                return command;
            }
            List<String> out = new ArrayList<>(command);
            out.set(0, OUR_JAVA.toString());
            return out;
        }

        /**
         * Whether the command runs a native program (an ELF executable other
         * than java), which takes part through the C shim.
         */
        static boolean nativeProgram(List<String> command) {
            String first = command.get(0);
            Path exe = null;
            if (first.contains("/")) {
                exe = Path.of(first);
            } else {
                for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
                    Path c = Path.of(d.isEmpty() ? "." : d, first);
                    if (Files.isExecutable(c)) {
                        exe = c;
                        break;
                    }
                }
            }
            if (exe == null || exe.getFileName().toString().equals("java") || !Files.isRegularFile(exe)) {
                return false;
            }
            try (var in = Files.newInputStream(exe)) {
                byte[] magic = in.readNBytes(4);
                return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
            } catch (IOException e) {
                return false;
            }
        }

        private static Integer waitFor(Program p, long millis) {
            try {
                if (p.process().waitFor(millis, TimeUnit.MILLISECONDS)) {
                    return p.process().exitValue();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            p.process().destroyForcibly();
            return null;
        }

        /**
         * The program's output for {@code seed}: all of it when it was
         * launched for that seed, else the part after the marker its client
         * library printed for the seed.
         */
        private static String outputOf(Program p, long seed, boolean persistentSection) {
            String text;
            try {
                text = Files.readString(p.output(), StandardCharsets.UTF_8);
            } catch (IOException | UncheckedIOException e) {
                return "";
            }
            String marker = "gemulator-race: seed " + seed + "\n";
            int at = text.lastIndexOf(marker);
            if (at >= 0) {
                text = text.substring(at + marker.length());
                int end = text.indexOf("gemulator-race: seed ");
                if (end >= 0) {
                    text = text.substring(0, end);
                }
            } else if (persistentSection) {
                return "";
            }
            text = text.lines().filter(l -> !l.startsWith("gemulator-race: seed ")).reduce("", (a, b) -> a + b + "\n");
            return text.length() > 16_384 ? text.substring(0, 16_384) + "\n(output cut at 16 KiB)\n" : text;
        }

        private void stopPrograms() {
            for (Program p : programs) {
                if (p.process().isAlive()) {
                    p.process().destroy();
                }
            }
            for (Program p : programs) {
                waitFor(p, 5_000);
            }
            programs.clear();
        }

        @Override
        public void close() {
            stopPrograms();
            server.close();
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                // a temporary directory left behind
            }
        }
    }
}
