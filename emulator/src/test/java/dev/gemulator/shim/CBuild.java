package dev.gemulator.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Builds what the C tests run with the machine's gcc: the shim from
 * shim/*.c, and programs from shim/tests/ against libdrm, all with
 * -Wall -Wextra -Werror (./gemulator test installs gcc and libdrm-dev on
 * Debian when they are missing).
 */
final class CBuild {
    static final Path REPO = Path.of(System.getProperty("gemulator.repo", "..")).toAbsolutePath().normalize();

    private CBuild() {
    }

    /** Builds libgemulator.so into {@code out} and returns its path. */
    static Path shim(Path out) throws Exception {
        Files.createDirectories(out);
        Path shim = out.resolve("libgemulator.so");
        List<String> gcc = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O2", "-g", "-fPIC", "-shared",
                "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror", "-o", shim.toString()));
        try (Stream<Path> s = Files.list(REPO.resolve("shim"))) {
            s.filter(p -> p.toString().endsWith(".c")).sorted().forEach(p -> gcc.add(p.toString()));
        }
        gcc.addAll(List.of("-ldl", "-lpthread"));
        command(gcc);
        return shim;
    }

    /**
     * Builds shim/tests/NAME.c for each name into {@code out}, named by the
     * name's last part, linked with libdrm and {@code libs}.
     */
    static void programs(Path out, List<String> names, String... libs) throws Exception {
        Files.createDirectories(out);
        List<String> libdrm = List.of(command(List.of("pkg-config", "--cflags", "--libs", "libdrm")).trim().split("\\s+"));
        for (String name : names) {
            List<String> cc = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-o",
                    out.resolve(Path.of(name).getFileName()).toString(), REPO.resolve("shim/tests/" + name + ".c").toString()));
            cc.addAll(libdrm);
            cc.addAll(List.of(libs));
            command(cc);
        }
    }

    /** Runs a command to its end; fails with its output (and what to install) unless it exits 0. */
    static String command(List<String> cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(cmd.get(0) + " is missing: the C tests need gcc, pkg-config and libdrm-dev "
                    + "(./gemulator test installs them on Debian)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }
}
