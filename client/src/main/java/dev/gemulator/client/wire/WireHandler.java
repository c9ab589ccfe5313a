package dev.gemulator.client.wire;

import dev.gemulator.proto.v1.ServerMode;
import dev.gemulator.proto.v1.Reply;
import dev.gemulator.proto.v1.ServerMessage;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * What comes back on one client connection: the Welcome (what the server
 * runs), Again (the next lockstep iteration), the answers to control
 * questions in order, and the replies matched to their requests by id. A
 * Refusal, an error or the connection's end fails everything waiting with
 * the reason. One handler serves every attempt to connect of its client
 * (hence sharable), so what a failed attempt saw is the client's too.
 */
@ChannelHandler.Sharable
final class WireHandler extends SimpleChannelInboundHandler<ServerMessage> {
    final CompletableFuture<ServerMode> welcomed = new CompletableFuture<>();
    volatile int iterations = 1;
    volatile int joinIteration;
    volatile int welcomedDuring;
    final BlockingQueue<Integer> again = new LinkedBlockingQueue<>();
    final BlockingQueue<ServerMessage> control = new LinkedBlockingQueue<>();
    final Map<Long, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    /** Why the connection is gone, or null while it is not. */
    volatile String lost;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ServerMessage msg) {
        switch (msg.getMessageCase()) {
            case WELCOME -> {
                iterations = Math.max(1, msg.getWelcome().getIterations());
                joinIteration = msg.getWelcome().getJoinIteration();
                welcomedDuring = msg.getWelcome().getIteration();
                welcomed.complete(msg.getWelcome().getServerMode());
            }
            case AGAIN -> again.add(msg.getAgain().getIteration());
            case STATUS, TRACE, DEBUGFS -> control.add(msg);
            case REPLY -> {
                CompletableFuture<Reply> f = pending.remove(msg.getReply().getRequestId());
                if (f != null) {
                    f.complete(msg.getReply());
                }
            }
            case REFUSAL -> fail("refused: " + msg.getRefusal().getReason());
            case MESSAGE_NOT_SET -> fail("an empty message from the server");
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail("the server closed the connection");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail("connection error: " + cause.getMessage());
        ctx.close();
    }

    private void fail(String why) {
        if (lost == null) {
            lost = why;
        }
        again.add(-1);
        WireClient.ConnectionLost e = new WireClient.ConnectionLost(lost);
        welcomed.completeExceptionally(e);
        pending.values().forEach(f -> f.completeExceptionally(e));
        pending.clear();
    }
}
