package dev.gemulator.cli;

import dev.gemulator.sched.Strategy;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A mistake in what the user asked for or a problem of the environment (a
 * file that cannot be written, a port in use, no server): the command line
 * prints its message as one line on stderr, with no stack trace, and exits
 * with {@link #status()} (2 unless said otherwise).
 */
final class UserError extends RuntimeException {
    private final int status;

    UserError(String message) {
        this(message, 2);
    }

    UserError(String message, int status) {
        super(message, null, false, false);
        this.status = status;
    }

    int status() {
        return status;
    }

    /** Opens {@code path} for writing now, before any work, so that a bad path is told at once. */
    static OutputStream create(Path path, String option) {
        try {
            return Files.newOutputStream(path);
        } catch (NoSuchFileException e) {
            throw new UserError("cannot write " + option + " " + path + ": no such directory "
                    + (path.toAbsolutePath().getParent() == null ? "" : path.toAbsolutePath().getParent()));
        } catch (AccessDeniedException e) {
            throw new UserError("cannot write " + option + " " + path + ": permission denied");
        } catch (IOException e) {
            throw new UserError("cannot write " + option + " " + path + ": " + e.getMessage());
        }
    }

    /**
     * The strategy written {@code text} among {@code known} (all when empty), {@code more} listed after them;
     * else a usage error "unknown strategy 'X' (known: ...)".
     */
    static Strategy.Name strategy(String text, List<Strategy.Name> known, String... more) {
        try {
            return Strategy.Name.parse(text, known, more);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** "cannot read PATH: why", the why in words for the usual causes (the exception's message is only the path). */
    static String cannotRead(Path path, IOException e) {
        String why;
        if (e instanceof NoSuchFileException) {
            why = "no such file";
        } else if (e instanceof AccessDeniedException) {
            why = "permission denied";
        } else if (Files.isDirectory(path)) {
            why = "it is a directory";
        } else {
            why = e.getMessage();
        }
        return "cannot read " + path + ": " + why;
    }

    /** Fails with a usage error unless {@code ok}. */
    static void check(boolean ok, String message) {
        if (!ok) {
            throw new UserError(message);
        }
    }
}
