package dev.gemulator.transport;

import dev.gemulator.kernel.proc.Syscalls;
import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.Hello;
import dev.gemulator.proto.v1.ServerMessage;
import dev.gemulator.server.Limits;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.ArrayDeque;
import java.util.Locale;

/**
 * What the free-running and the lockstep handler share after Hello: the
 * connection's system calls and questions (status, debugfs, trace) alike
 * wait in one queue and at most {@link Limits#maxInFlight()} of them, and
 * {@link Limits#maxInFlightBytes()} of request and reply bytes, are being
 * answered at once; the connection is not read while they are, while the
 * simulation has no room or while the client does not read its replies.
 */
abstract class QueuedHandler extends SimpleChannelInboundHandler<ClientMessage> {
    protected final Limits limits;
    private final ArrayDeque<ClientMessage> waiting = new ArrayDeque<>();
    private int inFlight;
    private long inFlightBytes;
    private boolean reading = true;
    protected boolean closing;
    private boolean helloSeen;
    /** The connection said Hello as an observer: it may ask for status, traces and debugfs, not make calls. */
    protected boolean observer;

    QueuedHandler(Limits limits) {
        this.limits = limits;
    }

    /** What every mode does with a message; the Hello, threads and cancels are the mode's own. */
    @Override
    protected final void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
        if (closing) {
            return;
        }
        switch (msg.getMessageCase()) {
            case HELLO -> {
                if (helloSeen) {
                    refuse(ctx, "a second Hello");
                } else {
                    helloSeen = true;
                    hello(ctx, msg.getHello());
                }
            }
            case REQUEST -> {
                if (observer) {
                    refuse(ctx, "an observer makes no system calls");
                } else {
                    queue(ctx, msg);
                }
            }
            case THREAD_START, THREAD_EXIT -> thread(ctx, msg);
            case GOODBYE -> ctx.close();
            case CANCEL -> cancel(msg);
            case STATUS, FETCH_TRACE, DEBUGFS -> queue(ctx, msg);
            case MESSAGE_NOT_SET -> refuse(ctx, "an empty message");
        }
        afterRead();
    }

    /** The connection's Hello, once. */
    protected abstract void hello(ChannelHandlerContext ctx, Hello h);

    /** A ThreadStart or ThreadExit. */
    protected abstract void thread(ChannelHandlerContext ctx, ClientMessage msg);

    /** A Cancel of a call in flight; ignored unless the mode can cancel. */
    protected void cancel(ClientMessage msg) {
    }

    /** After each message read, whatever it was. */
    protected void afterRead() {
    }

    /** Starts one message; false when there is no room for it now (the handler asks to be pumped again). */
    protected abstract boolean start(ChannelHandlerContext ctx, ClientMessage m, long bytes);

    /** Whether the queued message is dropped instead of started (the process has exited); false by default. */
    protected boolean drop(ChannelHandlerContext ctx, ClientMessage m) {
        return false;
    }

    /** Asks for {@code pump} to run again when the simulation has room. */
    protected abstract void whenRoom(Runnable pump);

    protected void refuse(ChannelHandlerContext ctx, String reason) {
        if (closing) {
            return;
        }
        closing = true;
        waiting.clear();
        reading(ctx, false);
        ctx.writeAndFlush(WireInitializer.refusal(reason)).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Why a thread name is refused, or null: at most {@link Limits#MAX_NAME_CHARS}
     * characters, none a control, invisible, separator or unassigned one.
     */
    static String badThreadName(String name) {
        if (name.codePointCount(0, name.length()) > Limits.MAX_NAME_CHARS) {
            return "a thread name of " + name.length() + " characters (at most " + Limits.MAX_NAME_CHARS + ")";
        }
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int type = Character.getType(cp);
            if (type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE
                    || type == Character.PRIVATE_USE || type == Character.UNASSIGNED) {
                return "a thread name with character U+" + String.format(Locale.ROOT, "%04X", cp)
                        + " (no control, invisible or unassigned characters)";
            }
            i += Character.charCount(cp);
        }
        return null;
    }

    /** Queues a message and hands on what may go. */
    protected void queue(ChannelHandlerContext ctx, ClientMessage msg) {
        waiting.add(msg);
        pump(ctx);
    }

    /** What a message holds in flight: its frame, and what it asks back (a read's bytes, a debugfs answer). */
    private static long bytesOf(ClientMessage m) {
        long n = m.getSerializedSize();
        if (m.hasRequest() && m.getRequest().getCall().hasRead()) {
            n += Math.min(m.getRequest().getCall().getRead().getLength(), Syscalls.MAX_ACCESS_BYTES);
        } else if (m.hasDebugfs()) {
            n += Limits.MAX_DEBUGFS_BYTES;
        }
        return n;
    }

    /** Whether another frame of {@code frameBytes} may be taken in now beside what is queued and in flight. */
    protected boolean roomFor(ChannelHandlerContext ctx, long frameBytes) {
        return waiting.isEmpty() && inFlight < limits.maxInFlight() && ctx.channel().isWritable()
                && (inFlight == 0 || inFlightBytes + frameBytes <= limits.maxInFlightBytes());
    }

    /**
     * Hands queued messages on while the connection has fewer than
     * {@link Limits#maxInFlight()} of them (and {@link Limits#maxInFlightBytes()})
     * in flight, the client reads its replies and the simulation takes them;
     * otherwise stops reading the connection until a reply, room in the inbox
     * or writability brings it back here.
     */
    protected void pump(ChannelHandlerContext ctx) {
        while (!waiting.isEmpty() && !closing) {
            ClientMessage m = waiting.peek();
            long bytes = bytesOf(m);
            if (inFlight >= limits.maxInFlight() || (inFlight > 0 && inFlightBytes + bytes > limits.maxInFlightBytes())
                    || !ctx.channel().isWritable()) {
                reading(ctx, false);
                return;
            }
            if (drop(ctx, m)) {
                waiting.poll();
                continue;
            }
            if (!start(ctx, m, bytes)) {
                reading(ctx, false);
                whenRoom(() -> ctx.executor().execute(() -> pump(ctx)));
                return;
            }
            waiting.poll();
        }
        reading(ctx, ctx.channel().isWritable() && !closing);
    }

    protected void inFlight(long bytes) {
        inFlight++;
        inFlightBytes += bytes;
    }

    /** A message in flight is answered: the reply goes out and the queue moves on. */
    protected void replied(ChannelHandlerContext ctx, ServerMessage reply, long bytes) {
        inFlight--;
        inFlightBytes -= bytes;
        ctx.writeAndFlush(reply);
        if (!reading) {
            pump(ctx);
        }
    }

    /**
     * Reads the connection or stops: the socket (auto-read) and the frames
     * already read alike, so that at most one decoded message waits here.
     */
    protected void reading(ChannelHandlerContext ctx, boolean on) {
        if (reading != on) {
            reading = on;
            ctx.channel().config().setAutoRead(on);
        }
        if (ctx.pipeline().get("frames") instanceof FrameDecoder frames) {
            if (on) {
                frames.resume();
            } else {
                frames.pause();
            }
        }
    }

    /** The connection said Hello and was welcomed: frames may be as long as {@code maxFrameBytes}. */
    protected void open(ChannelHandlerContext ctx, int maxFrameBytes, FrameDecoder.Admission admission) {
        ((FrameDecoder) ctx.pipeline().get("frames")).open(maxFrameBytes, admission);
        Handshake.welcomed(ctx.pipeline());
    }

    /** Drops what waits (the connection has closed). */
    protected void clear() {
        waiting.clear();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            pump(ctx);
        } else {
            reading(ctx, false);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ctx.channel().isActive()) {
            refuse(ctx, Handshake.why(cause));
        }
    }
}
