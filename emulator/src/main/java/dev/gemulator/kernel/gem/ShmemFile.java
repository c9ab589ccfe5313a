package dev.gemulator.kernel.gem;

/**
 * The shmem file behind a GEM object (obj->filp of drm_gem_shmem): its
 * pages come into being on the first write that touches them, and a page
 * never written reads as zeros. The heap holds them by default; a server
 * whose programs map the pages for real puts them in files they can map
 * ({@link ShmemMount}).
 */
public interface ShmemFile {

    /** Pages this store allocated for writes made through it. */
    long allocatedPages();

    /**
     * What the index that finds this store's pages costs in the server's
     * memory once {@code pages} of them exist (the device counts it against
     * its limit with the pages); 0 for a store whose pages live outside it.
     */
    long indexBytes(long pages);

    /** How many pages of the range a write through this store would allocate. */
    long missing(long offset, int length);

    /** Copies {@code length} bytes at {@code offset} into {@code dst}. */
    void read(long offset, byte[] dst, int dstOffset, int length);

    /** Copies bytes in; false (and nothing written) when no memory is left for the new pages. */
    boolean write(long offset, byte[] src, int srcOffset, int length);

    /** The final fput of the shmem file: its pages go once nothing maps them. */
    void release();
}
