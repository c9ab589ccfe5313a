package dev.gemulator.gemscript;

/** A gemscript file that cannot be parsed: the message names the line and column. */
public final class ParseException extends Exception {
    private final int line;
    private final int column;

    public ParseException(String path, int line, int column, String message) {
        super(path + ":" + line + ":" + column + ": parse error: " + message);
        this.line = line;
        this.column = column;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }
}
