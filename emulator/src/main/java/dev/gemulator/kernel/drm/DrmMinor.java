package dev.gemulator.kernel.drm;

/**
 * struct drm_minor: one device node. A device has a primary node
 * (/dev/dri/cardN) and a render node (/dev/dri/renderD(128+N)).
 */
public record DrmMinor(DrmDevice dev, Type type, int index) {

    public enum Type { PRIMARY, RENDER }

    /** The node's path under /dev/dri. */
    public String path() {
        return type == Type.PRIMARY ? "/dev/dri/card" + index : "/dev/dri/renderD" + index;
    }

    /** The node as gemscript names it ("card0", "render0"). */
    public String scriptName() {
        return type == Type.PRIMARY ? "card" + index : "render" + (index - 128);
    }
}
