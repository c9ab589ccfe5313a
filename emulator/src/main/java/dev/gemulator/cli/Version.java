package dev.gemulator.cli;

import picocli.CommandLine;

/** The version picocli prints for --version. */
public final class Version implements CommandLine.IVersionProvider {
    public static final String VERSION = "0.1.0";

    @Override
    public String[] getVersion() {
        return new String[] {"gemulator " + VERSION + " (kernel profile 6.x)"};
    }
}
