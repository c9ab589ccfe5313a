package dev.gemulator.gemscript;

import dev.gemulator.kernel.Errno;
import java.util.List;

/** A parsed gemscript file: its top-level nodes, in file order. */
public record Script(String path, List<Node> nodes) {

    /** Whether the scenario has a par block anywhere (its runs depend on the schedule). */
    public boolean hasPar() {
        return hasPar(nodes);
    }

    private static boolean hasPar(List<Node> nodes) {
        for (Node n : nodes) {
            if (n instanceof Par || (n instanceof Repeat r && hasPar(r.body()))) {
                return true;
            }
        }
        return false;
    }


    /** A node of the script: a statement or a block. */
    public sealed interface Node permits Stmt, Repeat, Par {
        int line();
    }

    /** An argument as written. */
    public sealed interface Arg permits Lit, Var, Str, Bytes {
        int column();
    }

    /** An integer (or a flag set or name already resolved to one). */
    public record Lit(long value, int column) implements Arg {
    }

    /** A $variable. */
    public record Var(String name, int column) implements Arg {
    }

    /** A device node ("card0") or a process name. */
    public record Str(String text, int column) implements Arg {
    }

    /** hex:... bytes. */
    public record Bytes(byte[] bytes, int column) implements Arg {
    }

    /**
     * {@code PROC: OP ARG... [-> $VAR...] [!ERRNO]}; {@code expect} is what
     * the suffix says (never null: {@link Expect#NONE} when none was written).
     */
    public record Stmt(int line, String proc, Op op, List<Arg> args, List<String> results, Expect expect)
            implements Node {
    }

    /**
     * A statement's stated outcome, read when the script is parsed: none
     * written (the statement must succeed, except in a par thread, where any
     * outcome passes), {@code !ok}, or {@code !ERRNO}.
     */
    public record Expect(boolean stated, Errno errno) {
        /** No suffix. */
        public static final Expect NONE = new Expect(false, Errno.OK);
        /** {@code !ok}. */
        public static final Expect OK = new Expect(true, Errno.OK);

        /** {@code !NAME}: "ok" or an errno name; null when NAME is neither. */
        public static Expect named(String name) {
            if (name.equals("ok")) {
                return OK;
            }
            Errno e = Errno.byName(name);
            return e == null ? null : new Expect(true, e);
        }
    }

    /** {@code repeat N { ... }}. */
    public record Repeat(int line, long count, List<Node> body) implements Node {
    }

    /** {@code par { thread P.t { ... } ... }}. */
    public record Par(int line, List<Thread> threads) implements Node {
    }

    /** {@code thread PROC.NAME { ... }} inside a par. */
    public record Thread(int line, String proc, String name, List<Node> body) {
    }
}
