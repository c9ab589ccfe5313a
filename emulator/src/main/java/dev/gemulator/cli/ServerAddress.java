package dev.gemulator.cli;

import picocli.CommandLine.Option;

/** Where the server is and its token, shared by the commands that connect to one (client, status). */
final class ServerAddress {

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "server address (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "7070", description = "server port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--token", description = "the server's token")
    String token;
}
