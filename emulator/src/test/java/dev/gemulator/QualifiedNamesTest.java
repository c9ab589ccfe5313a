package dev.gemulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Imports, not inline fully qualified names: a main source file that
 * writes {@code dev.gemulator.x.Y}, {@code java.util.Y} or
 * {@code io.netty.x.Y} in its code (comments and strings aside) imports Y
 * instead, unless Y's simple name is taken in that file (imported from
 * elsewhere, declared there, a class of the file's own package, or a class of
 * java.lang, which an import would shadow: {@code dev.gemulator.kernel.proc.Process}
 * stays qualified beside {@code java.lang.Process}).
 *
 * <p>It covers the main sources of every module ({@link #CLEAN}).
 */
class QualifiedNamesTest {
    private static final Path REPO = Path.of(System.getProperty("gemulator.repo", "..")).toAbsolutePath().normalize();

    /** Directories (all their sources) and files checked, relative to the repository. */
    static final List<String> CLEAN = List.of(
            "proto/src/main/java",
            "emulator/src/main/java",
            "client/src/main/java",
            "junit/src/main/java",
            "bench/src/main/java");

    private static final Pattern QUALIFIED = Pattern.compile(
            "(?<![\\w.])((?:dev\\.gemulator|java|javax|io\\.netty|com\\.google\\.protobuf|picocli)(?:\\.[a-z_][a-z0-9_]*)*)\\.([A-Z]\\w*)");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?([\\w.]+)\\.(\\w+);", Pattern.MULTILINE);
    private static final Pattern DECLARED = Pattern.compile("\\b(?:class|interface|enum|record)\\s+(\\w+)");

    /** The code of a source: comments and string and character literals blanked out, imports and package dropped. */
    static String code(String source) {
        String s = source.replaceAll("(?s)/\\*.*?\\*/", " ")
                .replaceAll("\"(?:\\\\.|[^\"\\\\\\n])*\"", "\"\"")
                .replaceAll("'(?:\\\\.|[^'\\\\\\n])'", "''")
                .replaceAll("//[^\\n]*", "");
        return s.replaceAll("(?m)^(?:import|package) [^\\n]*;", "");
    }

    /** The inline qualified names of {@code source} (a file of {@code ownPackageClasses}' package) that an import would do for. */
    static List<String> needless(String source, Set<String> ownPackageClasses) {
        Set<String> taken = new HashSet<>(ownPackageClasses);
        Matcher d = DECLARED.matcher(code(source));
        while (d.find()) {
            taken.add(d.group(1));
        }
        Matcher i = IMPORT.matcher(source);
        Set<String> imported = new HashSet<>();
        while (i.find()) {
            imported.add(i.group(1) + "." + i.group(2));
            taken.add(i.group(2));
        }
        List<String> out = new ArrayList<>();
        Matcher m = QUALIFIED.matcher(code(source));
        while (m.find()) {
            String fqn = m.group(1) + "." + m.group(2);
            boolean clash = taken.contains(m.group(2)) || (isJavaLang(m.group(2)) && !fqn.startsWith("java.lang."));
            if (!clash || imported.contains(fqn)) {
                out.add(fqn);
            }
        }
        return out;
    }

    private static boolean isJavaLang(String simpleName) {
        try {
            Class.forName("java.lang." + simpleName, false, QualifiedNamesTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    @Test
    void theCheckSeesAQualifiedNameAndLetsAClashPass() {
        String src = """
                package p;
                import java.util.List;
                /** a {@link java.util.Map} in a comment */
                class A {
                    java.util.Set<String> s = new java.util.HashSet<>(); // java.util.Deque
                    java.awt.List clash;
                    String t = "java.util.Optional";
                }
                """;
        assertEquals(List.of("java.util.Set", "java.util.HashSet"), needless(src, Set.of()));
        assertEquals(List.of(), needless("class B { dev.gemulator.kernel.proc.Process p; }", Set.of("Process")));
        assertEquals(List.of(), needless("class C { dev.gemulator.kernel.proc.Process p; }", Set.of()),
                "an import of Process would shadow java.lang.Process");
        assertEquals(List.of("java.lang.Thread"), needless("class D { java.lang.Thread t; }", Set.of()));
    }

    @Test
    void theCleanedSourcesImportWhatTheyUse() throws IOException {
        List<String> violations = new ArrayList<>();
        int files = 0;
        for (String c : CLEAN) {
            Path root = REPO.resolve(c);
            assertTrue(Files.exists(root), root + " is gone: update the list");
            List<Path> sources;
            try (Stream<Path> s = Files.walk(root)) {
                sources = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
            }
            for (Path p : sources) {
                files++;
                Set<String> own = new HashSet<>();
                try (Stream<Path> siblings = Files.list(p.getParent())) {
                    siblings.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".java"))
                            .forEach(f -> own.add(f.substring(0, f.length() - 5)));
                }
                own.remove(p.getFileName().toString().replace(".java", ""));
                for (String fqn : needless(Files.readString(p), own)) {
                    violations.add(REPO.relativize(p) + ": " + fqn);
                }
            }
        }
        assertTrue(files >= 200, "only " + files + " sources checked");
        assertEquals(List.of(), violations, "inline qualified names an import would do for");
    }
}
