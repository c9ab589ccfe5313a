package dev.gemulator.trace;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.gemulator.proto.v1.TraceRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The bytes of a trace file: a magic, then blocks of records, each block
 * with a checksum of its length and one of its records, so that a reader
 * tells a file cut short by its writer's death (a torn tail: every whole
 * block before it is good) from one damaged in the middle (corruption).
 *
 * <pre>
 *  +----------+   8 bytes: 0x89 'G' 'T' 'R' '\r' '\n' 0x1a '\n'
 *  |  magic   |
 *  +----------+------------------+----------------------------+------------------+
 *  | length   | crc32c(length)   |  records: each a varint    | crc32c(records)  |  one block,
 *  | u32 BE   | u32 BE           |  length, then TraceRecord  | u32 BE           |  repeated
 *  +----------+------------------+----------------------------+------------------+
 * </pre>
 *
 * The header record has the first block to itself (so a trace cut short
 * still says what it is); after it a block holds the records written since
 * the last flush, at most about {@link #BLOCK_BYTES} (a bigger record has a
 * block of its own). The length
 * has a checksum of its own so that a damaged length is caught before it is
 * trusted: a file that ends inside a block whose header checked is torn, a
 * header or block whose checksum fails is corrupt. Files without the magic
 * are read in the first format (records only, no checksums).
 */
public final class TraceFile {
    /** The first bytes of a trace file in this format. */
    static final byte[] MAGIC = {(byte) 0x89, 'G', 'T', 'R', '\r', '\n', 0x1a, '\n'};
    /** A block is written once its records reach this size, or at a flush. */
    static final int BLOCK_BYTES = 16 << 10;
    /** No block is bigger (a record of a 1 MiB read is 2 MiB of hex): a bigger length is corruption. */
    static final int MAX_BLOCK_BYTES = 256 << 20;

    private TraceFile() {
    }

    /** What a reader found: the records of every good block, and how the file ended. */
    public record Contents(List<TraceRecord> records, boolean torn, String corruption) {
        /** Whether the trace has its end record (the run or server finished). */
        public boolean ended() {
            return !records.isEmpty() && records.getLast().hasEnd();
        }
    }

    /** A trace that cannot be read whole: damaged in the middle, or cut short. */
    public static final class DamagedException extends IOException {
        public DamagedException(String message) {
            super(message);
        }
    }

    /** Writes records as blocks; {@link #flush} ends the current block. Not thread-safe. */
    public static final class Writer {
        private final OutputStream out;
        private final Block block = new Block();
        private boolean first = true;

        /** Writes the magic at once. */
        public Writer(OutputStream out) throws IOException {
            this.out = out;
            out.write(MAGIC);
        }

        /** Adds one encoded record; a block that reached its size is written. */
        public void add(byte[] record) throws IOException {
            block.addDelimited(record);
            if (block.size() >= BLOCK_BYTES || first) {
                first = false;
                writeBlock();
            }
        }

        /** Ends the current block (if it holds anything) and flushes the stream. */
        public void flush() throws IOException {
            writeBlock();
            out.flush();
        }

        private void writeBlock() throws IOException {
            if (block.size() == 0) {
                return;
            }
            byte[] length = u32(block.size());
            out.write(length);
            out.write(u32(crc(length, 0, 4)));
            block.writeTo(out);
            out.write(u32(block.crc()));
            block.reset();
        }
    }

    /** A growing buffer of delimited records. */
    private static final class Block extends ByteArrayOutputStream {
        void addDelimited(byte[] record) {
            int n = record.length;
            while ((n & ~0x7F) != 0) {
                write((n & 0x7F) | 0x80);
                n >>>= 7;
            }
            write(n);
            writeBytes(record);
        }

        int crc() {
            return TraceFile.crc(buf, 0, count);
        }

        @Override
        public void reset() {
            super.reset();
            if (buf.length > 4 * BLOCK_BYTES) { // a big record's block: give its buffer back
                buf = new byte[BLOCK_BYTES + 1024];
            }
        }
    }

    /** Writes {@code records} as a whole trace file. */
    public static void write(List<TraceRecord> records, OutputStream out) throws IOException {
        Writer w = new Writer(out);
        for (TraceRecord r : records) {
            w.add(r.toByteArray());
        }
        w.flush();
    }

    /**
     * Reads a trace that may have been cut off or damaged: every record of
     * every good block up to the first problem, which is named.
     */
    public static Contents read(InputStream in) throws IOException {
        byte[] head = in.readNBytes(MAGIC.length);
        if (head.length == MAGIC.length && Arrays.equals(head, MAGIC)) {
            return readBlocks(in);
        }
        return readFirstFormat(new SequenceInputStream(new ByteArrayInputStream(head), in));
    }

    /** Reads a trace that must be whole: {@link DamagedException} when it is cut short or damaged. */
    public static List<TraceRecord> readWhole(InputStream in) throws IOException {
        Contents c = read(in);
        if (c.corruption() != null) {
            throw new DamagedException("the trace is corrupt: " + c.corruption());
        }
        if (c.torn()) {
            throw new DamagedException("the trace is cut short after " + c.records().size() + " records");
        }
        return c.records();
    }

    private static Contents readBlocks(InputStream in) throws IOException {
        List<TraceRecord> out = new ArrayList<>();
        long offset = MAGIC.length;
        while (true) {
            byte[] header = in.readNBytes(8);
            if (header.length == 0) {
                return new Contents(out, false, null);
            }
            if (header.length < 8) {
                return new Contents(out, true, null);
            }
            int length = be32(header, 0);
            if (be32(header, 4) != crc(header, 0, 4)) {
                return corrupt(out, "the length of the block at byte " + offset + " fails its checksum");
            }
            if (length <= 0 || length > MAX_BLOCK_BYTES) {
                return corrupt(out, "the block at byte " + offset + " claims " + Integer.toUnsignedString(length)
                        + " bytes");
            }
            byte[] payload = in.readNBytes(length);
            byte[] sum = in.readNBytes(4);
            if (payload.length < length || sum.length < 4) {
                return new Contents(out, true, null);
            }
            if (be32(sum, 0) != crc(payload, 0, length)) {
                return corrupt(out, "the records of the block at byte " + offset + " fail their checksum");
            }
            List<TraceRecord> block = parse(payload);
            if (block == null) {
                return corrupt(out, "the block at byte " + offset + " checks but does not hold whole records");
            }
            out.addAll(block);
            offset += 12L + length;
        }
    }

    private static Contents corrupt(List<TraceRecord> good, String why) {
        return new Contents(good, false, why + " (" + good.size() + " records before it are good)");
    }

    /** The records of one block, or null when its bytes are not whole records. */
    private static List<TraceRecord> parse(byte[] payload) {
        List<TraceRecord> out = new ArrayList<>();
        var in = new ByteArrayInputStream(payload);
        try {
            TraceRecord r;
            while ((r = TraceRecord.parseDelimitedFrom(in)) != null) {
                out.add(r);
            }
        } catch (IOException e) {
            return null;
        }
        return out;
    }

    /** The first format: delimited records only; a record that does not parse ends it as torn. */
    private static Contents readFirstFormat(InputStream in) throws IOException {
        List<TraceRecord> out = new ArrayList<>();
        while (true) {
            TraceRecord r;
            try {
                r = TraceRecord.parseDelimitedFrom(in);
            } catch (InvalidProtocolBufferException e) {
                return new Contents(out, true, null);
            }
            if (r == null) {
                return new Contents(out, false, null);
            }
            out.add(r);
        }
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    private static byte[] u32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static int be32(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }
}
