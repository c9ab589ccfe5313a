package dev.gemulator.kernel.gem;

import java.util.ArrayList;
import java.util.List;

/**
 * The live GEM objects of one device, as an intrusive list in creation order:
 * what the object counters of debugfs and the leak scan at teardown read.
 */
public final class LiveObjects {
    private GemObject head;
    private GemObject tail;
    private int count;
    private long bytes;

    void link(GemObject obj) {
        obj.prevLive = tail;
        obj.nextLive = null;
        if (tail == null) {
            head = obj;
        } else {
            tail.nextLive = obj;
        }
        tail = obj;
        count++;
        bytes += obj.size();
    }

    void unlink(GemObject obj) {
        if (obj.prevLive == null) {
            head = obj.nextLive;
        } else {
            obj.prevLive.nextLive = obj.nextLive;
        }
        if (obj.nextLive == null) {
            tail = obj.prevLive;
        } else {
            obj.nextLive.prevLive = obj.prevLive;
        }
        obj.prevLive = null;
        obj.nextLive = null;
        count--;
        bytes -= obj.size();
    }

    public int count() {
        return count;
    }

    public long bytes() {
        return bytes;
    }

    /** The live objects, oldest first. */
    public List<GemObject> list() {
        List<GemObject> out = new ArrayList<>(count);
        for (GemObject o = head; o != null; o = o.nextLive) {
            out.add(o);
        }
        return out;
    }
}
