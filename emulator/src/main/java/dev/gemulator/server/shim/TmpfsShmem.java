package dev.gemulator.server.shim;

import dev.gemulator.kernel.gem.GemObject;
import dev.gemulator.kernel.gem.ShmemFile;
import dev.gemulator.kernel.gem.ShmemMount;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.BitSet;

/**
 * Real shared memory for GEM objects: each object's shmem file is a file of
 * a tmpfs directory, as large as the object and sparse, so that its pages
 * come into being when first touched, by the model or by a program that maps
 * it (the server passes the file's descriptor with SCM_RIGHTS and the
 * program maps it MAP_SHARED). A store through any mapping is a load in
 * every other one and in the model, which reads and writes the same file.
 * When the directory is a tmpfs mounted with size= the device's memory
 * limit, a program's store that needs a page beyond it gets SIGBUS, as a
 * full shmem does, and a write of the model ENOMEM.
 *
 * <p>The file is unlinked at once: only its descriptors reach it (the
 * server's and those the programs were given, whose mappings keep its pages
 * after the object is freed here, as mappings keep an object alive).
 */
public final class TmpfsShmem implements ShmemMount {
    private static final int PAGE = 4096;
    private final Path dir;
    private long made;

    /** Files in {@code dir} (created if missing, mode 0711). */
    public TmpfsShmem(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A fresh directory under /dev/shm (or the temporary directory when there is none). */
    public static TmpfsShmem fresh() {
        Path base = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        try {
            return new TmpfsShmem(Files.createTempDirectory(base, "gemulator-"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a directory in " + base + ": " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    @Override
    public ShmemFile create(GemObject obj, long sizeBytes) {
        Path p = dir.resolve("gem-" + obj.id() + "-" + (++made));
        try {
            Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-")));
            // Netty opens write-only (and truncates the new, empty file): the program reopens it read-write
            FileDescriptor passable = FileDescriptor.from(p.toFile());
            RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw");
            raf.setLength(sizeBytes);
            Files.delete(p);
            return new TmpfsFile(raf, passable, sizeBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the shmem file " + p + ": " + e.getMessage(), e);
        }
    }

    /** Removes the directory (the files in it are unlinked already). */
    public void close() {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // something else is in it; leave it
        }
    }

    /** One object's shmem file. */
    public static final class TmpfsFile implements ShmemFile {
        private final RandomAccessFile raf;
        private final FileChannel channel;
        private final FileDescriptor passable;
        private final long sizeBytes;
        private final BitSet written = new BitSet();
        private int passing;
        private boolean released;

        TmpfsFile(RandomAccessFile raf, FileDescriptor passable, long sizeBytes) {
            this.raf = raf;
            this.channel = raf.getChannel();
            this.passable = passable;
            this.sizeBytes = sizeBytes;
        }

        public long sizeBytes() {
            return sizeBytes;
        }

        /**
         * The descriptor to pass to a program (write-only: the program reopens
         * it through /proc/self/fd read-write), kept open until {@link #passed}
         * says each pass went.
         */
        public synchronized int passFd() {
            passing++;
            return passable.intValue();
        }

        /** A pass of {@link #passFd} was written to the socket (or failed). */
        public synchronized void passed() {
            passing--;
            closeIfDone();
        }

        @Override
        public long allocatedPages() {
            return written.cardinality();
        }

        /** The pages live in the tmpfs; the server keeps a bit per page written (at most size/32768 bytes). */
        @Override
        public long indexBytes(long pages) {
            return 0;
        }

        @Override
        public long missing(long offset, int length) {
            long n = 0;
            for (long page = offset / PAGE; page <= (offset + length - 1) / PAGE; page++) {
                if (!written.get((int) page)) {
                    n++;
                }
            }
            return n;
        }

        @Override
        public void read(long offset, byte[] dst, int dstOffset, int length) {
            ByteBuffer b = ByteBuffer.wrap(dst, dstOffset, length);
            try {
                while (b.hasRemaining()) {
                    int n = channel.read(b, offset + b.position() - dstOffset);
                    if (n < 0) {
                        while (b.hasRemaining()) {
                            b.put((byte) 0);
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading a shmem file: " + e.getMessage(), e);
            }
        }

        @Override
        public boolean write(long offset, byte[] src, int srcOffset, int length) {
            ByteBuffer b = ByteBuffer.wrap(src, srcOffset, length);
            try {
                while (b.hasRemaining()) {
                    channel.write(b, offset + b.position() - srcOffset);
                }
            } catch (IOException e) {
                // ENOSPC: the tmpfs is full (its size is the device's memory limit)
                return false;
            }
            for (long page = offset / PAGE; page <= (offset + length - 1) / PAGE; page++) {
                written.set((int) page);
            }
            return true;
        }

        @Override
        public synchronized void release() {
            released = true;
            try {
                raf.close();
            } catch (IOException e) {
                // nothing left to do
            }
            closeIfDone();
        }

        private void closeIfDone() {
            if (released && passing == 0 && passable.isOpen()) {
                try {
                    passable.close();
                } catch (IOException e) {
                    // nothing left to do
                }
            }
        }
    }
}
