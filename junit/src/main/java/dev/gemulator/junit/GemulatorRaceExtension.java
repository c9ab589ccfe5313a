package dev.gemulator.junit;

import dev.gemulator.check.Report;
import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.RaceTransport;
import dev.gemulator.client.VirtualClock;
import dev.gemulator.kernel.Profile;
import dev.gemulator.sched.Strategy;
import dev.gemulator.server.seeded.SeededRun;
import dev.gemulator.trace.TraceRecorder;
import dev.gemulator.transport.SeededServer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.opentest4j.AssertionFailedError;

/**
 * The extension behind {@link GemulatorRace}: one invocation per seed, each
 * with a fresh run of a seeded server in this JVM (one server for the whole
 * test run, its runs one after the other), the test method's process
 * connected to it over loopback, and the run's trace kept so that a failing
 * seed can be replayed with {@code ./gemulator replay}.
 */
public final class GemulatorRaceExtension implements TestTemplateInvocationContextProvider {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(GemulatorRaceExtension.class);

    /** The server shared by every race test of the run; closed when the run ends. */
    private static final class Server implements AutoCloseable {
        final SeededServer server;

        Server() {
            try {
                server = SeededServer.start("127.0.0.1", 0, null, 64 << 20, 64,
                        new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the seeded server", e);
            }
        }

        @Override
        public void close() {
            server.close();
        }
    }

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return context.getTestMethod().map(m -> m.isAnnotationPresent(GemulatorRace.class)).orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        Method m = context.getRequiredTestMethod();
        GemulatorRace race = m.getAnnotation(GemulatorRace.class);
        Profile profile = Profile.byName(race.profile());
        if (profile == null) {
            throw new IllegalArgumentException("@GemulatorRace on " + m.getName() + ": unknown kernel profile '"
                    + race.profile() + "' (known: " + Profile.names() + ")");
        }
        Strategy.Name strategy;
        try {
            strategy = Strategy.Name.parse(race.strategy(), Strategy.SERVER_NAMES);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("@GemulatorRace on " + m.getName() + ": " + e.getMessage());
        }
        if (race.seeds() < 1) {
            throw new IllegalArgumentException("@GemulatorRace on " + m.getName() + ": seeds must be at least 1");
        }
        Server server = context.getRoot().getStore(NS).computeIfAbsent(Server.class, k -> new Server(), Server.class);
        String where = m.getDeclaringClass().getSimpleName() + "." + m.getName();
        return LongStream.range(race.firstSeed(), race.firstSeed() + race.seeds())
                .mapToObj(seed -> new Invocation(new SeedRun(server.server, race, profile, strategy, seed, where)));
    }

    /** One seed's invocation: its name and the extension that runs it. */
    private record Invocation(SeedRun run) implements TestTemplateInvocationContext {
        @Override
        public String getDisplayName(int invocationIndex) {
            return "seed " + run.seed;
        }

        @Override
        public List<org.junit.jupiter.api.extension.Extension> getAdditionalExtensions() {
            return List.of(run);
        }
    }

    /** One seed: the run, the test's connection to it, the check afterwards. */
    static final class SeedRun implements ParameterResolver, InvocationInterceptor, BeforeEachCallback, AfterEachCallback {
        /** Runs of one server follow each other: a race test's seeds do not run at the same time. */
        private static final Semaphore ONE_AT_A_TIME = new Semaphore(1);

        private final SeededServer server;
        private final GemulatorRace race;
        private final Profile profile;
        private final Strategy.Name strategy;
        final long seed;
        private final String where;
        private SeededRun run;
        private Gemulator gemulator;
        private boolean holding;

        SeedRun(SeededServer server, GemulatorRace race, Profile profile, Strategy.Name strategy, long seed, String where) {
            this.server = server;
            this.race = race;
            this.profile = profile;
            this.strategy = strategy;
            this.seed = seed;
            this.where = where;
        }

        @Override
        public void beforeEach(ExtensionContext context) throws InterruptedException {
            ONE_AT_A_TIME.acquire();
            holding = true;
            run = server.next(new SeededRun.Config(profile, seed, strategy, race.pctDepth(), race.pctSteps(),
                    List.of(race.process()), 0, true, "@GemulatorRace " + where, null, 10_000,
                    dev.gemulator.kernel.proc.Process.DEFAULT_FD_LIMIT));
            gemulator = new Gemulator(new RaceTransport("127.0.0.1", server.port(), null, false));
        }

        @Override
        public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
            Class<?> t = p.getParameter().getType();
            return t == ClientProcess.class || t == Gemulator.class || t == VirtualClock.class;
        }

        @Override
        public Object resolveParameter(ParameterContext p, ExtensionContext e) {
            if (gemulator == null) {
                throw new ParameterResolutionException("@GemulatorRace: no run for seed " + seed);
            }
            Class<?> t = p.getParameter().getType();
            ClientProcess process = gemulator.process(race.process());
            return t == ClientProcess.class ? process : t == Gemulator.class ? gemulator : VirtualClock.of(process);
        }

        @Override
        public void interceptTestTemplateMethod(Invocation<Void> invocation,
                ReflectiveInvocationContext<Method> invocationContext, ExtensionContext extensionContext)
                throws Throwable {
            Throwable failed = null;
            try {
                invocation.proceed();
            } catch (Throwable t) {
                failed = t;
            }
            finish(failed);
        }

        /** The test's process exits, the run ends; a report or the test's own failure fails the seed. */
        private void finish(Throwable failed) throws Throwable {
            try {
                gemulator.close();
            } catch (RuntimeException e) {
                if (failed == null) {
                    failed = e;
                }
            }
            if (!run.started()) {
                run.abort("the test made no system call");
                if (failed != null) {
                    throw failed;
                }
                return;
            }
            SeededRun.Result r;
            try {
                r = run.finished().get(race.timeoutSeconds(), TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                run.abort("timed out");
                throw new AssertionFailedError("seed " + seed + ": the run did not end within " + race.timeoutSeconds()
                        + " s: a thread of the test stayed in user space (blocked on something that is not a call"
                        + " of the client library, such as Thread.join instead of ClientThread.join)", failed);
            } catch (ExecutionException e) {
                throw new AssertionFailedError("seed " + seed + ": the seeded run failed: " + e.getCause(), e.getCause());
            }
            if (r.reports().isEmpty() && failed == null) {
                return;
            }
            Path trace = Path.of("target", "gemulator-race", where + ".seed" + seed + ".trace").toAbsolutePath();
            String replay;
            try {
                Files.createDirectories(trace.getParent());
                try (var os = new BufferedOutputStream(Files.newOutputStream(trace))) {
                    TraceRecorder.write(r.trace(), os);
                }
                replay = "./gemulator replay " + trace;
            } catch (IOException e) {
                replay = "(the trace could not be written to " + trace + ": " + e.getMessage() + ")";
            }
            StringBuilder msg = new StringBuilder("seed " + seed + " of @GemulatorRace(profile = \"" + race.profile()
                    + "\", strategy = \"" + race.strategy() + "\"): ");
            if (!r.reports().isEmpty()) {
                Report first = r.reports().get(0);
                msg.append(first.kind().label()).append(" in ").append(first.function()).append(": ")
                        .append(first.detail());
                for (Report more : r.reports().subList(1, r.reports().size())) {
                    msg.append("\n  and ").append(more.kind().label()).append(" in ").append(more.function())
                            .append(": ").append(more.detail());
                }
            } else {
                msg.append("the test failed: ").append(failed);
            }
            msg.append("\n  replay: ").append(replay);
            msg.append("\n  this seed alone: @GemulatorRace(firstSeed = ").append(seed).append(", seeds = 1, profile = \"")
                    .append(race.profile()).append("\", strategy = \"").append(race.strategy()).append("\")");
            throw new AssertionFailedError(msg.toString(), failed);
        }

        @Override
        public void afterEach(ExtensionContext context) {
            if (run != null && !run.finished().isDone()) {
                run.abort("the test ended");
            }
            if (holding) {
                holding = false;
                ONE_AT_A_TIME.release();
            }
        }
    }
}
