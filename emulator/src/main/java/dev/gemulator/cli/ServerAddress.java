package dev.gemulator.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where the server is and its token, shared by the commands that connect to
 * one (client, status). The token comes from --token-file or
 * $GEMULATOR_TOKEN ({@link Tokens}).
 */
final class ServerAddress {

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "server address (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "7070", description = "server port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "a file whose first line is the server's token (else $" + Tokens.ENVIRONMENT + ")")
    Path tokenFile;

    /** Refused: see {@link Tokens#NOT_ON_THE_COMMAND_LINE}. */
    @Option(names = "--token", hidden = true)
    String tokenOnCommandLine;

    /** The token, or null; a message on stderr and null in {@code failed} when it is given badly. */
    String token(boolean[] failed) {
        if (tokenOnCommandLine != null) {
            System.err.println("gemulator: " + Tokens.NOT_ON_THE_COMMAND_LINE);
            failed[0] = true;
            return null;
        }
        try {
            return Tokens.read(tokenFile);
        } catch (Tokens.BadToken e) {
            System.err.println("gemulator: " + e.getMessage());
            failed[0] = true;
            return null;
        }
    }
}
