package dev.gemulator.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code gemulator demo}: two processes share a buffer, narrated. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Two processes share one buffer through a flink name and through a dma-buf fd passed between them.")
public final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return Demo.run(System.out);
    }
}
