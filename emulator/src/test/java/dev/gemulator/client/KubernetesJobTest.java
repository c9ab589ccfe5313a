package dev.gemulator.client;

import static dev.gemulator.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gemulator.cli.Cli.Ran;
import dev.gemulator.cli.Main;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * deploy/k8s/explore-job.yaml is a Job the Kubernetes API accepts: read
 * strictly as fabric8's kubernetes-model types (a field the API does not
 * have fails), an Indexed Job whose pods get JOB_COMPLETION_INDEX and run
 * the image's entry point with arguments the real command parser takes,
 * shard I of completions. Run as the pods would run them (the index
 * expanded), the shards merge into what one whole run prints. No cluster
 * and no Docker engine are needed.
 */
@Tag("slow")
class KubernetesJobTest {
    private static Path repo(String rel) {
        return Path.of(System.getProperty("gemulator.repo", "..")).resolve(rel);
    }

    private static Job job() throws Exception {
        Object yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(repo("deploy/k8s/explore-job.yaml")));
        JsonMapper mapper = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES).build();
        Job job = mapper.convertValue(yaml, Job.class);
        strict(job, "Job", new IdentityHashMap<>());
        return job;
    }

    /**
     * The model keeps fields it does not know in additionalProperties instead
     * of failing: every object of the tree must have none.
     */
    private static void strict(Object o, String path, IdentityHashMap<Object, Boolean> seen) throws Exception {
        if (o == null || seen.put(o, true) != null) {
            return;
        }
        if (o instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                strict(l.get(i), path + "[" + i + "]", seen);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                strict(e.getValue(), path + "." + e.getKey(), seen);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method get : o.getClass().getMethods()) {
            if (get.getParameterCount() != 0 || !get.getName().startsWith("get") || Modifier.isStatic(get.getModifiers())
                    || get.getDeclaringClass() == Object.class) {
                continue;
            }
            Object v = get.invoke(o);
            if (get.getName().equals("getAdditionalProperties")) {
                assertTrue(v == null || ((Map<?, ?>) v).isEmpty(), path + " has fields the Kubernetes API does not: " + v);
            } else {
                strict(v, path + "." + get.getName().substring(3), seen);
            }
        }
    }

    private static Container container(Job job) {
        List<Container> containers = job.getSpec().getTemplate().getSpec().getContainers();
        assertEquals(1, containers.size());
        return containers.get(0);
    }

    @Test
    void theManifestIsAnIndexedJobOfTheKubernetesApiWhosePodsKnowTheirIndex() throws Exception {
        Job job = job();
        assertEquals("batch/v1", job.getApiVersion());
        assertEquals("Job", job.getKind());
        assertEquals("Indexed", job.getSpec().getCompletionMode());
        assertEquals("Never", job.getSpec().getTemplate().getSpec().getRestartPolicy());
        assertTrue(job.getSpec().getParallelism() <= job.getSpec().getCompletions());
        Container c = container(job);
        assertTrue(c.getCommand() == null || c.getCommand().isEmpty(), "the image's entry point runs: args are gemulator's arguments");
        EnvVar index = c.getEnv().stream().filter(e -> e.getName().equals("JOB_COMPLETION_INDEX")).findFirst().orElseThrow();
        assertEquals("metadata.annotations['batch.kubernetes.io/job-completion-index']",
                index.getValueFrom().getFieldRef().getFieldPath());
        String dockerfile = Files.readString(repo("Dockerfile"));
        assertTrue(dockerfile.contains("ENTRYPOINT [\"/app/gemulator\"]") && dockerfile.contains("WORKDIR /app")
                && dockerfile.contains("COPY scenarios /app/scenarios"), "the image runs gemulator in /app with the scenarios");
        assertEquals("gemulator:local", c.getImage(), "the image docker build -t gemulator:local makes (README)");
        // a field the API does not have is refused, as kubectl apply would
        String typo = Files.readString(repo("deploy/k8s/explore-job.yaml")).replace("completionMode:", "completionMod:");
        Object yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(typo);
        Job bad = JsonMapper.builder().build().convertValue(yaml, Job.class);
        try {
            strict(bad, "Job", new IdentityHashMap<>());
            throw new IllegalStateException("a misspelt field passed");
        } catch (AssertionError expected) {
            assertTrue(expected.getMessage().contains("completionMod"), expected.getMessage());
        }
    }

    /** The arguments of pod {@code index}: $(JOB_COMPLETION_INDEX) expanded as the kubelet does from the env. */
    private static List<String> podArgs(Container c, int index) {
        return c.getArgs().stream().map(a -> a.replace("$(JOB_COMPLETION_INDEX)", String.valueOf(index))).toList();
    }


    @Test
    void everyPodsCommandLineIsOneTheParserTakesAndTheShardsMergeIntoTheWholeRun(@TempDir Path dir) throws Exception {
        Job job = job();
        Container c = container(job);
        int n = job.getSpec().getCompletions();
        List<String> merge = new ArrayList<>(List.of("merge"));
        for (int i = 0; i < n; i++) {
            List<String> args = podArgs(c, i);
            CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
            CommandLine.ParseResult explore = parsed.subcommand();
            assertEquals("explore", explore.commandSpec().name());
            assertEquals(i + "/" + n, explore.matchedOptionValue("--shard", ""), "shard I of completions");
            assertTrue(explore.hasMatchedOption("--json"), "results are printed for kubectl logs");
            assertTrue(Files.exists(repo(explore.matchedPositionalValue(0, Path.of("")).toString())), "the scenario is in the image");
            // the pod's run, cut to a few schedules and the scenario where the tests find it
            List<String> small = new ArrayList<>(args);
            small.set(small.indexOf("--schedules") + 1, "24");
            small.set(1, repo(small.get(1)).toString());
            Ran r = run(small.toArray(String[]::new));
            assertEquals(0, r.status(), "--found-exit-status 0: a shard that found something succeeded: " + r.err());
            merge.add(Files.writeString(dir.resolve("pod-" + i + ".log"), r.out()).toString());
            if (i == 0) {
                List<String> whole = new ArrayList<>(small.subList(0, small.indexOf("--shard")));
                whole.add("--no-timing");
                merge.add(0, String.join("\u0000", whole));
            }
        }
        Ran whole = run(merge.remove(0).split("\u0000"));
        Ran merged = run(merge.toArray(String[]::new));
        assertEquals(whole.out(), merged.out(), merged.err());
        assertEquals(whole.status(), merged.status());
        assertTrue(whole.out().contains("schedules run: 24\n"), whole.out());
    }

    @Test
    void theImagesEntryPointPassesTheArgumentsThroughUntouched(@TempDir Path dir) throws Exception {
        Path fakeJava = dir.resolve("java");
        Files.writeString(fakeJava, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        assertTrue(fakeJava.toFile().setExecutable(true));
        Container c = container(job());
        List<String> command = new ArrayList<>(List.of("/bin/sh", repo("docker/gemulator").toString()));
        command.addAll(c.getArgs());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PATH", dir + ":/usr/bin:/bin");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        List<String> seen = out.lines().toList();
        int jar = seen.indexOf("/app/gemulator.jar");
        assertTrue(jar > 0 && seen.get(jar - 1).equals("-jar"), out);
        assertEquals(c.getArgs(), seen.subList(jar + 1, seen.size()), "docker run IMAGE explore --shard ... reaches gemulator as given");
    }
}
