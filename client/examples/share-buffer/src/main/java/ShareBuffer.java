import dev.gemulator.client.ClientProcess;
import dev.gemulator.client.DmaBufFd;
import dev.gemulator.client.DrmFd;
import dev.gemulator.client.Gemulator;
import dev.gemulator.client.Mapping;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Two programs, processes A and B of one device, share one buffer both ways through a passed dma-buf fd. */
public final class ShareBuffer {
    public static void main(String[] args) {
        String me = args[0];
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 7070;
        Duration patience = Duration.ofSeconds(30);
        try (Gemulator device = Gemulator.connect("127.0.0.1", port, null, patience, System.err::println)) {
            ClientProcess self = device.process(me);
            self.acceptFdsFrom(me.equals("A") ? "B" : "A"); // a process receives fds only from peers it accepts
            if (me.equals("A")) {
                DrmFd card = self.open("card0");
                DrmFd.Dumb bo = card.createDumb(64, 64, 32);
                DmaBufFd buf = card.primeHandleToFd(bo.handle(), DrmFd.CLOEXEC | DrmFd.RDWR);
                try (Mapping m = buf.mmap(0, bo.size())) {
                    m.write(0, "hello from A".getBytes(StandardCharsets.UTF_8));
                }
                self.sendFd(buf, "B", patience); // waits for B to accept fds from A
                DmaBufFd back = self.receiveDmaBuf(patience);
                try (Mapping m = back.mmap(0, back.size())) {
                    System.out.println("A reads: " + text(m.read(0, 64)));
                }
                System.out.println("A: B sent back handle " + card.primeFdToHandle(back) + " of card0, the buffer A made ("
                        + bo.handle() + ")");
            } else {
                DmaBufFd buf = self.receiveDmaBuf(patience);
                try (Mapping m = buf.mmap(0, buf.size())) {
                    System.out.println("B reads: " + text(m.read(0, 64)) + " (" + buf.size() + " bytes)");
                    m.write(0, "hello from B, in the same pages".getBytes(StandardCharsets.UTF_8));
                }
                self.sendFd(buf, "A", patience);
            }
        }
    }

    private static String text(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }
}
