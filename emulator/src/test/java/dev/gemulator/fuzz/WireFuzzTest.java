package dev.gemulator.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.kernel.Profile;
import dev.gemulator.transport.GemulatorServer;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The seeded wire fuzzer against a free-running server (a smaller count than bench/'s). */
@Tag("slow")
class WireFuzzTest {

    @Test
    void aFreeRunningServerAnswersEveryBadFrameAndNonsensicalIoctlAndStaysUp() throws Exception {
        try (Complaints complaints = new Complaints();
                GemulatorServer server = GemulatorServer.start("127.0.0.1", 0, Profile.MODERN,
                        GemulatorServer.DEFAULT_MAX_FRAME_BYTES, null, 256)) {
            WireFuzzer.Result r = WireFuzzer.run(new WireFuzzer.Config("127.0.0.1", server.port(), null, 7, 40_000, 4,
                    GemulatorServer.DEFAULT_MAX_FRAME_BYTES, "F"));
            System.out.printf("fuzz: %d frames, %d requests (%d errno replies), %d refusals, %d sessions, %d malformed"
                    + " connections, %.0f frames/s%n", r.frames(), r.requests(), r.errnoReplies(), r.refusals(),
                    r.sessions(), r.malformed(), r.framesPerSecond());
            assertEquals(List.of(), r.violations());
            assertTrue(r.frames() >= 40_000);
            assertTrue(r.errnoReplies() > 1000 && r.refusals() > 300, "both kinds of bad input were sent");
            assertEquals(List.of(), server.simulation().findings(), "no kernel bug in the 6.x model from any input");
            assertEquals(List.of(), complaints.seen(), "nothing logged as an error");
            // and it still serves
            try (var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
                    var w = new dev.gemulator.client.wire.WireClient(group, "127.0.0.1", server.port(), "After", null)) {
                var open = w.call(dev.gemulator.proto.v1.Request.newBuilder().setCall(dev.gemulator.proto.v1.Syscall
                        .newBuilder().setOpen(dev.gemulator.proto.v1.Open.newBuilder().setNode("card0")))).getResult();
                assertEquals(0, open.getErrno());
                assertEquals(3, open.getValues(0));
            }
        }
    }
}
