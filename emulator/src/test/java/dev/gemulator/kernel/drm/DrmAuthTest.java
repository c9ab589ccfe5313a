package dev.gemulator.kernel.drm;

import static dev.gemulator.kernel.UserProcess.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gemulator.Machine;
import dev.gemulator.kernel.Errno;
import dev.gemulator.kernel.UserProcess;
import dev.gemulator.kernel.uapi.Ioctl;
import org.junit.jupiter.api.Test;

/** drm_auth.c and drm_ioctl.c's permission checks. */
class DrmAuthTest {
    private final Machine m = new Machine();

    @Test
    void anUnauthenticatedFileIsRefusedOnlyFlinkAndGemOpenUntilTheMasterAuthenticatesIt() {
        UserProcess master = new UserProcess(m, "M");
        UserProcess client = new UserProcess(m, "C");
        master.machine().sys().dropRoot(master.process().mainTask());
        m.sys().dropRoot(client.process().mainTask());
        int mfd = master.open("card0");
        int cfd = client.open("card0");
        int h = client.createBo(cfd, 4096);
        assertErrno(Errno.EACCES, client.tryFlink(cfd, h));
        long magic = client.ioctl(cfd, new Ioctl.GetMagic()).v0();
        assertEquals(1, magic);
        assertErrno(Errno.EACCES, client.ioctl(cfd, new Ioctl.AuthMagic((int) magic)));
        assertErrno(Errno.OK, master.ioctl(mfd, new Ioctl.AuthMagic((int) magic)));
        assertEquals(1, client.flink(cfd, h));
        assertErrno(Errno.EINVAL, master.ioctl(mfd, new Ioctl.AuthMagic((int) magic)));
    }

    @Test
    void renderNodesRefuseDumbFlinkOpenAndMasterIoctls() {
        UserProcess p = new UserProcess(m, "A");
        int r = p.open("render0");
        assertErrno(Errno.EACCES, p.tryCreateDumb(r, 8, 8, 32));
        assertErrno(Errno.EACCES, p.tryFlink(r, 1));
        assertErrno(Errno.EACCES, p.tryGemOpen(r, 1));
        assertErrno(Errno.EACCES, p.ioctl(r, new Ioctl.GetMagic()));
        assertErrno(Errno.EACCES, p.ioctl(r, new Ioctl.SetMaster()));
        assertErrno(Errno.EINVAL, p.tryGemClose(r, 1));
    }

    @Test
    void theMastersFileClosingLetsTheNextOpenerBecomeMasterWithAFreshMagicTable() {
        UserProcess a = new UserProcess(m, "A");
        int first = a.open("card0");
        int second = a.open("card0");
        assertEquals(1, a.ioctl(second, new Ioctl.GetMagic()).v0());
        assertErrno(Errno.EBUSY, a.ioctl(second, new Ioctl.SetMaster()));
        a.close(first);
        int third = a.open("card0");
        assertErrno(Errno.OK, a.ioctl(third, new Ioctl.DropMaster()));
        assertErrno(Errno.OK, a.ioctl(second, new Ioctl.SetMaster()));
        assertEquals(1, a.ioctl(third, new Ioctl.GetMagic()).v0(), "third was opened as master: its own table");
    }
}
