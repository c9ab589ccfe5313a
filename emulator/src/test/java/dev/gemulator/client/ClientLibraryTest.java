package dev.gemulator.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.server.InProcessTransport;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The client library against an in-process machine: the calls go through the protocol messages. */
class ClientLibraryTest {

    @Test
    void twoProcessesShareABufferByNameAndByAPassedDmaBuf() {
        try (Gemulator g = InProcessTransport.connect()) {
            ClientProcess a = g.process("A");
            ClientProcess b = g.process("B");
            DrmFd fa = a.open("card0");
            assertEquals(3, fa.number());
            DrmFd.Dumb bo = fa.createDumb(64, 64, 32);
            try (Mapping ma = fa.mmap(fa.mapDumb(bo.handle()), bo.size())) {
                ma.write(0, (byte) 0xca, (byte) 0xfe);
                DrmFd fb = b.open("card0");
                DrmFd.Opened opened = fb.gemOpen(fa.flink(bo.handle()));
                assertEquals(bo.size(), opened.size());
                try (Mapping mb = fb.mmap(fb.mapDumb(opened.handle()), bo.size())) {
                    assertArrayEquals(new byte[] {(byte) 0xca, (byte) 0xfe}, mb.read(0, 2));
                }
                DmaBufFd d = fa.primeHandleToFd(bo.handle(), DrmFd.CLOEXEC | DrmFd.RDWR);
                DmaBufFd bd = a.sendFd(d, b);
                assertEquals(bo.size(), bd.size());
                try (Mapping md = bd.mmap(0, bo.size())) {
                    md.write(2, (byte) 0xf0, (byte) 0x0d);
                }
                assertArrayEquals(new byte[] {(byte) 0xca, (byte) 0xfe, (byte) 0xf0, (byte) 0x0d}, ma.read(0, 4));
                assertEquals(opened.handle() + 1, fb.primeFdToHandle(bd), "flink and PRIME handles are not unified");
            }
        }
    }

    @Test
    void aFailedCallThrowsWithTheKernelsErrnoAndMessage() {
        try (Gemulator g = InProcessTransport.connect()) {
            DrmFd fd = g.process("A").open("card0");
            DrmException e = assertThrows(DrmException.class, () -> fd.gemClose(7));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("handle 7 does not exist"), e.getMessage());
            assertEquals(Errno.ENOENT, assertThrows(DrmException.class, () -> g.process("A").open("card3")).errno());
        }
    }

    @Test
    void fencesAreSeenThroughPollOnTheDmaBuf() {
        try (Gemulator g = InProcessTransport.connect()) {
            DrmFd fd = g.process("A").open("card0");
            DrmFd.Dumb bo = fd.createDumb(8, 8, 32);
            DmaBufFd d = fd.primeHandleToFd(bo.handle(), DrmFd.RDWR);
            int fence = fd.fenceAttach(bo.handle(), true);
            assertEquals(0, d.poll(Fd.POLLIN | Fd.POLLOUT, 0));
            Fd sync = d.exportSyncFile(1);
            fd.fenceSignal(fence);
            assertEquals(Fd.POLLIN | Fd.POLLOUT, d.poll(Fd.POLLIN | Fd.POLLOUT, 0));
            assertEquals(Fd.POLLIN, sync.poll(Fd.POLLIN, 0));
        }
    }

    @Test
    void severalThreadsOfOneProcessShareOneConnection() throws Exception {
        try (Gemulator g = InProcessTransport.connect()) {
            ClientProcess a = g.process("A");
            DrmFd fd = a.open("card0");
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 200; i++) {
                        DrmFd.Dumb bo = fd.createDumb(4, 4, 32);
                        fd.primeHandleToFd(bo.handle(), 0).close();
                        fd.gemClose(bo.handle());
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            InProcessTransport tr = (InProcessTransport) g.transport();
            assertEquals(0, tr.machine().device(0).liveObjects().count());
            assertTrue(tr.machine().teardown().isEmpty(), tr.machine().checkers().reports().toString());
        }
    }
}
