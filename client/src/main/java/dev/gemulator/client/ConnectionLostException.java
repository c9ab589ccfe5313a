package dev.gemulator.client;

/**
 * The server cannot be reached, refused the connection (a wrong token, a
 * process name already connected, a server at its connection limit), or
 * closed it. The message says which and what to do. Every call of the
 * library can throw it; the process's state on the device is gone with its
 * connection (the server treats a dropped connection as the process's exit).
 */
public class ConnectionLostException extends RuntimeException {
    /**
     * A lost or refused connection.
     *
     * @param message what happened, for people
     */
    public ConnectionLostException(String message) {
        super(message);
    }
}
