package dev.gemulator.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a command gets the server's token: from a file ({@code --token-file},
 * its first line) or from the environment ({@value #ENVIRONMENT}), never from
 * the command line, which every local user can read in /proc/PID/cmdline.
 */
final class Tokens {
    /** The environment variable a token may come from. */
    static final String ENVIRONMENT = "GEMULATOR_TOKEN";

    /** What a token on the command line is told. */
    static final String NOT_ON_THE_COMMAND_LINE = "a token on the command line is visible to every local user"
            + " (/proc/PID/cmdline): give it with --token-file FILE or in $" + ENVIRONMENT;

    private Tokens() {
    }

    /** A token given badly. */
    static final class BadToken extends Exception {
        BadToken(String message) {
            super(message);
        }
    }

    /** The token from {@code file} if given, else from the environment, else null (no token). */
    static String read(Path file) throws BadToken {
        if (file != null) {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new BadToken("cannot read the token file " + file + ": " + e.getMessage());
            }
            String token = text.lines().findFirst().orElse("").strip();
            if (token.isEmpty()) {
                throw new BadToken("the token file " + file + " is empty");
            }
            return token;
        }
        String env = System.getenv(ENVIRONMENT);
        return env == null || env.isEmpty() ? null : env;
    }
}
