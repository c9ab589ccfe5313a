package dev.gemulator.kernel.uapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.SysResult;
import dev.gemulator.kernel.Task;
import dev.gemulator.kernel.proc.Process;
import dev.gemulator.kernel.proc.Syscalls;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The raw uapi boundary: a request number and the bytes of the caller's
 * memory, decoded once as drm_ioctl does (size from the number, copy in,
 * the one table, copy out).
 */
class UapiBoundaryTest {
    private static final long ARG = 0x5000;

    private final Machine machine = new Machine(dev.gemulator.kernel.Profile.MODERN);
    private final Syscalls sys = machine.sys();
    private final Process p = machine.spawn("A");
    private final Task t = p.mainTask();
    private final int card = (int) sys.open(t, "card0").v0();

    private SysResult raw(int fd, int cmd, UserBuffers mem) {
        return sys.ioctl(t, fd, cmd, ARG, mem);
    }

    @Test
    void everyRowHasItsOwnNumberAndName() {
        Set<Integer> cmds = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (IoctlTable.Row<?> r : IoctlTable.rows()) {
            assertTrue(cmds.add(r.cmd()), "two rows for " + IoctlCmd.hex(r.cmd()));
            assertTrue(names.add(r.name()), "two rows named " + r.name());
        }
        assertEquals(0xcf, IoctlTable.drmCoreCount(), "DRM_CORE_IOCTL_COUNT of Linux 6.1 (GETFB2 is the last)");
        assertEquals(3, IoctlTable.drmDriverCount("vgem"), "vgem_ioctls[] has an empty slot 0 and ATTACH, SIGNAL");
        assertEquals("create_dumb", IoctlTable.byCmd(0xc02064b2).shortName());
    }

    @Test
    void versionAnswersLengthsFirstAndTheNameWhenGivenABuffer() {
        // the two-call protocol: lengths with NULL pointers, then buffers of those lengths
        byte[] v = new byte[64];
        UserBuffers mem = new UserBuffers().put(ARG, v);
        assertTrue(raw(card, Ioctl.Version.CMD, mem).isOk());
        KData out = KData.of(v, 64);
        assertEquals(1, out.u32(0), "version_major");
        assertEquals(4, out.u64(16), "name_len");
        assertEquals(8, out.u64(32), "date_len");
        assertEquals("Virtual GEM provider".length(), out.u64(48), "desc_len");
        long name = mem.allocate(4);
        long desc = mem.allocate(5);
        out.putU64(24, name).putU64(48, 5).putU64(56, desc);
        byte[] again = out.bytes();
        mem.put(ARG, again);
        assertTrue(raw(card, Ioctl.Version.CMD, mem).isOk());
        assertEquals("vgem", new String(mem.get(name), StandardCharsets.US_ASCII));
        assertEquals("Virtu", new String(mem.get(desc), StandardCharsets.US_ASCII), "a short buffer gets a prefix");
        assertEquals(20, KData.of(again, 64).u64(48), "the length says the whole length");
    }

    @Test
    void theNumbersSizeDecidesWhatIsCopiedInAndOut() {
        // GET_CAP(PRIME) as _IOWR with only 8 bytes: the capability goes in, nothing past 8 bytes comes out
        byte[] shortCap = new KData(8).putU64(0, Uapi.DRM_CAP_PRIME).bytes();
        UserBuffers mem = new UserBuffers().put(ARG, shortCap);
        assertTrue(raw(card, IoctlCmd.iowr('d', 0x0c, 8), mem).isOk());
        assertEquals(1, mem.writes().size());
        assertEquals(8, mem.writes().get(0).data().length);
        // _IOR: nothing is copied in, so the capability is 0 and refused; the value still comes out, zeroed
        byte[] cap = new KData(16).putU64(0, Uapi.DRM_CAP_PRIME).putU64(8, 77).bytes();
        UserBuffers mem2 = new UserBuffers().put(ARG, cap);
        assertEquals(Errno.EOPNOTSUPP, raw(card, IoctlCmd.ior('d', 0x0c, 16), mem2).errno());
        assertEquals(0, KData.of(cap, 16).u64(8), "drm_getcap zeroes the value, and drm_ioctl copies out on failure");
    }

    @Test
    void anArgumentThatCannotBeReadOrWrittenIsEfault() {
        assertEquals(Errno.EFAULT, raw(card, Ioctl.GemOpen.CMD, new UserBuffers()).errno());
        // a buffer too short for the struct cannot be read either
        assertEquals(Errno.EFAULT, raw(card, Ioctl.GemOpen.CMD, new UserBuffers().put(ARG, new byte[8])).errno());
        // an unknown number fails before anything is read
        assertEquals(Errno.EINVAL, raw(card, IoctlCmd.iowr('d', 0xf0, 16), new UserBuffers()).errno());
        assertEquals(Errno.ENOTTY, raw(card, IoctlCmd.iowr('x', 0, 16), new UserBuffers()).errno());
    }

    @Test
    void getUniqueIsEmptyUntilSetVersionAsksForInterfaceOneOne() {
        UserBuffers mem = new UserBuffers();
        long buf = mem.allocate(16);
        byte[] u = new KData(16).putU64(0, 16).putU64(8, buf).bytes();
        mem.put(ARG, u);
        assertTrue(raw(card, Ioctl.GetUnique.CMD, mem).isOk());
        assertEquals(0, KData.of(u, 16).u64(0));
        SysResult sv = sys.ioctl(t, card, new Ioctl.SetVersion(1, 1, -1, -1));
        assertTrue(sv.isOk(), sv.message());
        assertEquals(4, sv.v1(), "the interface minor the core speaks comes back");
        byte[] u2 = new KData(16).putU64(0, 16).putU64(8, buf).bytes();
        mem.put(ARG, u2);
        assertTrue(raw(card, Ioctl.GetUnique.CMD, mem).isOk());
        assertEquals(4, KData.of(u2, 16).u64(0));
        assertEquals("vgem", new String(mem.get(buf), 0, 4, StandardCharsets.US_ASCII));
        assertEquals(Errno.EINVAL, sys.ioctl(t, card, new Ioctl.SetVersion(1, 5, -1, -1)).errno());
        assertEquals(Errno.EINVAL, sys.ioctl(t, card, new Ioctl.SetVersion(-1, -1, 2, 0)).errno());
    }

    @Test
    void getClientAnswersTheCallerItself() {
        SysResult c = sys.ioctl(t, card, new Ioctl.GetClient(0));
        assertTrue(c.isOk());
        assertEquals(1, c.v0(), "a root opener's file is authenticated");
        assertEquals(p.pid(), c.v1(), "the caller's pid");
        assertEquals(65534, c.v2(), "overflowuid");
        assertEquals(Errno.EINVAL, sys.ioctl(t, card, new Ioctl.GetClient(1)).errno());
    }

    @Test
    void setNameReadsAStringAtTheArgument() {
        int h = (int) sys.ioctl(t, card, new Ioctl.ModeCreateDumb(1, 1, 8, 0)).v0();
        int buf = (int) sys.ioctl(t, card, new Ioctl.PrimeHandleToFd(h, Uapi.DRM_RDWR)).v0();
        UserBuffers mem = new UserBuffers().put(ARG, "scanout\0".getBytes(StandardCharsets.US_ASCII));
        assertTrue(raw(buf, Ioctl.DmaBufSetName.CMD_B, mem).isOk());
        assertEquals("scanout", ((dev.gemulator.kernel.dmabuf.DmaBuf) p.files().get(buf).privateData()).name());
        byte[] tooLong = ("x".repeat(40) + "\0").getBytes(StandardCharsets.US_ASCII);
        assertEquals(Errno.EINVAL, raw(buf, Ioctl.DmaBufSetName.CMD_A, new UserBuffers().put(ARG, tooLong)).errno());
        assertEquals(Errno.EFAULT, raw(buf, Ioctl.DmaBufSetName.CMD_B, new UserBuffers()).errno());
    }

    @Test
    void mergingTwoPendingSyncFilesGivesOneWithBothFences() {
        int h1 = (int) sys.ioctl(t, card, new Ioctl.ModeCreateDumb(1, 1, 8, 0)).v0();
        int h2 = (int) sys.ioctl(t, card, new Ioctl.ModeCreateDumb(1, 1, 8, 0)).v0();
        int f1 = (int) sys.ioctl(t, card, new Ioctl.VgemFenceAttach(h1, Uapi.VGEM_FENCE_WRITE, 0)).v0();
        sys.ioctl(t, card, new Ioctl.VgemFenceAttach(h2, Uapi.VGEM_FENCE_WRITE, 0));
        int b1 = (int) sys.ioctl(t, card, new Ioctl.PrimeHandleToFd(h1, 0)).v0();
        int b2 = (int) sys.ioctl(t, card, new Ioctl.PrimeHandleToFd(h2, 0)).v0();
        int s1 = (int) sys.ioctl(t, b1, new Ioctl.DmaBufExportSyncFile(1)).v0();
        int s2 = (int) sys.ioctl(t, b2, new Ioctl.DmaBufExportSyncFile(1)).v0();
        SysResult m = sys.ioctl(t, s1, new Ioctl.SyncMerge("both", s2, 0, 0));
        assertTrue(m.isOk(), m.message());
        int merged = (int) m.v0();
        assertEquals(s2 + 1, merged, "the lowest free fd");
        SysResult info = sys.ioctl(t, merged, new Ioctl.SyncFileInfo(0, 0, 0, 0));
        assertEquals(0, info.v0(), "pending");
        assertEquals(2, info.v1(), "two fences");
        UserBuffers mem = new UserBuffers();
        long array = mem.allocate(2 * Ioctl.SyncFileInfo.FENCE_INFO_BYTES);
        assertEquals(Errno.EINVAL, sys.ioctl(t, merged, new Ioctl.SyncFileInfo(0, 1, 0, array)).errno(),
                "room for one of two");
        sys.ioctl(t, card, new Ioctl.VgemFenceSignal(f1, 0));
        KData in = new KData(56).putU32(40, 2).putU64(48, array);
        byte[] arg = in.bytes();
        mem.put(ARG, arg);
        assertTrue(raw(merged, Ioctl.SyncFileInfo.CMD, mem).isOk());
        assertEquals("both", KData.of(arg, 56).string(0, 32));
        KData fences = KData.of(mem.get(array), 160);
        assertEquals("vgem", fences.string(32, 32));
        assertEquals(1, fences.u32(64), "the signalled one");
        assertEquals(0, fences.u32(80 + 64), "the pending one");
        assertEquals(Errno.ENOENT, sys.ioctl(t, s1, new Ioctl.SyncMerge("x", card, 0, 0)).errno(), "fd2 not a sync_file");
    }

    @Test
    void aWriteOutsideTheLentBuffersFaultsUnlessRecorded() {
        UserBuffers strict = new UserBuffers();
        assertNull(strict.read(0x1234, 4));
        assertTrue(!strict.write(0x1234, new byte[] {1}));
        UserBuffers recording = new UserBuffers().recordingOutside();
        assertTrue(recording.write(0x1234, new byte[] {1}));
        assertNotNull(recording.writes());
        assertArrayEquals(new byte[] {1}, recording.writes().get(0).data());
        assertTrue(!recording.write(0, new byte[] {1}), "NULL always faults");
    }
}
