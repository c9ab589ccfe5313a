package dev.gemulator.kernel;

/**
 * A kernel object with a reference count (struct kref / refcount_t) and a
 * life: once freed, any further access is a use-after-free, which the model
 * reports and survives (the Java object stays, the kernel's memory would not).
 *
 * <p>Reference counts behave like refcount_t: a drop below zero or a get on
 * zero is reported and the count saturates, so a broken object is never freed
 * twice.
 */
public abstract class KObject {
    /** refcount_t's REFCOUNT_SATURATED. */
    public static final int SATURATED = Integer.MIN_VALUE / 2;

    private int refcount = 1;
    private boolean freed;
    private final int id;

    protected KObject(int id) {
        this.id = id;
    }

    /** The kernel this object lives in. */
    protected abstract Kernel kernel();

    /** The object's kind as reports name it ("gem", "dma-buf", "file", ...). */
    public abstract String kind();

    /** A sequence number within the kind, for reports and traces. */
    public final int id() {
        return id;
    }

    /** "gem#3". */
    @Override
    public String toString() {
        return kind() + "#" + id;
    }

    public final int refcount() {
        return refcount;
    }

    public final boolean isFreed() {
        return freed;
    }

    /** Touches the object's memory: reports a use-after-free if it is gone. */
    public final void use(String function, String access) {
        if (freed) {
            kernel().observer().useAfterFree(function, this, access);
        }
    }

    /** kref_get: one step. */
    public final void get(String function) {
        Kernel k = kernel();
        k.point(function, StepKind.GET, this);
        use(function, "get");
        if (refcount == SATURATED) {
            return;
        }
        if (refcount == 0) {
            k.observer().refcountAddOnZero(function, this);
            refcount = SATURATED;
            return;
        }
        if (refcount == Integer.MAX_VALUE) {
            k.observer().refcountOverflow(function, this);
            refcount = SATURATED;
            return;
        }
        refcount++;
    }

    /** kref_get_unless_zero: one step. */
    public final boolean getUnlessZero(String function) {
        kernel().point(function, StepKind.GET, this);
        return incrementUnlessZero();
    }

    /**
     * The increment of kref_get_unless_zero (atomic_inc_not_zero) inside a
     * step the caller has already started: for lookups whose read of a table
     * and whose reference are one atomic step, as RCU lookups are.
     */
    protected final boolean incrementUnlessZero() {
        if (refcount == 0 || freed) {
            return false;
        }
        if (refcount != SATURATED) {
            refcount++;
        }
        return true;
    }

    /**
     * kref_put: one step. Returns true when this put dropped the last
     * reference, in which case the caller runs the release.
     */
    public final boolean put(String function) {
        Kernel k = kernel();
        k.point(function, StepKind.PUT, this);
        use(function, "put");
        if (refcount == SATURATED) {
            return false;
        }
        if (refcount <= 0) {
            k.observer().refcountUnderflow(function, this);
            refcount = SATURATED;
            return false;
        }
        return --refcount == 0;
    }

    /** Marks the object freed (kfree); the caller has released what it owned. */
    protected final void markFreed(String function) {
        if (freed) {
            kernel().observer().useAfterFree(function, this, "double free");
            return;
        }
        freed = true;
        kernel().observer().freed(function, this);
    }
}
