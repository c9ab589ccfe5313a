package dev.gemulator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.Machine;
import dev.gemulator.kernel.drm.DrmDebugfs;
import dev.gemulator.kernel.uapi.Ioctl;
import org.junit.jupiter.api.Test;

/** The debugfs views written a slice at a time are the views written at once, up to their cut. */
class DebugfsSlicesTest {

    private static String sliced(Machine m) {
        DebugfsSlices s = new DebugfsSlices(m.kernel());
        int turns = 1;
        while (!s.slice()) {
            turns++;
        }
        assertTrue(turns >= 1);
        return s.text();
    }

    @Test
    void slicesAddUpToTheWholeViews() {
        Machine m = new Machine();
        var sys = m.sys();
        for (String p : new String[] {"A", "B", "C"}) {
            var task = sys.spawn(p).mainTask();
            long fd = sys.open(task, "card0").v0();
            sys.open(task, "render0");
            for (int i = 0; i < 300; i++) {
                int h = (int) sys.ioctl(task, fd, new Ioctl.ModeCreateDumb(4, 4, 32, 0)).v0();
                if (i % 2 == 0) {
                    sys.ioctl(task, fd, new Ioctl.GemFlink(h));
                }
                if (i % 3 == 0) {
                    sys.ioctl(task, fd, new Ioctl.PrimeHandleToFd(h, 0));
                }
            }
        }
        String whole = DrmDebugfs.all(m.kernel());
        assertTrue(whole.lines().count() > 3 * DebugfsSlices.LINES_PER_SLICE, "several slices' worth");
        assertEquals(whole, sliced(m));
        assertEquals(DrmDebugfs.all(new Machine().kernel()), sliced(new Machine()), "an empty device too");
    }

    @Test
    void theViewsOfAHugeDeviceAreCutAtTheMostAnAnswerCarries() {
        Machine m = new Machine();
        var sys = m.sys();
        var task = sys.spawn("A").mainTask();
        long fd = sys.open(task, "card0").v0();
        for (int i = 0; i < 40_000; i++) {
            int h = (int) sys.ioctl(task, fd, new Ioctl.ModeCreateDumb(4, 4, 32, 0)).v0();
            sys.ioctl(task, fd, new Ioctl.GemFlink(h));
        }
        String text = sliced(m);
        assertTrue(text.length() <= Limits.MAX_DEBUGFS_BYTES, "at most an answer's worth: " + text.length());
        assertTrue(text.endsWith("... (cut: an answer carries at most " + Limits.MAX_DEBUGFS_BYTES + " bytes)\n"), text.substring(text.length() - 200));
        assertTrue(DrmDebugfs.all(m.kernel()).startsWith(text.substring(0, text.lastIndexOf("... (cut"))), "a prefix of the views");
    }
}
