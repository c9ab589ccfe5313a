package dev.gemulator.trace;

import dev.gemulator.client.Errno;
import dev.gemulator.gemscript.Flags;
import dev.gemulator.trace.TimelineModel.Step;
import dev.gemulator.trace.TimelineModel.Syscall;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a picture of a trace calls things, so that it reads without a
 * lookup: objects by what they are and how user space knows them ("dma-buf
 * file #4 (fd 4 in A, export of handle 1)" rather than "file#4(dma-buf)"),
 * system calls with their arguments named and their flags and errnos
 * decoded ("handle_to_fd(fd 3, handle 1, DRM_CLOEXEC) → fd 4").
 *
 * <p>How user space knows an object is read off the calls that touched it:
 * the file an fd-taking call's {@code fdget} or {@code fdput} step names is that fd's file; the
 * GEM object a call that returns a handle touched last is that handle's; the
 * dma-buf an export touched is that handle's export, behind the fd it
 * returned. The first such name an object gets is kept.
 */
final class Names {
    /** The arguments of each op as the picture names them ("fd", "handle", ...); a flags argument says whose. */
    private static final Map<String, List<String>> ARGS = Map.ofEntries(
            Map.entry("open", List.of("node")), Map.entry("close", List.of("fd")), Map.entry("dup", List.of("fd")),
            Map.entry("send_fd", List.of("fd", "to")), Map.entry("version", List.of("fd")),
            Map.entry("get_cap", List.of("fd", "cap")),
            Map.entry("create_dumb", List.of("fd", "width", "height", "bpp")),
            Map.entry("map_dumb", List.of("fd", "handle")), Map.entry("destroy_dumb", List.of("fd", "handle")),
            Map.entry("gem_close", List.of("fd", "handle")), Map.entry("flink", List.of("fd", "handle")),
            Map.entry("gem_open", List.of("fd", "name")),
            Map.entry("handle_to_fd", List.of("fd", "handle", "prime flags")),
            Map.entry("fd_to_handle", List.of("fd", "dma-buf fd")), Map.entry("lseek", List.of("fd", "offset", "whence")),
            Map.entry("mmap", List.of("fd", "offset", "length")), Map.entry("munmap", List.of("map")),
            Map.entry("write", List.of("map", "offset", "data")), Map.entry("read", List.of("map", "offset", "length")),
            Map.entry("sync", List.of("fd", "sync flags")), Map.entry("fence_attach", List.of("fd", "handle", "fence flags")),
            Map.entry("fence_signal", List.of("fd", "fence")), Map.entry("poll", List.of("fd", "events", "timeout ms")),
            Map.entry("export_sync_file", List.of("fd", "sync_file flags")),
            Map.entry("import_sync_file", List.of("fd", "sync_file fd", "sync_file flags")),
            Map.entry("get_magic", List.of("fd")), Map.entry("auth_magic", List.of("fd", "magic")),
            Map.entry("set_master", List.of("fd")), Map.entry("drop_master", List.of("fd")),
            Map.entry("sleep", List.of("ms")), Map.entry("recv_fd", List.of()));

    /** What the first result of an op is, when it names something. */
    private static final Map<String, String> RESULT = Map.ofEntries(Map.entry("open", "fd"), Map.entry("dup", "fd"),
            Map.entry("send_fd", "fd"), Map.entry("handle_to_fd", "fd"), Map.entry("export_sync_file", "fd"),
            Map.entry("recv_fd", "fd"), Map.entry("create_dumb", "handle"), Map.entry("gem_open", "handle"),
            Map.entry("fd_to_handle", "handle"), Map.entry("flink", "name"), Map.entry("map_dumb", "offset"),
            Map.entry("mmap", "map"), Map.entry("fence_attach", "fence"), Map.entry("get_magic", "magic"),
            Map.entry("lseek", "position"), Map.entry("poll", "events"), Map.entry("version", "driver"),
            Map.entry("get_cap", "value"));

    /** A free-running server names ioctls after their requests ("prime_handle_to_fd"); gemscript after its ops. */
    private static String op(String name) {
        return switch (name) {
            case "prime_handle_to_fd" -> "handle_to_fd";
            case "prime_fd_to_handle" -> "fd_to_handle";
            case "gem_flink" -> "flink";
            default -> name;
        };
    }

    private static final Pattern OBJECT = Pattern.compile("\\b(gem|file|dma-buf|fence|master|sync_file)#(\\d+)(\\(([a-z_-]+)\\))?");

    private final Map<String, String> known = new LinkedHashMap<>();
    private final Map<String, String> cache = new HashMap<>();

    Names(TimelineModel m) {
        Map<String, List<Step>> byTask = new HashMap<>();
        for (Step s : m.steps) {
            byTask.computeIfAbsent(s.task(), t -> new ArrayList<>()).add(s);
        }
        for (Syscall c : m.syscalls) {
            learn(c, byTask.getOrDefault(c.task, List.of()), c.last(m.lastStep()));
        }
    }

    /** The objects the trace names, with what they are and how user space knows them, in order of first use. */
    Map<String, String> known() {
        return known;
    }

    /** An object's name for people: "GEM object #3 (handle 1 in A)"; a lock or an empty subject as it is. */
    String of(String subject) {
        if (subject.isEmpty()) {
            return "";
        }
        return cache.computeIfAbsent(subject, s -> {
            Matcher mt = OBJECT.matcher(s);
            if (!mt.matches()) {
                return s;
            }
            String what = what(mt.group(1), mt.group(2), mt.group(4));
            String how = known.get(s);
            return how == null ? what : what + " (" + how + ")";
        });
    }

    /** The objects in a report's detail named as {@link #of} names them. */
    String decode(String text) {
        Matcher mt = OBJECT.matcher(text);
        StringBuilder b = new StringBuilder();
        while (mt.find()) {
            mt.appendReplacement(b, Matcher.quoteReplacement(of(mt.group())));
        }
        return mt.appendTail(b).toString();
    }

    private static String what(String kind, String id, String fileKind) {
        return switch (kind) {
            case "gem" -> "GEM object #" + id;
            case "dma-buf" -> "dma-buf #" + id;
            case "fence" -> "fence #" + id;
            case "master" -> "DRM master #" + id;
            case "sync_file" -> "sync_file #" + id;
            default -> switch (fileKind == null ? "" : fileKind) {
                case "drm" -> "drm file #" + id;
                case "dma-buf" -> "dma-buf file #" + id;
                case "sync_file" -> "sync_file file #" + id;
                case "null" -> "/dev/null file #" + id;
                default -> "file #" + id;
            };
        };
    }

    /** What a call says about the objects it touched. */
    private void learn(Syscall c, List<Step> mine, long last) {
        if (c.request == null) {
            return;
        }
        String op = op(c.request.getOp());
        String process = c.task.contains(".") ? c.task.substring(0, c.task.indexOf('.')) : c.task;
        List<String> args = values(c.request.getArgsList());
        List<String> argNames = ARGS.getOrDefault(op, List.of());
        String lastGem = null;
        String lastDmaBufFile = null;
        String lastDmaBuf = null;
        int lo = 0;
        int hi = mine.size();
        while (lo < hi) { // the call's first step in its task's steps
            int mid = (lo + hi) >>> 1;
            if (mine.get(mid).index() < c.enter.index()) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (int i = lo; i < mine.size() && mine.get(i).index() <= last; i++) {
            Step s = mine.get(i);
            if ((s.function().equals("fdget") || s.function().equals("fdput")) && s.subject().startsWith("file#")
                    && !argNames.isEmpty() && argNames.getFirst().equals("fd") && !args.isEmpty()) {
                name(s.subject(), "fd " + args.getFirst() + " in " + process);
            }
            if (s.subject().startsWith("gem#")) {
                lastGem = s.subject();
            } else if (s.subject().startsWith("dma-buf#")) {
                lastDmaBuf = s.subject();
            } else if (s.subject().startsWith("file#") && s.subject().endsWith("(dma-buf)")) {
                lastDmaBufFile = s.subject();
            }
        }
        String result = c.result;
        if (result == null || !result.startsWith("ok ")) {
            return;
        }
        String value = result.substring(3).split(" ")[0];
        switch (RESULT.getOrDefault(op, "")) {
            case "handle" -> {
                if (lastGem != null) {
                    name(lastGem, "handle " + value + " in " + process);
                }
            }
            case "fd" -> {
                if (op.equals("handle_to_fd") && args.size() > 1) {
                    if (lastDmaBufFile != null) {
                        name(lastDmaBufFile, "fd " + value + " in " + process + ", export of handle " + args.get(1));
                    }
                    if (lastDmaBuf != null) {
                        name(lastDmaBuf, "export of handle " + args.get(1) + " in " + process);
                    }
                }
            }
            default -> {
            }
        }
    }

    private void name(String subject, String how) {
        known.putIfAbsent(subject, how);
    }

    /** Arguments as values: a free-running server's trace writes them "name=value". */
    private static List<String> values(List<String> args) {
        return args.stream().map(a -> a.contains("=") ? a.substring(a.indexOf('=') + 1) : a).toList();
    }

    /** A call as people read it: "handle_to_fd(fd 3, handle 1, DRM_CLOEXEC) → fd 4", errnos spelled out. */
    String label(Syscall c) {
        if (c.request == null) {
            return c.enter.function() + (c.result == null ? "" : " \u2192 " + c.result);
        }
        String op = op(c.request.getOp());
        List<String> args = values(c.request.getArgsList());
        List<String> argNames = ARGS.getOrDefault(op, List.of());
        StringBuilder b = new StringBuilder(c.request.getOp()).append('(');
        for (int i = 0; i < args.size(); i++) {
            String name = i < argNames.size() ? argNames.get(i) : "";
            b.append(i == 0 ? "" : ", ").append(argument(name, args.get(i)));
        }
        b.append(')');
        if (c.result != null) {
            b.append(" \u2192 ").append(result(op, c.result));
        }
        return b.toString();
    }

    private static String argument(String name, String value) {
        Long n = number(value);
        return switch (name) {
            case "prime flags" -> n == null ? value : n == 0 ? "0" : Flags.format(n, Flags.PRIME)
                    .replace("CLOEXEC", "DRM_CLOEXEC").replace("RDWR", "DRM_RDWR");
            case "sync flags" -> n == null ? value : (((n & 4) != 0) ? "END" : "START") + "|"
                    + Flags.format(n & ~4L, Flags.SYNC_FILE);
            case "sync_file flags" -> n == null ? value : Flags.format(n, Flags.SYNC_FILE);
            case "fence flags" -> n == null ? value : n == 0 ? "read" : Flags.format(n, Flags.FENCE);
            case "events" -> n == null ? value : Flags.format(n, Flags.EVENTS);
            case "whence" -> n == null ? value : n == 0 ? "SEEK_SET" : n == 1 ? "SEEK_CUR" : n == 2 ? "SEEK_END" : value;
            case "cap" -> n == null ? value : capName(n);
            case "node", "data" -> value;
            case "" -> value;
            default -> name + " " + value;
        };
    }

    private static String capName(long n) {
        for (var e : Flags.CAPS.entrySet()) {
            if (e.getValue() == n) {
                return "DRM_CAP_" + e.getKey();
            }
        }
        return String.valueOf(n);
    }

    /** "ok 4" as "fd 4"; "err EINVAL" or "EINVAL" as "EINVAL (Invalid argument)". */
    static String result(String op, String result) {
        String r = result.startsWith("err ") ? result.substring(4) : result;
        if (r.matches("E[A-Z0-9]+")) {
            Errno e = Errno.byName(r);
            return e == null ? r : r + " (" + e.description().toLowerCase(Locale.ROOT) + ")";
        }
        if (!r.startsWith("ok")) {
            return r;
        }
        String[] v = r.substring(2).strip().split(" ");
        if (v.length == 0 || v[0].isEmpty()) {
            return "ok";
        }
        return switch (op) {
            case "create_dumb" -> v.length >= 3 ? "handle " + v[0] + ", pitch " + v[1] + ", size " + v[2] : r;
            case "gem_open" -> v.length >= 2 ? "handle " + v[0] + ", size " + v[1] : r;
            case "map_dumb" -> number(v[0]) == null ? r : "offset 0x" + Long.toHexString(number(v[0]));
            case "poll" -> number(v[0]) == null ? r : Flags.format(number(v[0]), Flags.EVENTS);
            default -> RESULT.containsKey(op) ? RESULT.get(op) + " " + v[0] : "ok";
        };
    }

    private static Long number(String s) {
        try {
            return s.startsWith("0x") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
