package dev.gemulator.client;

import dev.gemulator.client.wire.WireClient;
import dev.gemulator.proto.v1.Request;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.proto.v1.SyscallResult;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The transport to a gemulator server over TCP: one connection per process,
 * opened with a Hello on its first call; the threads of a process share its
 * connection, each with its own thread id, and wait for their own replies.
 */
final class ServerTransport implements Transport {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final String host;
    private final int port;
    private final String token;
    private final Duration retryFor;
    private final Consumer<String> notice;
    private final Map<String, WireClient> connections = new ConcurrentHashMap<>();
    /** This transport's id for the calling Java thread (gone with the thread). */
    private final ThreadLocal<Integer> threadId = new ThreadLocal<>();
    private final AtomicInteger nextThreadId = new AtomicInteger();

    ServerTransport(String host, int port, String token, Duration retryFor, Consumer<String> notice) {
        this.host = host;
        this.port = port;
        this.token = token;
        this.retryFor = retryFor;
        this.notice = notice;
    }

    @Override
    public SyscallResult call(String process, Syscall call) {
        WireClient c = connections.computeIfAbsent(process,
                p -> new WireClient(group, host, port, p, token, false, retryFor, notice));
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
        SyscallResult r;
        try {
            r = c.call(Request.newBuilder().setThreadId(thread).setCall(call)).getResult();
        } catch (WireClient.ConnectionLost e) {
            connections.remove(process, c);
            c.close();
            throw e;
        }
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
