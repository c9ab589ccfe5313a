package dev.gemulator.lockstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.gemscript.Parser;
import dev.gemulator.gemscript.Runner;
import dev.gemulator.gemscript.Script;
import dev.gemulator.kernel.Profile;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.sched.Strategy;
import dev.gemulator.transport.GemulatorServer;
import dev.gemulator.trace.Traces;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a lockstep client may have at once is bounded: one statement asked
 * for per thread, the threads its process has in the scenario; an ask of an
 * iteration that is over is answered as stale, never taken for a later one.
 */
class LockstepLimitsTest {
    private static final String TWO = "A: open card0 -> $fd\nB: open card0 -> $g\nA: close $fd\nB: close $g\n";
    private static final String PAR = "par {\n  thread A.t1 {\n    A: open card0\n  }\n  thread A.t2 {\n    A: open card0\n"
            + "  }\n}\n";

    private static LockstepRun start(String text, int iterations) throws Exception {
        Script script = Parser.parse("l.gem", text);
        Runner.RunOptions o = new Runner.RunOptions(0, Strategy.Name.RANDOM, 3, 1000);
        LockstepRun run = new LockstepRun(60_000, System.err);
        run.start(script, Traces.header("l.gem", text, Profile.MODERN, o), Profile.MODERN, o, iterations,
                new PrintStream(java.io.OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8));
        return run;
    }

    @Test
    void aThreadHasOneStatementAskedForAtATime() throws Exception {
        LockstepRun run = start(TWO, 1);
        CompletableFuture<String> first = new CompletableFuture<>();
        assertTrue(run.ask("A", 1, "open", first::complete));
        assertEquals("1 A open ok 3", first.get(10, TimeUnit.SECONDS));
        // line 3 waits for B, who has not asked: a second ask of A meanwhile is refused, the first kept
        CompletableFuture<String> waiting = new CompletableFuture<>();
        assertTrue(run.ask("A", 3, "close", waiting::complete));
        for (int i = 0; i < 1000; i++) {
            assertFalse(run.ask("A", 3, "close", line -> { }), "one at a time");
        }
        assertTrue(run.ask("B", 2, "open", line -> { }));
        assertEquals("3 A close ok", waiting.get(10, TimeUnit.SECONDS), "the kept ask is answered");
        run.abort();
        run.finished().get(10, TimeUnit.SECONDS);
    }

    @Test
    void anAskOfAnIterationThatIsOverIsAnsweredAsStale() throws Exception {
        LockstepRun run = start("A: open card0\n", 3);
        CompletableFuture<String> now = new CompletableFuture<>();
        assertTrue(run.ask("A", 0, 1, "open", now::complete));
        assertEquals("1 A open ok 3", now.get(10, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (run.iteration() < 1) {
            assertTrue(System.nanoTime() < deadline);
            Thread.sleep(5);
        }
        CompletableFuture<String> old = new CompletableFuture<>();
        assertTrue(run.ask("A", 0, 1, "open", old::complete));
        assertEquals("stale: iteration 0 is over (the run is at iteration 1)", old.get(1, TimeUnit.SECONDS));
        CompletableFuture<String> again = new CompletableFuture<>();
        assertTrue(run.ask("A", 1, 1, "open", again::complete));
        assertEquals("1 A open ok 3", again.get(10, TimeUnit.SECONDS), "the iteration under way takes its own ask");
        run.abort();
    }

    @Test
    void aLockstepClientIsRefusedThreadsItsProcessDoesNotHaveAndASecondAskOfAThread() throws Exception {
        var group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        LockstepRun run = start(PAR + TWO, 1);
        try (GemulatorServer server = GemulatorServer.startLockstep("127.0.0.1", 0, run,
                GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null)) {
            WireClient a = new WireClient(group, "127.0.0.1", server.port(), "A", null);
            a.threadStart(1, "A.t1");
            a.threadStart(2, "A.t2");
            a.threadStart(1, "A.t1"); // the same id again: no new thread
            a.threadStart(3, "A.t2");
            WireClient.ConnectionLost lost = assertThrows(WireClient.ConnectionLost.class, () -> a.call(
                    Request.newBuilder().setThread("A.t1").setLine(3).setOp("open")));
            assertTrue(lost.getMessage().contains("process A has all 2 threads the scenario gives it running"),
                    lost.getMessage());
            WireClient a2 = connectAgain(group, server.port(), "A");
            a2.threadStart(1, "B.t9");
            lost = assertThrows(WireClient.ConnectionLost.class, () -> a2.call(Request.newBuilder().setThread("A")
                    .setLine(1).setOp("open")));
            assertTrue(lost.getMessage().contains("the scenario has no thread B.t9 of process A"), lost.getMessage());
        } finally {
            run.abort();
            group.shutdownGracefully();
        }
    }

    /** A process whose connection was refused may connect again (once the server has seen it go). */
    private static WireClient connectAgain(io.netty.channel.EventLoopGroup group, int port, String process)
            throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            WireClient w = new WireClient(group, "127.0.0.1", port, process, null);
            try {
                w.mode();
                return w;
            } catch (WireClient.ConnectionLost e) {
                w.close();
                assertTrue(System.nanoTime() < deadline, e.getMessage());
                Thread.sleep(20);
            }
        }
    }
}
