package dev.gemulator.client.wire;

import dev.gemulator.proto.v1.ClientMessage;
import dev.gemulator.proto.v1.ServerMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.handler.codec.MessageToMessageDecoder;
import java.io.IOException;
import java.util.List;

/**
 * The client's pipeline: 4-byte big-endian length frames (at most 64 MiB
 * from the server), one ServerMessage in and one ClientMessage out per
 * frame, then the client's handler.
 */
final class WirePipeline extends ChannelInitializer<Channel> {
    /** The largest frame the client takes from a server. */
    static final int MAX_FRAME_BYTES = 64 << 20;

    private final ChannelHandler handler;

    WirePipeline(ChannelHandler handler) {
        this.handler = handler;
    }

    @Override
    protected void initChannel(Channel ch) {
        ch.pipeline()
                .addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME_BYTES, 0, 4, 0, 4, true))
                .addLast(new LengthFieldPrepender(4))
                .addLast(new Decoder())
                .addLast(new Encoder())
                .addLast(handler);
    }

    /** Frames in: one ServerMessage each. */
    private static final class Decoder extends MessageToMessageDecoder<ByteBuf> {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) throws IOException {
            out.add(ServerMessage.parseFrom(new ByteBufInputStream(frame)));
        }
    }

    /** Frames out: one ClientMessage each. */
    private static final class Encoder extends MessageToByteEncoder<ClientMessage> {
        @Override
        protected void encode(ChannelHandlerContext ctx, ClientMessage msg, ByteBuf out) throws IOException {
            msg.writeTo(new ByteBufOutputStream(out));
        }
    }
}
