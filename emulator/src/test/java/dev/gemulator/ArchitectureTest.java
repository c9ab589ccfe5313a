package dev.gemulator;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.equivalentTo;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The dependency direction of docs/ARCHITECTURE.md, checked on the compiled
 * classes (ArchUnit reads their bytecode: a fully qualified name in the
 * source counts as much as an import): no cycles between the packages, no
 * dependency upward through the layers, and the kernel model plain Java,
 * free of I/O, wall clock and randomness.
 */
class ArchitectureTest {
    /** The emulator's classes with the proto and client libraries they use (tests left out). */
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.gemulator");

    /**
     * The layers, bottom first: each may use the ones below it (and the
     * libraries), never one above. A layer of several packages lets them
     * use each other, cycles aside.
     */
    static final List<String[]> LAYERS = List.of(
            new String[] {"kernel", "dev.gemulator.kernel.."},
            new String[] {"model", "dev.gemulator", "dev.gemulator.sched..", "dev.gemulator.check.."},
            new String[] {"gemscript", "dev.gemulator.gemscript.."},
            new String[] {"trace", "dev.gemulator.trace.."},
            new String[] {"engines", "dev.gemulator.explore..", "dev.gemulator.hunt..", "dev.gemulator.difftest..",
                "dev.gemulator.fuzz..", "dev.gemulator.lockstep..", "dev.gemulator.server.."},
            new String[] {"transport", "dev.gemulator.transport.."},
            new String[] {"tools", "dev.gemulator.race..", "dev.gemulator.load.."},
            new String[] {"cli", "dev.gemulator.cli.."});

    /** The wire protocol and the client library (their own modules): below everything but the kernel. */
    private static final String[] LIBRARIES = {"dev.gemulator.proto..", "dev.gemulator.client.."};

    @Test
    void theClassesWereFound() {
        for (String p : List.of("dev.gemulator.kernel", "dev.gemulator.cli", "dev.gemulator.transport",
                "dev.gemulator.client", "dev.gemulator.proto.v1")) {
            assertTrue(CLASSES.containPackage(p), "no classes of " + p + " imported");
        }
        assertTrue(CLASSES.size() > 300, "only " + CLASSES.size() + " classes imported");
    }

    @Test
    void noPackageDependsOnItselfThroughAnother() {
        slices().matching("dev.gemulator.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void noLayerUsesOneAboveIt() {
        LayeredArchitecture arch = layeredArchitecture().consideringOnlyDependenciesInLayers();
        for (String[] l : LAYERS) {
            arch = arch.layer(l[0]).definedBy(Arrays.copyOfRange(l, 1, l.length));
        }
        arch = arch.layer("libraries").definedBy(LIBRARIES);
        for (int i = 0; i < LAYERS.size(); i++) {
            String[] above = LAYERS.subList(i + 1, LAYERS.size()).stream().map(l -> l[0]).toArray(String[]::new);
            arch = above.length == 0 ? arch.whereLayer(LAYERS.get(i)[0]).mayNotBeAccessedByAnyLayer()
                    : arch.whereLayer(LAYERS.get(i)[0]).mayOnlyBeAccessedByLayers(above);
        }
        String[] notKernel = LAYERS.subList(1, LAYERS.size()).stream().map(l -> l[0]).toArray(String[]::new);
        arch.whereLayer("libraries").mayOnlyBeAccessedByLayers(notKernel).check(CLASSES);
    }

    @Test
    void everyEmulatorPackageHasItsLayer() {
        List<String> loose = CLASSES.stream().map(JavaClass::getPackageName)
                .filter(p -> !p.startsWith("dev.gemulator.proto") && !p.startsWith("dev.gemulator.client"))
                .distinct().filter(p -> LAYERS.stream().noneMatch(l -> Arrays.stream(l, 1, l.length)
                        .anyMatch(d -> d.endsWith("..") ? p.equals(d.substring(0, d.length() - 2))
                                || p.startsWith(d.substring(0, d.length() - 1)) : p.equals(d))))
                .sorted().toList();
        assertEquals(List.of(), loose, "packages that no layer of ArchitectureTest (and docs/ARCHITECTURE.md) names");
    }

    /** The kernel model: no transport, serialization, metrics or files, and nothing of the emulator above it. */
    @Test
    void theKernelDoesNoIo() {
        noClasses().that().resideInAPackage("dev.gemulator.kernel..")
                .should().dependOnClassesThat(resideInAnyPackage("io.netty..", "com.google.protobuf..",
                        "io.micrometer..", "java.nio.channels..", "java.nio.file..", "java.net..", "picocli..",
                        "dev.gemulator.proto..", "dev.gemulator.client.."))
                .orShould().dependOnClassesThat(resideInAPackage("java.io").and(not(equivalentTo(ByteArrayOutputStream.class))))
                .because("the kernel model is plain Java; an in-memory ByteArrayOutputStream is all it may take of"
                        + " java.io")
                .check(CLASSES);
    }

    /** Same seed, same run: no wall clock, no unseeded randomness, no parallel streams in the kernel. */
    @Test
    void theKernelReadsNoClockAndDrawsNoRandomNumbers() {
        noClasses().that().resideInAPackage("dev.gemulator.kernel..")
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(Math.class, "random")
                .orShould().callMethodWhere(target(name("now")).and(target(owner(equivalentTo(Instant.class)))))
                .orShould().callMethodWhere(target(name("parallelStream")))
                .orShould().dependOnClassesThat().belongToAnyOf(Random.class, ThreadLocalRandom.class,
                        SecureRandom.class, SplittableRandom.class)
                .check(CLASSES);
    }

    /** The client library is one other projects depend on: nothing of the emulator, no metrics or CLI library. */
    @Test
    void theClientLibraryUsesNothingOfTheEmulator() {
        noClasses().that().resideInAPackage("dev.gemulator.client..")
                .should().dependOnClassesThat(resideInAPackage("dev.gemulator..")
                        .and(not(resideInAnyPackage("dev.gemulator.client..", "dev.gemulator.proto.."))))
                .orShould().dependOnClassesThat(resideInAnyPackage("io.micrometer..", "picocli..", "org.HdrHistogram.."))
                .check(CLASSES);
        assertTrue(CLASSES.stream().filter(c -> c.getPackageName().startsWith("dev.gemulator.client")).count() >= 10,
                "the client library's classes were not found");
    }
}
