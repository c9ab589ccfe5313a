package dev.gemulator.client;

import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import dev.gemulator.server.WireClient;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A transport to a gemulator server over TCP: one connection per process,
 * opened with a Hello on first use; the threads of a process share its
 * connection, each with its own thread id, and wait for their own replies.
 */
public final class NettyTransport implements Transport {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final String host;
    private final int port;
    private final String token;
    private final Map<String, WireClient> connections = new ConcurrentHashMap<>();
    /** This transport's id for the calling Java thread (gone with the thread). */
    private final ThreadLocal<Integer> threadId = new ThreadLocal<>();
    private final java.util.concurrent.atomic.AtomicInteger nextThreadId = new java.util.concurrent.atomic.AtomicInteger();

    public NettyTransport(String host, int port, String token) {
        this.host = host;
        this.port = port;
        this.token = token;
    }

    @Override
    public SyscallResult call(String process, Syscall call) {
        WireClient c = connections.computeIfAbsent(process, p -> new WireClient(group, host, port, p, token));
        Integer known = threadId.get();
        int thread;
        if (known != null) {
            thread = known;
        } else {
            thread = nextThreadId.getAndIncrement();
            threadId.set(thread);
            if (thread != 0) {
                c.threadStart(thread, Thread.currentThread().getName());
            }
        }
        SyscallResult r = c.call(Request.newBuilder().setThreadId(thread).setCall(call)).getResult();
        if (call.hasExit()) {
            connections.remove(process);
            c.close();
        }
        return r;
    }

    @Override
    public void close() {
        connections.values().forEach(WireClient::close);
        connections.clear();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
