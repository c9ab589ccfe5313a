package dev.gemulator.client;

import com.google.protobuf.ByteString;
import dev.gemulator.proto.v1.Munmap;
import dev.gemulator.proto.v1.Read;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.Write;

/** A shared mapping of a buffer; closing it is munmap(2). */
public final class Mapping implements AutoCloseable {
    private final ClientProcess process;
    private final long id;
    private final long length;
    private boolean unmapped;

    Mapping(ClientProcess process, long id, long length) {
        this.process = process;
        this.id = id;
        this.length = length;
    }

    /**
     * The mapping's length.
     *
     * @return its length in bytes
     */
    public long length() {
        return length;
    }

    /**
     * Reads through the mapping (a load from the mapped pages).
     *
     * @param offset where, from the start of the mapping
     * @param count how many bytes
     * @return the bytes
     */
    public byte[] read(long offset, int count) {
        return process.call(Syscall.newBuilder().setRead(Read.newBuilder().setMap(id).setOffset(offset).setLength(count))
                .build(), "read").getData().toByteArray();
    }

    /**
     * Writes through the mapping (a store to the mapped pages; the device
     * allocates a page on its first write).
     *
     * @param offset where, from the start of the mapping
     * @param data the bytes
     */
    public void write(long offset, byte... data) {
        process.call(Syscall.newBuilder().setWrite(Write.newBuilder().setMap(id).setOffset(offset)
                .setData(ByteString.copyFrom(data))).build(), "write");
    }

    /** munmap(2); a second close does nothing. */
    @Override
    public void close() {
        if (!unmapped) {
            unmapped = true;
            process.call(Syscall.newBuilder().setMunmap(Munmap.newBuilder().setMap(id)).build(), "munmap");
        }
    }
}
