package dev.gemulator.gemscript;

import java.util.HashMap;
import java.util.Map;

/** Variables of a run: a thread's own, then the top level's. */
final class Scope {
    private final Scope parent;
    private final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) {
        this.parent = parent;
    }

    Object get(String name) {
        Object v = vars.get(name);
        return v == null && parent != null ? parent.get(name) : v;
    }

    void put(String name, Object value) {
        vars.put(name, value);
    }
}
