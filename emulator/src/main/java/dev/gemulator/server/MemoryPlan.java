package dev.gemulator.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a server's limits let its clients make it hold at worst, in heap
 * bytes, term by term, checked against what the JVM can hold before the
 * server starts: memory bounded by construction. Each term is a limit
 * times what one of its things costs at most (measured with the benchmarks'
 * heap probes and rounded up): the device's pages with their headers and
 * indexes, GEM objects, open files (a drm file with its tables is the
 * biggest), the slots of handle and fence-id tables, fences, threads,
 * mappings, and per connection its bookkeeping and its process; then the
 * requests decoded for the simulation (a frame is decoded only once room in
 * the inbox is reserved for it, so they are the inbox's bytes, and the one
 * request running) and a reserve for the rest of the JVM.
 *
 * <p>Buffers of the connections (partial frames, replies not yet sent) are
 * direct memory, which the JVM limits itself: a connection that cannot get
 * one fails alone, with a reason, and the rest of the server goes on.
 */
public record MemoryPlan(List<Term> terms, long maxHeapBytes) {
    /** One thing a client can make the server hold: how many at most, at what cost each. */
    public record Term(String what, long count, long bytesEach, String option) {
        public long bytes() {
            return count > Long.MAX_VALUE / Math.max(1, bytesEach) ? Long.MAX_VALUE : count * bytesEach;
        }
    }

    /** A page's 4096 bytes with its array header; its index is counted in the device's memory. */
    static final long PAGE_BYTES_NUMERATOR = 4096 + 16;
    static final long OBJECT_BYTES = 512;
    static final long FILE_BYTES = 2048;
    static final long ID_SLOT_BYTES = 8;
    static final long FENCE_BYTES = 320;
    static final long THREAD_BYTES = 512;
    static final long MAP_BYTES = 256;
    /** A connection's channel, pipeline and handler, its process with its fd table and three files. */
    static final long CONNECTION_BYTES = 48 << 10;
    /** Classes, Netty, metrics, the trace's buffers and everything else of the JVM. */
    static final long RESERVE_BYTES = 160L << 20;

    /** The plan of {@code limits} for a server whose frames are at most {@code maxFrameBytes}. */
    public static MemoryPlan of(Limits limits, int maxFrameBytes, long maxHeapBytes) {
        List<Term> t = new ArrayList<>();
        t.add(new Term("device memory (pages and their indexes)", limits.deviceMemoryBytes() / 4096,
                PAGE_BYTES_NUMERATOR, "--device-memory"));
        t.add(new Term("GEM objects", limits.maxObjectsPerDevice(), OBJECT_BYTES, "--max-objects"));
        t.add(new Term("open files", limits.maxFiles(), FILE_BYTES, "--max-files"));
        t.add(new Term("handle and fence-id table slots", limits.maxIdSlots(), ID_SLOT_BYTES, "--max-id-slots"));
        t.add(new Term("fences", limits.maxFences(), FENCE_BYTES, "--max-fences"));
        t.add(new Term("threads", limits.maxThreads(), THREAD_BYTES, "--max-threads"));
        t.add(new Term("mappings", limits.maxMaps(), MAP_BYTES, "--max-maps"));
        t.add(new Term("connections", limits.maxClients(), CONNECTION_BYTES, "--max-clients"));
        t.add(new Term("requests queued for the simulation", 1, Limits.INBOX_BYTES, "(fixed)"));
        t.add(new Term("the request running, and its answer", 2, maxFrameBytes, "--max-frame"));
        t.add(new Term("the rest of the JVM", 1, RESERVE_BYTES, "(fixed)"));
        return new MemoryPlan(List.copyOf(t), maxHeapBytes);
    }

    /** The heap the limits allow at worst. */
    public long worstCaseBytes() {
        long sum = 0;
        for (Term x : terms) {
            sum = x.bytes() > Long.MAX_VALUE - sum ? Long.MAX_VALUE : sum + x.bytes();
        }
        return sum;
    }

    public boolean fits() {
        return worstCaseBytes() <= maxHeapBytes;
    }

    /**
     * The most device memory that fits beside every other term (0 when
     * nothing does), in whole pages.
     */
    public long deviceMemoryThatFits() {
        long others = 0;
        for (Term x : terms.subList(1, terms.size())) {
            others += x.bytes();
        }
        long room = maxHeapBytes - others;
        return room <= 0 ? 0 : room / PAGE_BYTES_NUMERATOR * 4096;
    }

    /** The plan as a table: each term, the total and the heap. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Term x : terms) {
            b.append(String.format(Locale.ROOT, "  %-42s %,12d x %,8d B = %,10.1f MiB  %s%n", x.what(), x.count(),
                    x.bytesEach(), x.bytes() / 1048576.0, x.option()));
        }
        b.append(String.format(Locale.ROOT, "  %-42s %,44.1f MiB of a %,.1f MiB heap%n", "at worst",
                worstCaseBytes() / 1048576.0, maxHeapBytes / 1048576.0));
        return b.toString();
    }
}
