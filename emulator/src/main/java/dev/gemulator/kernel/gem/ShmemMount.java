package dev.gemulator.kernel.gem;

/** shm_mnt: where the shmem files of a device's objects are made (shmem_file_setup). */
@FunctionalInterface
public interface ShmemMount {

    /** A new shmem file of {@code sizeBytes} (page aligned) for {@code obj}. */
    ShmemFile create(GemObject obj, long sizeBytes);
}
