package dev.gemulator.bench;

import dev.gemulator.Machine;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.kernel.uapi.Uapi;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * In-process benchmarks of the kernel model (issue "the device, faithful and
 * sequential"). Each rate is the median of several timed rounds after a
 * warm-up, and is printed with its ratio to the cheapest ioctl measured in
 * the same run (GET_CAP), the same "ioctl floor" the oracle's bench.c
 * measures on the real kernel, so the two columns of ratios compare like
 * with like. Nothing here is asserted.
 *
 * <p>Usage: {@code ./gemulator bench [--rounds N] [--objects N]}, or
 * {@code ./gemulator bench sched} for the interleaving benchmarks.
 */
public final class Bench {
    private static final int OPS_PER_ROUND = 200_000;

    /** The real kernel's figures from ../shared/oracle/README.md (TCG, ns/op, low end of the range). */
    private static final double KERNEL_IOCTL_FLOOR_NS = 1320;
    private static final double KERNEL_CREATE_CLOSE_NS = 37000;
    private static final double KERNEL_EXPORT_CLOSE_NS = 2600;
    private static final double KERNEL_IMPORT_HIT_NS = 1590;

    private interface Op {
        void run(int i);
    }

    private static double nsPerOp(int rounds, Op op) {
        for (int i = 0; i < OPS_PER_ROUND; i++) {
            op.run(i);
        }
        double[] samples = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < OPS_PER_ROUND; i++) {
                op.run(i);
            }
            samples[r] = (System.nanoTime() - t0) / (double) OPS_PER_ROUND;
        }
        Arrays.sort(samples);
        return samples[rounds / 2];
    }

    private static void check(SysResult r) {
        if (!r.isOk()) {
            throw new IllegalStateException("benchmark op failed: " + r.errno() + " " + r.message());
        }
    }

    /** A benchmark of its own, run as {@code bench NAME ARGS...}. */
    private interface Subcommand {
        void main(String[] args) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Subcommand sub = args.length == 0 ? null : switch (args[0]) {
            case "sched" -> SchedBench::main;
            case "coverage" -> CoverageBench::main;
            case "churn" -> ChurnSoak::main;
            case "fuzz" -> FuzzBench::main;
            case "shim" -> ShimBench::main;
            case "rejoin" -> RejoinBench::main;
            case "attack" -> AttackBench::main;
            case "race" -> RaceBench::main;
            case "server" -> ServerBench::main;
            default -> null;
        };
        if (sub != null) {
            sub.main(Arrays.copyOfRange(args, 1, args.length));
            if (!args[0].equals("sched") && !args[0].equals("coverage")) { // the others may leave server threads behind
                System.exit(0);
            }
            return;
        }
        int rounds = 7;
        int objects = 1_000_000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--objects" -> objects = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: bench [--rounds N] [--objects N]");
                    System.exit(2);
                }
            }
        }
        // first, on a heap nothing else has used yet: measured after the rates, another run's garbage collected
        // between the two heap readings could make the cost come out negative
        double bytesPerObject = idleObjectBytes(objects);
        Machine m = new Machine();
        Syscalls sys = m.sys();
        Process proc = m.spawn("bench");
        Task t = proc.mainTask();
        int fd = (int) sys.open(t, "card0").v0();
        int fd2 = (int) sys.open(t, "card0").v0();

        Ioctl getCap = new Ioctl.GetCap(Uapi.DRM_CAP_PRIME);
        double floor = nsPerOp(rounds, i -> check(sys.ioctl(t, fd, getCap)));

        Ioctl create = new Ioctl.ModeCreateDumb(64, 64, 32, 0);
        double createClose = nsPerOp(rounds, i -> {
            SysResult r = sys.ioctl(t, fd, create);
            check(r);
            check(sys.ioctl(t, fd, new Ioctl.GemClose((int) r.v0())));
        });

        SysResult bo = sys.ioctl(t, fd, create);
        int handle = (int) bo.v0();
        Ioctl export = new Ioctl.PrimeHandleToFd(handle, Uapi.DRM_CLOEXEC | Uapi.DRM_RDWR);
        double exportClose = nsPerOp(rounds, i -> {
            SysResult r = sys.ioctl(t, fd, export);
            check(r);
            check(sys.close(t, r.v0()));
        });

        int dmaBuf = (int) sys.ioctl(t, fd, export).v0();
        check(sys.ioctl(t, fd2, new Ioctl.PrimeFdToHandle(dmaBuf)));
        Ioctl importAgain = new Ioctl.PrimeFdToHandle(dmaBuf);
        double importHit = nsPerOp(rounds, i -> check(sys.ioctl(t, fd2, importAgain)));
        double steps = m.scheduler().steps();

        System.out.println("gemulator bench: in-process kernel model, sequential scheduler, " + rounds + " rounds of "
                + OPS_PER_ROUND + " ops (median), JDK " + System.getProperty("java.version"));
        System.out.println();
        String fmt = "%-40s %12s %12s %14s %14s%n";
        System.out.printf(Locale.ROOT, fmt, "operation", "ns/op", "ops/s", "x ioctl floor", "kernel x floor");
        row(fmt, "get_cap PRIME (ioctl floor, baseline)", floor, floor, KERNEL_IOCTL_FLOOR_NS);
        row(fmt, "create_dumb 64x64x32 + gem_close", createClose, floor, KERNEL_CREATE_CLOSE_NS);
        row(fmt, "handle_to_fd + close (cached dma-buf)", exportClose, floor, KERNEL_EXPORT_CLOSE_NS);
        row(fmt, "fd_to_handle, second file, cache hit", importHit, floor, KERNEL_IMPORT_HIT_NS);
        System.out.println();
        System.out.printf(Locale.ROOT, "kernel x floor: the real 6.1 kernel's ns/op from ../shared/oracle/README.md"
                + " (TCG) divided by its get_cap floor (%.0f ns)%n", KERNEL_IOCTL_FLOOR_NS);
        System.out.printf(Locale.ROOT, "absolute: create+close %.1fx, export+close %.1fx, import hit %.1fx the real kernel's rate under TCG%n",
                KERNEL_CREATE_CLOSE_NS / createClose, KERNEL_EXPORT_CLOSE_NS / exportClose, KERNEL_IMPORT_HIT_NS / importHit);
        System.out.printf(Locale.ROOT, "model steps executed: %.0f%n", steps);
        System.out.println();
        if (bytesPerObject > 0) {
            System.out.printf(Locale.ROOT, "heap per idle object with one handle, %d live objects: %.1f bytes (goal: 256 or"
                    + " less)%n", objects, bytesPerObject);
        } else {
            System.out.printf(Locale.ROOT, "heap per idle object with one handle: not measured (the heap shrank by %.1f"
                    + " bytes per object while %d were created: the collector freed something else)%n", -bytesPerObject,
                    objects);
        }
    }

    private static void row(String fmt, String name, double ns, double floor, double kernelNs) {
        System.out.printf(Locale.ROOT, fmt, name, String.format(Locale.ROOT, "%.1f", ns),
                String.format(Locale.ROOT, "%,.0f", 1e9 / ns), String.format(Locale.ROOT, "%.2f", ns / floor),
                String.format(Locale.ROOT, "%.2f", kernelNs / KERNEL_IOCTL_FLOOR_NS));
    }

    private static long usedHeap(MemoryMXBean mem) {
        for (int i = 0; i < 4; i++) {
            System.gc();
        }
        return mem.getHeapMemoryUsage().getUsed();
    }

    /** Heap bytes each live object with one handle costs: the heap after creating them minus before, over the count. */
    private static double idleObjectBytes(int objects) {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        Machine m = new Machine();
        Process proc = m.spawn("memory");
        Task t = proc.mainTask();
        int fd = (int) m.sys().open(t, "card0").v0();
        Ioctl create = new Ioctl.ModeCreateDumb(1, 1, 8, 0);
        check(m.sys().ioctl(t, fd, create));
        long before = usedHeap(mem);
        for (int i = 1; i < objects; i++) {
            check(m.sys().ioctl(t, fd, create));
        }
        long after = usedHeap(mem);
        if (m.device(0).liveObjects().count() != objects) {
            throw new IllegalStateException("expected " + objects + " live objects");
        }
        return (after - before) / (double) (objects - 1);
    }
}
