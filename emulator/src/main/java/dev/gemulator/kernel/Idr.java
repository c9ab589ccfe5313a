package dev.gemulator.kernel;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * struct idr: a map from small integer ids to pointers that hands out the
 * lowest free id at or above a start. An id can be allocated with no pointer
 * (NULL), which keeps the id taken without making anything findable; the
 * kernel does that to reserve handles and to retire vgem fence ids.
 *
 * <p>Not itself a step: callers take the kernel's lock around it and mark
 * their own steps.
 *
 * <p>An idr may draw its memory from a {@link Budget} shared with others
 * (the machine's): growing past its first slots takes them from the budget,
 * {@link #clear} gives them back, and an idr that cannot grow answers as a
 * full one (-ENOSPC), as the kernel's allocation would fail.
 */
public final class Idr<T> {
    /** Slots that idrs of one machine may hold beyond their first ones. */
    public static final class Budget {
        private final long limitSlots;
        private long usedSlots;

        public Budget(long limitSlots) {
            this.limitSlots = limitSlots;
        }

        boolean take(long slots) {
            if (slots > limitSlots - usedSlots) {
                return false;
            }
            usedSlots += slots;
            return true;
        }

        void give(long slots) {
            usedSlots -= slots;
        }

        public long usedSlots() {
            return usedSlots;
        }

        public long limitSlots() {
            return limitSlots;
        }
    }

    private static final int FIRST_SLOTS = 8;
    /** Stands for an id that is allocated but maps to NULL. */
    private static final Object RESERVED = new Object();

    private final int base;
    private Object[] slots = new Object[FIRST_SLOTS];
    private final Budget budget;
    /** Every id in [base, hint) is taken. */
    private int hint;
    private int allocated;
    private int end = Integer.MAX_VALUE;

    /** Ids at or above {@code end} are never handed out (idr_alloc's end argument). */
    public void setEnd(int end) {
        this.end = end;
    }

    /** An idr whose ids start at {@code base} (the kernel's idr_init_base; 1 for handles and names). */
    public Idr(int base) {
        this(base, null);
    }

    /** As above, growing only as far as {@code budget} allows (null: no limit). */
    public Idr(int base, Budget budget) {
        this.base = base;
        this.hint = base;
        this.budget = budget;
    }

    /** Result of {@link #replace} for an id that is not allocated (idr_replace's -ENOENT). */
    public static final Object NOT_ALLOCATED = new Object();

    /**
     * idr_alloc: the lowest free id, mapped to {@code value} (null reserves
     * it). Returns -1 when the id space is exhausted (-ENOSPC).
     */
    public int alloc(T value) {
        int id = hint;
        while (id < slots.length && slots[id] != null) {
            id++;
        }
        if (id >= end || id == Integer.MAX_VALUE) {
            return -1;
        }
        if (id >= slots.length) {
            int size = slots.length;
            while (size <= id) {
                size = size > (1 << 29) ? Integer.MAX_VALUE - 8 : size * 2;
            }
            if (budget != null && !budget.take(size - slots.length)) {
                return -1;
            }
            slots = Arrays.copyOf(slots, size);
        }
        slots[id] = value == null ? RESERVED : value;
        hint = id + 1;
        allocated++;
        return id;
    }

    /** idr_find: the pointer at {@code id}, or null when free or NULL. */
    @SuppressWarnings("unchecked")
    public T find(long id) {
        if (id < base || id >= slots.length) {
            return null;
        }
        Object o = slots[(int) id];
        return o == RESERVED ? null : (T) o;
    }

    /** Whether {@code id} is allocated (with or without a pointer). */
    public boolean isAllocated(long id) {
        return id >= base && id < slots.length && slots[(int) id] != null;
    }

    /**
     * idr_replace: stores {@code value} at an allocated id and returns the old
     * pointer (null for NULL), or {@link #NOT_ALLOCATED}.
     */
    public Object replace(long id, T value) {
        if (!isAllocated(id)) {
            return NOT_ALLOCATED;
        }
        Object old = slots[(int) id];
        slots[(int) id] = value == null ? RESERVED : value;
        return old == RESERVED ? null : old;
    }

    /** idr_remove: frees the id and returns the pointer it held (null if none). */
    @SuppressWarnings("unchecked")
    public T remove(long id) {
        if (!isAllocated(id)) {
            return null;
        }
        Object old = slots[(int) id];
        slots[(int) id] = null;
        allocated--;
        if (id < hint) {
            hint = (int) id;
        }
        return old == RESERVED ? null : (T) old;
    }

    /** How many ids are allocated. */
    public int size() {
        return allocated;
    }

    public boolean isEmpty() {
        return allocated == 0;
    }

    /** idr_get_next: the lowest allocated id at or above {@code from}, or -1 when there is none. */
    public int nextAllocated(int from) {
        for (int id = Math.max(from, base); id < slots.length; id++) {
            if (slots[id] != null) {
                return id;
            }
        }
        return -1;
    }

    /** idr_for_each, in increasing id order, over allocated ids (pointer or NULL). */
    public void forEachId(IntConsumer action) {
        for (int id = 0; id < slots.length; id++) {
            if (slots[id] != null) {
                action.accept(id);
            }
        }
    }

    /** idr_destroy. */
    public void clear() {
        if (budget != null) {
            budget.give(slots.length - FIRST_SLOTS);
        }
        slots = new Object[FIRST_SLOTS];
        hint = base;
        allocated = 0;
    }
}
