package dev.gemulator.kernel.uapi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * User memory made of buffers at chosen addresses: what a caller that is
 * not a real process (a gemscript runner, a Java client, a remote client
 * that sent the bytes of its call) lends the kernel for one system call.
 * Accesses inside a buffer read and write it; anything else faults, unless
 * the memory was made {@link #recordingOutside() recording}, when writes
 * outside every buffer are kept for the caller to apply itself (a program
 * behind the shim, whose pointers the server cannot check).
 */
public final class UserBuffers implements UserMemory {
    /** One write the kernel made: where and what. */
    public record Write(long address, byte[] data) {
    }

    private final TreeMap<Long, byte[]> buffers = new TreeMap<>();
    private final List<Write> writes = new ArrayList<>();
    private boolean recordingOutside;
    private long next = 0x7f00_0000_0000L;

    /** Writes outside every buffer are recorded (and succeed) rather than fault. */
    public UserBuffers recordingOutside() {
        this.recordingOutside = true;
        return this;
    }

    /** Lends {@code data} at {@code address} (the buffer is the caller's: the kernel's writes land in it). */
    public UserBuffers put(long address, byte[] data) {
        buffers.put(address, data);
        return this;
    }

    /** Lends a new zeroed buffer of {@code length} bytes at an address of its own; returns the address. */
    public long allocate(int length) {
        long address = next;
        next += Math.max(4096, (length + 4095L) & ~4095L);
        buffers.put(address, new byte[length]);
        return address;
    }

    /** The buffer at {@code address}, as the kernel left it. */
    public byte[] get(long address) {
        return buffers.get(address);
    }

    /** Each lent buffer in address order. */
    public void forEachBuffer(BiConsumer<Long, byte[]> f) {
        buffers.forEach(f);
    }

    /** Every write the kernel made, in order (inside and outside the buffers). */
    public List<Write> writes() {
        return writes;
    }

    private Map.Entry<Long, byte[]> containing(long address, int length) {
        Map.Entry<Long, byte[]> e = buffers.floorEntry(address);
        if (e == null || address - e.getKey() > e.getValue().length - (long) length) {
            return null;
        }
        return e;
    }

    @Override
    public byte[] read(long address, int length) {
        if (length == 0) {
            return new byte[0];
        }
        Map.Entry<Long, byte[]> e = containing(address, length);
        if (e == null) {
            return null;
        }
        int off = (int) (address - e.getKey());
        return Arrays.copyOfRange(e.getValue(), off, off + length);
    }

    @Override
    public boolean write(long address, byte[] data) {
        if (data.length == 0) {
            return true;
        }
        Map.Entry<Long, byte[]> e = containing(address, data.length);
        if (e == null) {
            if (!recordingOutside || address == 0) {
                return false;
            }
        } else {
            System.arraycopy(data, 0, e.getValue(), (int) (address - e.getKey()), data.length);
        }
        writes.add(new Write(address, data.clone()));
        return true;
    }
}
