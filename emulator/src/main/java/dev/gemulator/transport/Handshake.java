package dev.gemulator.transport;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ProtocolVersion;
import dev.gemulator.server.Limits;
import dev.gemulator.server.unix.Peer;
import dev.gemulator.trace.Traces;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The first thing every connection does, whatever the server's mode: say
 * Hello within {@link Limits#helloTimeoutMillis()}, not stay silent
 * {@link Limits#helloIdleMillis()} before it, in frames of at most
 * {@link Limits#HELLO_FRAME_BYTES}; the Hello must speak protocol version 1,
 * name the process as {@link Limits#PROCESS_NAME} allows, and carry the
 * server's token, checked by the {@link HelloGuard} (in constant time, a
 * wrong one making its source wait longer for its next turn). A Hello that
 * passes goes on to the mode's handler, which answers it (at once or later)
 * and then calls {@link #welcomed}: the timers stop and this handler leaves
 * the pipeline. Until then any other message is refused with a reason.
 */
final class Handshake extends SimpleChannelInboundHandler<ClientMessage> {
    private final HelloGuard guard;
    private final Limits limits;
    private ScheduledFuture<?> deadline;
    /** A Hello waits for its turn or for the mode's answer: nothing else may come before it. */
    private boolean pending;
    private boolean closing;

    Handshake(HelloGuard guard, Limits limits) {
        this.guard = guard;
        this.limits = limits;
    }

    /** The mode's handler welcomed the connection: the handshake's timers stop and it leaves the pipeline. */
    static void welcomed(ChannelPipeline pipeline) {
        if (pipeline.get(Handshake.class) instanceof Handshake h) {
            h.deadline.cancel(false);
            pipeline.remove(h);
        }
        if (pipeline.get("hello-idle") != null) {
            pipeline.remove("hello-idle");
        }
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        if (closing) {
            return;
        }
        closing = true;
        reading(ctx, false);
        ctx.writeAndFlush(WireInitializer.refusal(reason)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Reads the connection or stops: the socket and the frames already read alike. */
    private static void reading(ChannelHandlerContext ctx, boolean on) {
        ctx.channel().config().setAutoRead(on);
        if (ctx.pipeline().get("frames") instanceof FrameDecoder frames) {
            if (on) {
                frames.resume();
            } else {
                frames.pause();
            }
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        deadline = ctx.executor().schedule(() -> refuse(ctx, "no Hello within " + limits.helloTimeoutMillis() + " ms"),
                limits.helloTimeoutMillis(), TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (!pending) { // a Hello waiting for its turn or its answer is no silence
                refuse(ctx, "no Hello: the connection was silent for " + limits.helloIdleMillis() + " ms");
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
        if (closing) {
            return;
        }
        if (pending) {
            refuse(ctx, "a message before the Hello was answered");
            return;
        }
        switch (msg.getMessageCase()) {
            case HELLO -> hello(ctx, msg);
            case REQUEST -> refuse(ctx, "a Request before Hello");
            case THREAD_START, THREAD_EXIT -> refuse(ctx, "a thread message before Hello");
            case STATUS, FETCH_TRACE, DEBUGFS -> refuse(ctx, "a question before Hello");
            case GOODBYE -> ctx.close();
            case CANCEL -> { }
            case MESSAGE_NOT_SET -> refuse(ctx, "an empty message");
        }
    }

    private void hello(ChannelHandlerContext ctx, ClientMessage msg) {
        Hello h = msg.getHello();
        if (h.getVersion() != ProtocolVersion.PROTOCOL_VERSION_1) {
            refuse(ctx, "protocol version " + h.getVersionValue() + " is not supported (this server speaks 1)");
        } else if (!Limits.PROCESS_NAME.matcher(h.getProcessName()).matches()) {
            refuse(ctx, "bad process name '" + abbreviate(h.getProcessName()) + "'");
        } else if (guard.wantsToken()) {
            String source = source(ctx);
            long wait = guard.waitMillis(source, System.currentTimeMillis());
            if (wait >= limits.helloTimeoutMillis()) {
                refuse(ctx, "too many wrong tokens from " + source + ": try again in " + (wait + 999) / 1000 + " s");
            } else if (wait > 0) {
                pending = true;
                reading(ctx, false);
                ctx.executor().schedule(() -> checkToken(ctx, msg, source), wait, TimeUnit.MILLISECONDS);
            } else {
                checkToken(ctx, msg, source);
            }
        } else {
            pass(ctx, msg);
        }
    }

    /** Who a wrong token is counted against: a TCP client's address, a Unix socket client's user. */
    private static String source(ChannelHandlerContext ctx) {
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null) {
            return a.getAddress().getHostAddress();
        }
        var peer = ctx.channel().attr(Peer.CREDENTIALS).get();
        return peer != null ? "uid " + peer.uid() : "a local socket";
    }

    private void checkToken(ChannelHandlerContext ctx, ClientMessage msg, String source) {
        pending = false;
        if (closing || !ctx.channel().isActive()) {
            return;
        }
        if (!guard.matches(msg.getHello().getToken())) {
            guard.failed(source, System.currentTimeMillis());
            refuse(ctx, "wrong token");
            return;
        }
        pass(ctx, msg);
        if (!closing && ctx.channel().isActive()) {
            reading(ctx, true);
        }
    }

    /** The Hello passed: the mode's handler takes it; until it has welcomed the connection nothing else may come. */
    private void pass(ChannelHandlerContext ctx, ClientMessage msg) {
        pending = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!pending) { // the mode's handler reads again when writable; not while a Hello waits
            ctx.fireChannelWritabilityChanged();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (deadline != null) {
            deadline.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ctx.channel().isActive()) {
            refuse(ctx, why(cause));
        }
    }

    /** A connection's error as its refusal says it. */
    static String why(Throwable cause) {
        return cause instanceof TooLongFrameException ? "frame too long: " + cause.getMessage()
                : cause instanceof DecoderException ? "malformed message: " + cause.getMessage()
                : "connection error: " + cause;
    }

    private static String abbreviate(String name) {
        return Traces.escape(name.length() <= 64 ? name : name.substring(0, 64) + "...");
    }
}
