package dev.gemulator.server;

import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The simulation thread's inbox: a queue per connection, served by fair
 * queueing. Each queue is charged the simulation time its work took; the
 * thread always takes the next item of the waiting queue that was charged
 * least (a queue that had nothing to do joins at the least charge of those
 * waiting, so idling earns no credit). A connection that floods the
 * simulation with expensive work (debugfs of a big device) therefore delays
 * another connection's call by at most one of its items, however many it
 * sends, and within one connection work runs in the order it came.
 *
 * <p>The inbox holds at most {@code capacity} items and {@code byteCapacity}
 * bytes of them over all queues (an item bigger than that fits alone); an
 * offer beyond is refused (the connection stops reading until
 * {@link Simulation#whenRoom} calls it back). An item's bytes count until
 * it is taken. Thread-safe.
 */
final class FairInbox<W> {
    /** One connection's work, in order. */
    final class Queue {
        private final ArrayDeque<W> items = new ArrayDeque<>();
        private final ArrayDeque<Long> bytes = new ArrayDeque<>();
        private final long order = nextOrder++;
        private long chargedNanos;
        /** In {@link #ready}, or its item is running. */
        private boolean scheduled;

        /** Items waiting in this queue. */
        int size() {
            lock.lock();
            try {
                return items.size();
            } finally {
                lock.unlock();
            }
        }

        /** The simulation time its work has taken so far. */
        long chargedNanos() {
            lock.lock();
            try {
                return chargedNanos;
            } finally {
                lock.unlock();
            }
        }
    }

    /** An item taken, and the queue to charge for it. */
    record Taken<W>(W item, FairInbox<W>.Queue queue) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final PriorityQueue<Queue> ready = new PriorityQueue<>((a, b) -> {
        int c = Long.compare(a.chargedNanos, b.chargedNanos);
        return c != 0 ? c : Long.compare(a.order, b.order);
    });
    private final int capacity;
    private final long byteCapacity;
    private long nextOrder;
    private int size;
    private long bytes;
    /** Room promised to connections for items they will offer ({@link #reserve}). */
    private int reserved;
    private long reservedBytes;
    /** The charge of the queue served last: where a queue that wakes up starts. */
    private long floorNanos;

    FairInbox(int capacity, long byteCapacity) {
        this.capacity = capacity;
        this.byteCapacity = byteCapacity;
    }

    Queue newQueue() {
        lock.lock();
        try {
            return new Queue();
        } finally {
            lock.unlock();
        }
    }

    /** Queues {@code item}, of {@code itemBytes}, unless the inbox is full. */
    boolean offer(Queue q, W item, long itemBytes) {
        lock.lock();
        try {
            if (!room(itemBytes)) {
                return false;
            }
            add(q, item, itemBytes);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private boolean room(long itemBytes) {
        int items = size + reserved;
        long held = bytes + reservedBytes;
        return items < capacity && (items == 0 || held + itemBytes <= byteCapacity);
    }

    /**
     * Promises room for one item of {@code itemBytes} that a connection will
     * offer with {@link #offerReserved} (it reserves before it decodes the
     * frame, so that no decoded request waits outside the inbox's count);
     * false when the inbox is full.
     */
    boolean reserve(long itemBytes) {
        lock.lock();
        try {
            if (!room(itemBytes)) {
                return false;
            }
            reserved++;
            reservedBytes += itemBytes;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives back a promise that will not be used. */
    void unreserve(long itemBytes) {
        lock.lock();
        try {
            reserved--;
            reservedBytes -= itemBytes;
        } finally {
            lock.unlock();
        }
    }

    /** Queues {@code item} in the room {@link #reserve} promised for it. */
    void offerReserved(Queue q, W item, long itemBytes) {
        lock.lock();
        try {
            reserved--;
            reservedBytes -= itemBytes;
            add(q, item, itemBytes);
        } finally {
            lock.unlock();
        }
    }

    /** Queues {@code item} whether or not the inbox is full (a connection's end, which must not wait). */
    void put(Queue q, W item) {
        lock.lock();
        try {
            add(q, item, 0);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts {@code item} back at the head of its queue: the rest of an item
     * that takes several turns, taken again at the queue's next turn (call
     * before {@link #done} charges the turn that is over).
     */
    void putFirst(Queue q, W item) {
        lock.lock();
        try {
            q.items.addFirst(item);
            q.bytes.addFirst(0L);
            size++;
            if (!q.scheduled) {
                q.scheduled = true;
                ready.add(q);
                notEmpty.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    private void add(Queue q, W item, long itemBytes) {
        q.items.add(item);
        q.bytes.add(itemBytes);
        size++;
        bytes += itemBytes;
        if (!q.scheduled) {
            q.chargedNanos = Math.max(q.chargedNanos, floorNanos);
            q.scheduled = true;
            ready.add(q);
            notEmpty.signal();
        }
    }

    /**
     * The next item of the least charged waiting queue; waits up to
     * {@code timeoutNanos} for one (null then). The queue stays out of turn
     * until {@link #done} charges it.
     */
    Taken<W> take(long timeoutNanos) throws InterruptedException {
        lock.lock();
        try {
            long left = timeoutNanos;
            while (ready.isEmpty()) {
                if (left <= 0) {
                    return null;
                }
                left = notEmpty.awaitNanos(left);
            }
            Queue q = ready.poll();
            floorNanos = Math.max(floorNanos, q.chargedNanos);
            size--;
            bytes -= q.bytes.poll();
            return new Taken<>(q.items.poll(), q);
        } finally {
            lock.unlock();
        }
    }

    /** Charges the queue for the item it took and gives it its next turn if it has more. */
    void done(Queue q, long nanos) {
        lock.lock();
        try {
            q.chargedNanos += Math.max(0, nanos);
            if (q.items.isEmpty()) {
                q.scheduled = false;
            } else {
                ready.add(q);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether there is room for another item (of a few bytes). */
    boolean hasRoom() {
        lock.lock();
        try {
            return size + reserved < capacity && bytes + reservedBytes < byteCapacity;
        } finally {
            lock.unlock();
        }
    }

    boolean isEmpty() {
        lock.lock();
        try {
            return size == 0;
        } finally {
            lock.unlock();
        }
    }
}
