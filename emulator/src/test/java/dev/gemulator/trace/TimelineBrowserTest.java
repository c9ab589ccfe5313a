package dev.gemulator.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gemulator.proto.v1.TraceRecord;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The timeline page in a real browser: headless Chromium renders it to a
 * screenshot, and the pixels must show what the page draws (the red report
 * labels and line, the purple lock bars, the orange preemptions). The same
 * page with its SVG cut out is the control: it shows only the legend's
 * swatches, so a page that did not render would fail. The picture is also
 * the one to look at by eye after a change to the page.
 *
 * <p>{@code ./gemulator test} installs Debian's chromium when it is missing
 * and it can; {@code -Dgemulator.browser=skip} skips this test on a machine
 * without one, saying so. The screenshot stays in
 * {@code emulator/target/timeline-screenshot.png}.
 */
@Tag("slow")
class TimelineBrowserTest {
    private static final int WIDTH = 1600;
    private static final int HEIGHT = 900;

    @Test
    void chromiumRendersTheRaceWithItsReportLocksAndPreemptions(@TempDir Path dir) throws Exception {
        String browser = browser();
        List<TraceRecord> records = TimelineTest.race();
        String html = Timeline.of(records).html(Timeline.focus(records), "race.trace");

        BufferedImage page = screenshot(browser, html, dir, "page");
        ImageIO.write(page, "png", new File("target/timeline-screenshot.png"));
        int svgEnd = html.indexOf("</svg>");
        String withoutSvg = html.substring(0, html.indexOf("<svg")) + html.substring(svgEnd + "</svg>".length());
        BufferedImage control = screenshot(browser, withoutSvg, dir, "control");

        int red = count(page, Timeline.REPORT_RED);
        int purple = count(page, Timeline.LOCK_PURPLE);
        int orange = count(page, Timeline.PREEMPT_ORANGE);
        int getGreen = count(page, Timeline.kindColour("GET"));
        int lifelines = count(page, Timeline.LIFE_GREEN);
        String seen = "red " + red + ", purple " + purple + ", orange " + orange + ", green " + getGreen
                + "; control: red " + count(control, Timeline.REPORT_RED) + ", purple " + count(control, Timeline.LOCK_PURPLE);
        // the legend's swatches are 11x11 = 121 pixels each (purple: the lock held, and the dashed border of the
        // lock waited for): the control shows them and nothing more
        assertTrue(count(control, Timeline.REPORT_RED) <= 121 && count(control, Timeline.LOCK_PURPLE) <= 2 * 121, seen);
        assertTrue(red > 1_500, "the report labels and line: " + seen);
        assertTrue(purple > 1_000, "the lock bars: " + seen);
        assertTrue(orange > 150, "the preemption lines and marks: " + seen);
        assertTrue(getGreen > 200, "the GET steps: " + seen);
        assertTrue(lifelines > 1_000, "the objects' lifelines: " + lifelines + "; " + seen);
        assertTrue(reddestColumn(page) > 150, "the report's line crosses the lanes (behind the boxes)");
    }

    /** The browser to use: $GEMULATOR_CHROMIUM, or chromium / chromium-browser / google-chrome on PATH. */
    static String browser() {
        if ("skip".equals(System.getProperty("gemulator.browser"))) {
            Assumptions.abort("-Dgemulator.browser=skip: the browser test was asked not to run");
        }
        List<String> names = new ArrayList<>();
        if (System.getenv("GEMULATOR_CHROMIUM") != null) {
            names.add(System.getenv("GEMULATOR_CHROMIUM"));
        }
        names.addAll(List.of("chromium", "chromium-browser", "google-chrome"));
        for (String n : names) {
            if (n.contains("/") && Files.isExecutable(Path.of(n))) {
                return n;
            }
            for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                if (!d.isEmpty() && Files.isExecutable(Path.of(d, n))) {
                    return Path.of(d, n).toString();
                }
            }
        }
        fail("no chromium found (looked at $GEMULATOR_CHROMIUM and PATH): ./gemulator test installs Debian's chromium"
                + " when run as root, or install it yourself (apt-get install chromium), or pass -Dgemulator.browser=skip");
        return null;
    }

    static BufferedImage screenshot(String browser, String html, Path dir, String name) throws IOException,
            InterruptedException {
        Path page = dir.resolve(name + ".html");
        Path png = dir.resolve(name + ".png");
        Files.writeString(page, html, StandardCharsets.UTF_8);
        ProcessBuilder pb = new ProcessBuilder(browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--no-first-run", "--disable-extensions", "--user-data-dir=" + dir.resolve(name + "-profile"),
                "--window-size=" + WIDTH + "," + HEIGHT, "--screenshot=" + png, page.toUri().toString());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("chromium took more than 120 s to take a screenshot; its log: " + Files.readString(dir.resolve(name + ".log")));
        }
        if (!Files.exists(png)) {
            fail("chromium wrote no screenshot (exit " + p.exitValue() + "); its log: " + Files.readString(dir.resolve(name + ".log")));
        }
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(WIDTH, image.getWidth());
        return image;
    }

    static int count(BufferedImage image, String hex) {
        int rgb = Integer.parseInt(hex.substring(1), 16);
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }

    /** The most report-red pixels in any one column. */
    static int reddestColumn(BufferedImage image) {
        int rgb = Integer.parseInt(Timeline.REPORT_RED.substring(1), 16);
        int best = 0;
        for (int x = 0; x < image.getWidth(); x++) {
            int n = 0;
            for (int y = 0; y < image.getHeight(); y++) {
                n += (image.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
            }
            best = Math.max(best, n);
        }
        return best;
    }
}
