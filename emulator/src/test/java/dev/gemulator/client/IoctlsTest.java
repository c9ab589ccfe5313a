package dev.gemulator.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gemulator.kernel.uapi.Ioctl;
import dev.gemulator.proto.v1.Syscall;
import dev.gemulator.server.WireIoctl;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The client encodes the ioctls it makes itself (it depends on nothing of
 * the emulator): each request number and struct must be the very bytes the
 * emulator's own uapi records encode for the same call.
 */
class IoctlsTest {

    private static Syscall server(int fd, Ioctl ioctl) {
        return WireIoctl.syscall(fd, ioctl).build();
    }

    @Test
    void everyIoctlOfTheClientIsTheUapisBytes() {
        int fd = 7;
        Map<Syscall, Syscall> pairs = Map.ofEntries(
                Map.entry(Ioctls.getMagic(fd), server(fd, new Ioctl.GetMagic())),
                Map.entry(Ioctls.gemClose(fd, 3), server(fd, new Ioctl.GemClose(3))),
                Map.entry(Ioctls.flink(fd, 3), server(fd, new Ioctl.GemFlink(3))),
                Map.entry(Ioctls.gemOpen(fd, 9), server(fd, new Ioctl.GemOpen(9))),
                Map.entry(Ioctls.getCap(fd, 5), server(fd, new Ioctl.GetCap(5))),
                Map.entry(Ioctls.authMagic(fd, 42), server(fd, new Ioctl.AuthMagic(42))),
                Map.entry(Ioctls.setMaster(fd), server(fd, new Ioctl.SetMaster())),
                Map.entry(Ioctls.dropMaster(fd), server(fd, new Ioctl.DropMaster())),
                Map.entry(Ioctls.handleToFd(fd, 1, 0x80002), server(fd, new Ioctl.PrimeHandleToFd(1, 0x80002))),
                Map.entry(Ioctls.fdToHandle(fd, 4), server(fd, new Ioctl.PrimeFdToHandle(4))),
                Map.entry(Ioctls.fenceAttach(fd, 1, 1), server(fd, new Ioctl.VgemFenceAttach(1, 1, 0))),
                Map.entry(Ioctls.fenceSignal(fd, 2), server(fd, new Ioctl.VgemFenceSignal(2, 0))),
                Map.entry(Ioctls.createDumb(fd, 64, 48, 32), server(fd, new Ioctl.ModeCreateDumb(64, 48, 32, 0))),
                Map.entry(Ioctls.mapDumb(fd, 1), server(fd, new Ioctl.ModeMapDumb(1))),
                Map.entry(Ioctls.destroyDumb(fd, 1), server(fd, new Ioctl.ModeDestroyDumb(1))),
                Map.entry(Ioctls.sync(fd, 3), server(fd, new Ioctl.DmaBufSync(3))),
                Map.entry(Ioctls.exportSyncFile(fd, 1), server(fd, new Ioctl.DmaBufExportSyncFile(1))),
                Map.entry(Ioctls.importSyncFile(fd, 5, 2), server(fd, new Ioctl.DmaBufImportSyncFile(5, 2))));
        pairs.forEach((client, emulator) -> assertEquals(emulator, client, emulator.toString()));
    }

    @Test
    void versionLendsItsNameBufferAsTheUapiSays() {
        var client = Ioctls.version(3).getIoctl();
        var emulator = server(3, new Ioctl.Version()).getIoctl();
        assertEquals(emulator.getRequest(), client.getRequest());
        byte[] c = client.getMemory(0).getData().toByteArray();
        byte[] e = emulator.getMemory(0).getData().toByteArray();
        assertEquals(e.length, c.length);
        java.nio.ByteBuffer cb = java.nio.ByteBuffer.wrap(c).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.nio.ByteBuffer eb = java.nio.ByteBuffer.wrap(e).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(eb.getLong(16), cb.getLong(16), "name_len");
        assertEquals(cb.getLong(24), client.getMemory(1).getAddress(), "name points at the lent buffer");
        assertEquals(List.of(256, 256), List.of(client.getMemory(1).getData().size(),
                emulator.getMemory(1).getData().size()));
    }
}
