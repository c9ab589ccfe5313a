package dev.gemulator.difftest;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The real kernel: the reference harness on Linux 6.1 vgem under qemu.
 * Either {@code ../shared/oracle/run.sh FILE.gem}, a fresh VM per file, or
 * (batch) a copy built by {@code conformance/harness/build.sh} whose {@code
 * run.sh --batch FILE...} runs many files in one VM, unloading and loading
 * vgem between them so that each starts on a freshly loaded device (the
 * boot, not the scenario, is most of a run under TCG).
 *
 * <p>Outputs are cached on disk by the SHA-256 of the scenario text, so a
 * scenario runs on the oracle once however often it is compared
 * (minimisation asks for many). run.sh's own status 4 (the VM failed) is
 * retried once and then an error; the harness's statuses 0 to 3 are results.
 * A batch that stops early (the VM died, vgem could not be unloaded) is run
 * again from the first scenario it did not finish, which then runs alone.
 */
public final class Oracle {
    /** A VM that has not answered in this long is stuck. */
    private static final long TIMEOUT_SECONDS = 900;
    /** Scenarios per VM in batch mode. */
    static final int BATCH = 30;

    /**
     * What the harness printed on stdout, its exit status, and notes: run.sh's
     * stderr, and the kernel's warnings (lines starting "kernel: ") when the
     * scenario made the real kernel warn.
     */
    public record Result(String output, int exitStatus, String notes) {
        /** Whether the real kernel logged a WARN, BUG or Oops during the scenario. */
        public boolean kernelWarned() {
            return notes.contains("kernel: ");
        }
    }

    /** The oracle could not run a scenario (the VM failed twice, run.sh missing). */
    public static final class OracleException extends IOException {
        public OracleException(String message) {
            super(message);
        }
    }

    /** What runs one scenario on the real kernel: run.sh, or a stand-in in tests. */
    public interface Backend {
        Result boot(String text) throws IOException, InterruptedException;
    }

    private final Path runScript;
    private final boolean batch;
    private final Backend backend;
    private final Path cache;
    /** Single runs share the VM slots; a run whose kernel log matters has them all (run.sh keeps one log file). */
    private final ReentrantReadWriteLock vms = new ReentrantReadWriteLock();

    /** The oracle behind {@code runScript} (its batch mode when {@code batch}), outputs cached under {@code cache}. */
    public Oracle(Path runScript, Path cache, boolean batch) {
        this.runScript = runScript;
        this.batch = batch;
        this.backend = null;
        this.cache = cache;
    }

    /** A stand-in oracle (tests): {@code backend} answers, {@link #unavailable} is null. */
    public Oracle(Backend backend, Path cache) {
        this.runScript = null;
        this.batch = false;
        this.backend = backend;
        this.cache = cache;
    }

    /** Why the oracle cannot run here (one line), or null when it can. */
    public String unavailable() {
        if (backend != null) {
            return null;
        }
        if (!Files.isRegularFile(runScript)) {
            return "no oracle at " + runScript + " (the real-kernel harness, ../shared/oracle/run.sh, needs qemu)";
        }
        if (!Files.isExecutable(runScript)) {
            return "the oracle " + runScript + " is not executable";
        }
        if (!Files.isRegularFile(runScript.resolveSibling(".build").resolve("initramfs.cpio"))) {
            return "the oracle at " + runScript.getParent() + " is not set up (run its setup.sh as root)";
        }
        if (batch) {
            try {
                if (!Files.readString(runScript).contains("--batch")) {
                    return "the oracle " + runScript + " has no batch mode (build one with conformance/harness/build.sh DIR)";
                }
            } catch (IOException e) {
                return "cannot read " + runScript + ": " + e.getMessage();
            }
        }
        return null;
    }

    /** Whether many scenarios share a VM (so asking for many at once is cheap). */
    public boolean batched() {
        return batch;
    }

    /** What this oracle is, for messages. */
    public String describe() {
        return backend != null ? "a stand-in oracle" : runScript + (batch ? " --batch" : "");
    }

    /** Whether {@code text}'s output is in the cache. */
    public boolean cached(String text) {
        return Files.isRegularFile(entry(text, "rc"));
    }

    /** Runs {@code text} on the real kernel, or answers from the cache. */
    public Result run(String text) throws IOException, InterruptedException {
        return runAll(List.of(text), 1).get(0);
    }

    /**
     * Runs every text (answers from the cache first), {@code jobs} VMs at a
     * time, and returns the results in order.
     */
    public List<Result> runAll(List<String> texts, int jobs) throws IOException, InterruptedException {
        Map<String, Result> results = new LinkedHashMap<>();
        List<String> todo = new ArrayList<>();
        for (String t : texts) {
            if (results.containsKey(t)) {
                continue;
            }
            Result c = fromCache(t);
            results.put(t, c);
            if (c == null) {
                todo.add(t);
            }
        }
        if (!todo.isEmpty()) {
            List<List<String>> groups = new ArrayList<>();
            if (batch) {
                int n = Math.max(Math.min(jobs, todo.size()), (todo.size() + BATCH - 1) / BATCH);
                for (int g = 0; g < n; g++) {
                    groups.add(todo.subList(g * todo.size() / n, (g + 1) * todo.size() / n));
                }
            } else {
                todo.forEach(t -> groups.add(List.of(t)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(jobs, groups.size())));
            try {
                List<Future<Map<String, Result>>> futures = new ArrayList<>();
                for (List<String> g : groups) {
                    futures.add(pool.submit(() -> batch ? batchRun(g) : Map.of(g.get(0), single(g.get(0)))));
                }
                for (Future<Map<String, Result>> f : futures) {
                    try {
                        results.putAll(f.get());
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof IOException io) {
                            throw io;
                        }
                        if (e.getCause() instanceof InterruptedException ie) {
                            throw ie;
                        }
                        throw new IllegalStateException(e.getCause());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        List<Result> out = new ArrayList<>();
        for (String t : texts) {
            out.add(results.get(t));
        }
        return out;
    }

    private Result fromCache(String text) throws IOException {
        if (!cached(text)) {
            return null;
        }
        return new Result(Files.readString(entry(text, "out"), StandardCharsets.UTF_8),
                Integer.parseInt(Files.readString(entry(text, "rc")).strip()),
                Files.readString(entry(text, "notes"), StandardCharsets.UTF_8));
    }

    private void store(String text, Result r) throws IOException {
        Files.createDirectories(entry(text, "out").getParent());
        Files.writeString(entry(text, "out"), r.output(), StandardCharsets.UTF_8);
        Files.writeString(entry(text, "notes"), r.notes(), StandardCharsets.UTF_8);
        Files.writeString(entry(text, "rc"), Integer.toString(r.exitStatus())); // last: it marks the entry complete
    }

    /** One scenario in a VM of its own (retried once when the VM fails). */
    private Result single(String text) throws IOException, InterruptedException {
        Result r = shared(text);
        if (r.exitStatus() == 4) {
            r = shared(text);
        }
        if (r.exitStatus() == 4) {
            throw new OracleException("the oracle VM failed twice: " + lastLine(r.notes()));
        }
        if (r.notes().contains("WARN/BUG/Oops")) {
            r = alone(text);
        }
        if (r.output().contains("@@@ORACLE")) {
            throw new OracleException("run.sh printed VM markers instead of the harness's output (a batch-mode run.sh"
                    + " run on one file?): " + lastLine(r.output()));
        }
        store(text, r);
        return r;
    }

    private Result shared(String text) throws IOException, InterruptedException {
        vms.readLock().lockInterruptibly();
        try {
            return backend != null ? backend.boot(text) : boot(List.of(text), false);
        } finally {
            vms.readLock().unlock();
        }
    }

    /**
     * Runs {@code text} with no other VM running: run.sh keeps the kernel log
     * of the last run in one file, so only then is that log this run's.
     */
    private Result alone(String text) throws IOException, InterruptedException {
        vms.writeLock().lockInterruptibly();
        try {
            if (backend != null) {
                return backend.boot(text);
            }
            Result r = boot(List.of(text), false);
            Path log = runScript.resolveSibling(".build").resolve("last-dmesg.log");
            String warnings = r.notes().contains("WARN/BUG/Oops") && Files.isRegularFile(log)
                    ? warnings(Files.readAllLines(log, StandardCharsets.ISO_8859_1)) : "";
            return new Result(r.output(), r.exitStatus(), r.notes() + warnings);
        } finally {
            vms.writeLock().unlock();
        }
    }

    /** The kernel log from its first warning on, each line prefixed "kernel: " (at most 40 lines). */
    static String warnings(List<String> log) {
        StringBuilder b = new StringBuilder();
        boolean in = false;
        int n = 0;
        for (String l : log) {
            in |= l.matches(".*(WARNING:|BUG:|Oops|general protection|Call Trace).*");
            if (in && n++ < 40) {
                b.append("kernel: ").append(l).append('\n');
            }
        }
        return b.toString();
    }

    /** Scenarios in one VM; what it did not finish runs again, the first of that alone. */
    private Map<String, Result> batchRun(List<String> texts) throws IOException, InterruptedException {
        Map<String, Result> out = new LinkedHashMap<>();
        List<String> left = texts;
        while (!left.isEmpty()) {
            Result vm = boot(left, true);
            List<Result> done = parseBatch(vm.output(), left.size());
            for (int i = 0; i < done.size(); i++) {
                store(left.get(i), done.get(i));
                out.put(left.get(i), done.get(i));
            }
            if (done.size() == left.size()) {
                break;
            }
            String stuck = left.get(done.size());
            Result alone = single(stuck);
            out.put(stuck, alone);
            left = left.subList(done.size() + 1, left.size());
        }
        return out;
    }

    /** The results of a batch run's output, in order, as far as the VM got with each. */
    static List<Result> parseBatch(String output, int count) {
        List<Result> out = new ArrayList<>();
        String[] lines = output.split("\n", -1);
        int i = 0;
        for (int n = 1; n <= count; n++) {
            String tag = String.format("@@@ORACLE scenario %04d ", n);
            while (i < lines.length && !lines[i].equals(tag + "begin")) {
                i++;
            }
            if (i == lines.length) {
                break;
            }
            i++;
            StringBuilder harness = new StringBuilder();
            while (i < lines.length && !lines[i].startsWith(tag)) {
                harness.append(lines[i++]).append('\n');
            }
            if (i == lines.length || !lines[i].startsWith(tag + "rc ")) {
                break;
            }
            int rc = Integer.parseInt(lines[i++].substring((tag + "rc ").length()).strip());
            StringBuilder stderr = new StringBuilder();
            List<String> dmesg = new ArrayList<>();
            boolean finished = false;
            String section = "";
            for (; i < lines.length; i++) {
                String l = lines[i];
                if (l.startsWith(tag)) {
                    String what = l.substring(tag.length());
                    if (what.endsWith("-begin")) {
                        section = what.substring(0, what.length() - "-begin".length());
                        continue;
                    }
                    if (what.equals("dmesg-end")) {
                        finished = true;
                        i++;
                        break;
                    }
                    section = "";
                    continue;
                }
                if (section.equals("stderr")) {
                    stderr.append(l).append('\n');
                } else if (section.equals("dmesg")) {
                    dmesg.add(l);
                }
            }
            if (!finished) {
                break;
            }
            out.add(new Result(harness.toString(), rc, stderr + warnings(dmesg)));
            // a scenario after which vgem could not be loaded fresh ends the batch
            if (i < lines.length && lines[i].startsWith(tag)) {
                break;
            }
        }
        return out;
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines[lines.length - 1];
    }

    /** Boots the VM on {@code texts}: one (run.sh FILE) or a batch (run.sh --batch FILE...). */
    private Result boot(List<String> texts, boolean asBatch) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("gemulator-difftest");
        List<Path> files = new ArrayList<>();
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        try {
            List<String> command = new ArrayList<>(List.of(runScript.toString()));
            if (asBatch) {
                command.add("--batch");
            }
            for (int i = 0; i < texts.size(); i++) {
                Path f = dir.resolve(String.format("%04d.gem", i + 1));
                Files.writeString(f, texts.get(i), StandardCharsets.UTF_8);
                files.add(f);
                command.add(f.toString());
            }
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().put("ORACLE_QUIET_TCG", "1");
            pb.environment().put("ORACLE_TIMEOUT", Long.toString(TIMEOUT_SECONDS - 60));
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.redirectOutput(out.toFile());
            pb.redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                return new Result("", 4, "run.sh did not finish in " + TIMEOUT_SECONDS + " s");
            }
            return new Result(Files.readString(out, StandardCharsets.UTF_8), p.exitValue(),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            Files.deleteIfExists(dir);
        }
    }

    private Path entry(String text, String suffix) {
        String h = sha256(text);
        return cache.resolve(h.substring(0, 2)).resolve(h + "." + suffix);
    }

    static String sha256(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
