package dev.gemulator.gemscript;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses gemscript (spec/gemscript.md, versions 0 and 1) with the reference
 * harness's rules: a {@code $VAR} must be bound by an earlier line, a process
 * cannot be named after its {@code exit}, argument counts and kinds are
 * checked per op. Errors name the line and the 1-based column.
 */
public final class Parser {
    private final String path;
    private final String[] lines;
    private int next;
    /** Variables bound so far, per scope (top level, or one per thread). */
    private Set<String> bound = new HashSet<>();
    private final Set<String> topBound = bound;
    private final Map<String, Integer> exitedAt = new HashMap<>();

    private Parser(String path, String text) {
        this.path = path;
        this.lines = text.split("\n", -1);
    }

    /** Parses the text of the file at {@code path}. */
    public static Script parse(String path, String text) throws ParseException {
        Parser p = new Parser(path, text);
        List<Script.Node> nodes = p.block(null, 0);
        return new Script(path, nodes);
    }

    private ParseException error(int line, int col, String message) {
        return new ParseException(path, line, col, message);
    }

    /** Line text with the comment removed. */
    private static String stripComment(String raw) {
        int hash = raw.indexOf('#');
        return hash >= 0 ? raw.substring(0, hash) : raw;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    private static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isIdent(char c) {
        return isIdentStart(c) || (c >= '0' && c <= '9') || c == '_';
    }

    private record Token(String text, int column) {
    }

    private static List<Token> tokens(String s, int from) {
        List<Token> out = new ArrayList<>();
        int i = from;
        while (i < s.length()) {
            while (i < s.length() && isSpace(s.charAt(i))) {
                i++;
            }
            if (i >= s.length()) {
                break;
            }
            int start = i;
            while (i < s.length() && !isSpace(s.charAt(i))) {
                i++;
            }
            out.add(new Token(s.substring(start, i), start + 1));
        }
        return out;
    }

    /**
     * Parses nodes until the closing brace of the enclosing block ({@code
     * openLine} > 0) or the end of the file. {@code threadProc} is the
     * process every statement must name inside a thread, else null.
     */
    private List<Script.Node> block(String threadProc, int openLine) throws ParseException {
        List<Script.Node> nodes = new ArrayList<>();
        while (next < lines.length) {
            int lineNo = next + 1;
            String raw = lines[next++];
            if (raw.indexOf('\0') >= 0) {
                throw error(lineNo, 1, "NUL byte in line");
            }
            String text = stripComment(raw);
            int i = 0;
            while (i < text.length() && isSpace(text.charAt(i))) {
                i++;
            }
            if (i >= text.length()) {
                continue;
            }
            if (text.charAt(i) == '}') {
                List<Token> rest = tokens(text, i + 1);
                if (!rest.isEmpty()) {
                    throw error(lineNo, rest.get(0).column, "'}' stands alone on its line");
                }
                if (openLine == 0) {
                    throw error(lineNo, i + 1, "'}' without an open block");
                }
                return nodes;
            }
            if (!isIdentStart(text.charAt(i))) {
                throw error(lineNo, i + 1, "expected a process name");
            }
            int identStart = i;
            while (i < text.length() && isIdent(text.charAt(i))) {
                i++;
            }
            String ident = text.substring(identStart, i);
            int j = i;
            while (j < text.length() && (text.charAt(j) == ' ' || text.charAt(j) == '\t')) {
                j++;
            }
            if (j < text.length() && text.charAt(j) == ':') {
                nodes.add(statement(lineNo, text, ident, identStart + 1, j + 1, threadProc));
                continue;
            }
            switch (ident) {
                case "repeat" -> nodes.add(repeat(lineNo, text, i, threadProc));
                case "par" -> nodes.add(par(lineNo, text, i, threadProc));
                default -> throw error(lineNo, j + 1, "expected ':' after process name");
            }
        }
        if (openLine > 0) {
            throw error(openLine, 1, "block opened here is never closed");
        }
        return nodes;
    }

    private Script.Repeat repeat(int lineNo, String text, int from, String threadProc) throws ParseException {
        List<Token> t = tokens(text, from);
        if (t.size() != 2 || !t.get(1).text.equals("{")) {
            throw error(lineNo, from + 1, "expected 'repeat N {'");
        }
        Long n = Numbers.parse(t.get(0).text);
        if (n == null || n < 0) {
            throw error(lineNo, t.get(0).column, "bad repeat count '" + t.get(0).text + "'");
        }
        return new Script.Repeat(lineNo, n, block(threadProc, lineNo));
    }

    private Script.Par par(int lineNo, String text, int from, String threadProc) throws ParseException {
        if (threadProc != null) {
            throw error(lineNo, 1, "par cannot be nested in a thread");
        }
        List<Token> t = tokens(text, from);
        if (t.size() != 1 || !t.get(0).text.equals("{")) {
            throw error(lineNo, from + 1, "expected 'par {'");
        }
        List<Script.Thread> threads = new ArrayList<>();
        Set<String> names = new HashSet<>();
        while (next < lines.length) {
            int ln = next + 1;
            String body = stripComment(lines[next++]);
            List<Token> bt = tokens(body, 0);
            if (bt.isEmpty()) {
                continue;
            }
            if (bt.get(0).text.equals("}") && bt.size() == 1) {
                if (threads.isEmpty()) {
                    throw error(ln, bt.get(0).column, "par holds no thread");
                }
                return new Script.Par(lineNo, threads);
            }
            if (!bt.get(0).text.equals("thread") || bt.size() != 3 || !bt.get(2).text.equals("{")) {
                throw error(ln, bt.get(0).column, "par holds only 'thread PROC.NAME {' blocks");
            }
            String qualified = bt.get(1).text;
            int dot = qualified.indexOf('.');
            if (dot <= 0 || dot == qualified.length() - 1 || !isIdentStart(qualified.charAt(0))
                    || !qualified.substring(0, dot).chars().allMatch(c -> isIdent((char) c))
                    || !qualified.substring(dot + 1).chars().allMatch(c -> isIdent((char) c))) {
                throw error(ln, bt.get(1).column, "bad thread name '" + qualified + "' (want PROC.NAME)");
            }
            if (!names.add(qualified)) {
                throw error(ln, bt.get(1).column, "thread " + qualified + " appears twice");
            }
            Set<String> saved = bound;
            bound = new HashSet<>(topBound);
            List<Script.Node> threadBody = block(qualified.substring(0, dot), ln);
            bound = saved;
            threads.add(new Script.Thread(ln, qualified.substring(0, dot), qualified.substring(dot + 1), threadBody));
        }
        throw error(lineNo, 1, "block opened here is never closed");
    }

    private Script.Stmt statement(int lineNo, String text, String proc, int procCol, int afterColon,
            String threadProc) throws ParseException {
        if (threadProc != null && !proc.equals(threadProc)) {
            throw error(lineNo, procCol, "a statement of thread " + threadProc + ".* must name process " + threadProc);
        }
        if (exitedAt.containsKey(proc)) {
            throw error(lineNo, procCol, "process " + proc + " is used after its exit");
        }
        List<Token> toks = tokens(text, afterColon);
        if (threadProc != null && !toks.isEmpty() && toks.get(0).text.equals("exit")) {
            throw error(lineNo, toks.get(0).column, "exit cannot run inside a thread of a par block");
        }
        if (toks.isEmpty()) {
            throw error(lineNo, text.length() + 1, "expected an op");
        }
        Op op = Op.byName(toks.get(0).text);
        if (op == null) {
            throw error(lineNo, toks.get(0).column, "unknown op '" + toks.get(0).text + "'");
        }
        int ti = 1;
        int argEnd = ti;
        while (argEnd < toks.size() && !toks.get(argEnd).text.equals("->") && toks.get(argEnd).text.charAt(0) != '!') {
            argEnd++;
        }
        int nargs = op.args().size();
        if (argEnd - ti != nargs) {
            int col = argEnd - ti > nargs ? toks.get(ti + nargs).column
                    : argEnd < toks.size() ? toks.get(argEnd).column : text.length() + 1;
            throw error(lineNo, col, op.opName() + " takes " + nargs + " argument" + (nargs == 1 ? "" : "s")
                    + ", got " + (argEnd - ti));
        }
        List<Script.Arg> args = new ArrayList<>(nargs);
        for (int a = 0; a < nargs; a++, ti++) {
            args.add(argument(lineNo, op, op.args().get(a), toks.get(ti)));
        }
        List<String> results = new ArrayList<>();
        if (ti < toks.size() && toks.get(ti).text.equals("->")) {
            int arrowCol = toks.get(ti).column;
            ti++;
            while (ti < toks.size() && toks.get(ti).text.startsWith("$")) {
                Token t = toks.get(ti);
                if (results.size() == op.results().size()) {
                    throw error(lineNo, t.column, op.opName() + " has " + op.results().size() + " result"
                            + (op.results().size() == 1 ? "" : "s"));
                }
                String name = t.text.substring(1);
                if (name.isEmpty() || !(isIdentStart(name.charAt(0)) || name.charAt(0) == '_')
                        || !name.chars().allMatch(c -> isIdent((char) c))) {
                    throw error(lineNo, t.column, "bad variable name '" + t.text + "'");
                }
                results.add(name);
                ti++;
            }
            if (results.isEmpty()) {
                throw error(lineNo, arrowCol, "'->' must be followed by $variables");
            }
        }
        Script.Expect expect = Script.Expect.NONE;
        if (ti < toks.size() && toks.get(ti).text.startsWith("!")) {
            String name = toks.get(ti).text.substring(1);
            expect = Script.Expect.named(name);
            if (expect == null) {
                throw error(lineNo, toks.get(ti).column, "unknown errno name '" + name + "'");
            }
            ti++;
        }
        if (ti < toks.size()) {
            throw error(lineNo, toks.get(ti).column, "unexpected '" + toks.get(ti).text + "'");
        }
        bound.addAll(results);
        if (op == Op.EXIT) {
            exitedAt.put(proc, lineNo);
        }
        return new Script.Stmt(lineNo, proc, op, List.copyOf(args), List.copyOf(results), expect);
    }

    private Script.Arg argument(int lineNo, Op op, Op.ArgKind kind, Token tok) throws ParseException {
        String t = tok.text;
        int col = tok.column;
        if (t.startsWith("$") && kind != Op.ArgKind.DEV && kind != Op.ArgKind.PROC && kind != Op.ArgKind.NAME) {
            if (t.length() == 1 || !bound.contains(t.substring(1))) {
                throw error(lineNo, col, "variable " + t + " is not bound by an earlier line");
            }
            return new Script.Var(t.substring(1), col);
        }
        Long v = switch (kind) {
            case INT -> Numbers.parse(t);
            case CAP -> Numbers.parseName(t, Flags.CAPS);
            case WHENCE -> Numbers.parseName(t, Flags.WHENCE);
            case PRIME -> Numbers.parseFlags(t, Flags.PRIME);
            case SYNC -> Numbers.parseFlags(t, Flags.SYNC);
            case FENCE -> Numbers.parseFlags(t, Flags.FENCE);
            case EVENTS -> Numbers.parseFlags(t, Flags.EVENTS);
            case SYNCF -> Numbers.parseFlags(t, Flags.SYNC_FILE);
            case DEV -> deviceOk(t) ? 0L : null;
            case PROC -> procOk(t) ? 0L : null;
            case NAME -> procOk(t) ? 0L : null;
            case HEX -> Numbers.parseHex(t) != null ? 0L : null;
        };
        if (v == null) {
            throw error(lineNo, col, "bad argument '" + t + "' for " + op.opName());
        }
        return switch (kind) {
            case DEV -> new Script.Str(t, col);
            case PROC -> {
                if (exitedAt.containsKey(t)) {
                    throw error(lineNo, col, "process " + t + " is used after its exit");
                }
                yield new Script.Str(t, col);
            }
            case HEX -> new Script.Bytes(Numbers.parseHex(t), col);
            case NAME -> new Script.Str(t, col);
            default -> new Script.Lit(v, col);
        };
    }

    /** cardN or renderN with N from 0 to 63. */
    private static boolean deviceOk(String t) {
        String digits;
        if (t.startsWith("card")) {
            digits = t.substring(4);
        } else if (t.startsWith("render")) {
            digits = t.substring(6);
        } else {
            return false;
        }
        if (digits.isEmpty() || !Character.isDigit(digits.charAt(0))) {
            return false;
        }
        Long n = Numbers.parse(digits);
        return n != null && n >= 0 && n < 64;
    }

    private static boolean procOk(String t) {
        return !t.isEmpty() && isIdentStart(t.charAt(0)) && t.chars().allMatch(c -> isIdent((char) c));
    }
}
