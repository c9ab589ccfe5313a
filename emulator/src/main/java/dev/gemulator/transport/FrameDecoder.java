package dev.gemulator.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Cuts a connection's bytes into frames: a 4-byte big-endian length, then
 * that many bytes.
 *
 * <pre>
 *  +--------+----------------------------+
 *  | length |  message (protobuf)        |   length: 0 to the current maximum;
 *  | 4 B BE |  length bytes              |   more fails at once, unread
 *  +--------+----------------------------+
 * </pre>
 *
 * The maximum is small until the connection has said Hello ({@link
 * Limits#HELLO_FRAME_BYTES}) and the server's after it ({@link #open}), so a
 * connection nobody knows cannot make the server hold a big partial frame.
 * A frame too long fails when its length arrives, before any of it is kept;
 * after that the connection's input is dropped. While {@link #pause paused}
 * it passes no frame on (what arrives stays here as bytes, and the handler
 * has stopped reading the socket), and after Hello a whole frame is decoded
 * only once the connection admits it (it has reserved room for it in the
 * simulation's inbox), so no decoded request waits anywhere but counted in
 * the inbox. What a partial frame holds is released when the connection
 * closes.
 */
final class FrameDecoder extends ChannelInboundHandlerAdapter {
    /** Asked before a frame is decoded whether it may be now; when not, the decoder pauses until resumed. */
    interface Admission {
        boolean admit(long frameBytes);
    }

    private Admission admission = frameBytes -> true;
    private int maxFrameBytes;
    private boolean opened;
    private boolean failed;
    private boolean paused;
    private CompositeByteBuf buffered;
    private ChannelHandlerContext ctx;

    FrameDecoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    /**
     * The connection said Hello: frames may now be as long as
     * {@code maxFrameBytes}, each decoded only once {@code admission} lets it.
     */
    void open(int maxFrameBytes, Admission admission) {
        this.maxFrameBytes = maxFrameBytes;
        this.admission = admission;
        this.opened = true;
    }

    /** Bytes of frames not yet passed on that the decoder holds now. */
    int buffered() {
        return buffered == null ? 0 : buffered.readableBytes();
    }

    /** Passes no frame on until {@link #resume}. */
    void pause() {
        paused = true;
    }

    /** Passes on the frames that are whole, and what comes after (call on the connection's event loop). */
    void resume() {
        if (paused) {
            paused = false;
            drain();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.buffered = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (failed || buffered == null) {
            in.release();
            return;
        }
        buffered.addComponent(true, in);
        drain();
    }

    private void drain() {
        while (!paused && !failed && buffered != null && buffered.readableBytes() >= 4) {
            long length = buffered.getUnsignedInt(buffered.readerIndex());
            if (length > maxFrameBytes) {
                failed = true;
                release();
                ctx.fireExceptionCaught(new TooLongFrameException("a frame of " + length + " bytes (at most "
                        + maxFrameBytes + (opened ? ")" : " before Hello)")));
                return;
            }
            if (buffered.readableBytes() < 4 + length) {
                break;
            }
            if (!admission.admit(length)) {
                paused = true; // the frame stays here as bytes until the connection resumes
                break;
            }
            buffered.skipBytes(4);
            ByteBuf frame = ctx.alloc().heapBuffer((int) length);
            buffered.readBytes(frame, (int) length);
            buffered.discardReadComponents();
            ctx.fireChannelRead(frame);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (buffered != null) {
            buffered.release();
            buffered = null;
        }
    }
}
