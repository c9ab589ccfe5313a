package dev.gemulator.transport;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.server.seeded.SeededConnection;
import dev.gemulator.server.seeded.SeededRuns;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;

/**
 * One client process's connection to a seeded server: a thin adapter that
 * hands the connection's messages, once the handshake has passed its Hello,
 * to the seeded server's {@link SeededConnection} (which runs the calls in
 * the current run), and opens the connection's frames to the server's
 * maximum when that welcomes it.
 */
final class SeededHandler extends SimpleChannelInboundHandler<ClientMessage> {
    private final SeededRuns runs;
    private final int maxFrameBytes;
    private SeededConnection connection;

    SeededHandler(SeededRuns runs, int maxFrameBytes) {
        this.runs = runs;
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        connection = new SeededConnection(runs, ctx, () -> {
            ((FrameDecoder) ctx.pipeline().get("frames")).open(maxFrameBytes, bytes -> true);
            Handshake.welcomed(ctx.pipeline());
        });
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
        connection.read(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.inactive();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ctx.channel().isActive()) {
            connection.refuse(Handshake.why(cause));
        }
    }
}
