package dev.gemulator.client;

/**
 * A thread of an emulated process, started by another thread of it. Against
 * a seeded server the parent announces it before it runs, so that its
 * creation has its place in the parent's sequence of calls, and it is named
 * after its parent and the parent's count of threads started so far
 * ("A.t1", "A.t2", "A.t1.t1"). Its body's exception comes back from
 * {@link #join}. Over another transport it is a plain thread of the process.
 */
public final class ClientThread {
    private final RaceTransport transport;
    private final String process;
    private final int id;
    private final String name;
    private Thread thread;
    private volatile Throwable failure;

    ClientThread(RaceTransport transport, String process, int id, String name) {
        this.transport = transport;
        this.process = process;
        this.id = id;
        this.name = name;
    }

    /**
     * Starts {@code body} as a new thread of {@code process}; the calling
     * thread is its parent (a thread of the same process).
     *
     * @param process the process the thread belongs to
     * @param body what the thread runs
     * @return the running thread
     */
    public static ClientThread start(ClientProcess process, Runnable body) {
        if (process.gemulator().transport() instanceof RaceTransport t) {
            return t.startThread(process.name(), body);
        }
        ClientThread ct = new ClientThread(null, process.name(), -1, process.name() + ".thread");
        Thread th = Thread.ofPlatform().unstarted(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                ct.failed(e);
            }
        });
        ct.thread(th);
        th.start();
        return ct;
    }

    void thread(Thread t) {
        this.thread = t;
    }

    void failed(Throwable e) {
        this.failure = e;
    }

    String process() {
        return process;
    }

    int id() {
        return id;
    }

    /**
     * The thread's name on the device.
     *
     * @return its name ("A.t1")
     */
    public String name() {
        return name;
    }

    /**
     * pthread_join: waits until the thread has ended (in the kernel, so that
     * the run goes on meanwhile); rethrows what its body threw.
     */
    public void join() {
        if (transport != null) {
            transport.join(this);
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while joining " + name, e);
        }
        Throwable f = failure;
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new IllegalStateException(name + " failed: " + f, f);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
