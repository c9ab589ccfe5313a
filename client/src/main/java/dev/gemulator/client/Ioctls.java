package dev.gemulator.client;

import com.google.protobuf.ByteString;
import dev.gemulator.proto.v1.Ioctl;
import dev.gemulator.proto.v1.Memory;
import dev.gemulator.proto.v1.Syscall;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The ioctls the library makes, as a C program makes them: the request
 * number of the kernel headers and the argument struct's bytes (x86-64
 * layout, little endian), lent to the kernel at {@link #ARG}. The server
 * decodes them with its one ioctl table and answers the struct's results as
 * values (and VERSION's name as text), so nothing here reads structs back.
 * The numbers and layouts are the uapi's: drm.h, drm_mode.h, vgem_drm.h,
 * dma-buf.h.
 */
final class Ioctls {
    private Ioctls() {
    }

    /** Where the argument struct lies in the memory a call lends. */
    static final long ARG = 0x10000;
    /** Where VERSION's name buffer lies. */
    private static final long NAME = 0x20000;
    private static final int NAME_BYTES = 256;

    private static final int NONE = 0;
    private static final int WRITE = 1;
    private static final int READ = 2;

    /** _IOC: direction, type, number and argument size. */
    private static int ioc(int dir, char type, int nr, int size) {
        return dir << 30 | (size & 0x3fff) << 16 | (type & 0xff) << 8 | nr & 0xff;
    }

    private static ByteBuffer struct(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static Syscall call(int fd, int request, ByteBuffer struct, Memory... more) {
        Ioctl.Builder b = Ioctl.newBuilder().setFd(fd).setRequest(request).setArg(ARG)
                .addMemory(Memory.newBuilder().setAddress(ARG).setData(ByteString.copyFrom(struct.array())));
        for (Memory m : more) {
            b.addMemory(m);
        }
        return Syscall.newBuilder().setIoctl(b).build();
    }

    /** DRM_IOCTL_VERSION: struct drm_version, its name buffer lent beside it. */
    static Syscall version(int fd) {
        ByteBuffer s = struct(64).putLong(16, NAME_BYTES - 1).putLong(24, NAME);
        return call(fd, ioc(READ | WRITE, 'd', 0x00, 64), s,
                Memory.newBuilder().setAddress(NAME).setData(ByteString.copyFrom(new byte[NAME_BYTES])).build());
    }

    /** DRM_IOCTL_GET_MAGIC: struct drm_auth. */
    static Syscall getMagic(int fd) {
        return call(fd, ioc(READ, 'd', 0x02, 4), struct(4));
    }

    /** DRM_IOCTL_GEM_CLOSE: struct drm_gem_close. */
    static Syscall gemClose(int fd, int handle) {
        return call(fd, ioc(WRITE, 'd', 0x09, 8), struct(8).putInt(0, handle));
    }

    /** DRM_IOCTL_GEM_FLINK: struct drm_gem_flink. */
    static Syscall flink(int fd, int handle) {
        return call(fd, ioc(READ | WRITE, 'd', 0x0a, 8), struct(8).putInt(0, handle));
    }

    /** DRM_IOCTL_GEM_OPEN: struct drm_gem_open. */
    static Syscall gemOpen(int fd, int name) {
        return call(fd, ioc(READ | WRITE, 'd', 0x0b, 16), struct(16).putInt(0, name));
    }

    /** DRM_IOCTL_GET_CAP: struct drm_get_cap. */
    static Syscall getCap(int fd, long capability) {
        return call(fd, ioc(READ | WRITE, 'd', 0x0c, 16), struct(16).putLong(0, capability));
    }

    /** DRM_IOCTL_AUTH_MAGIC: struct drm_auth. */
    static Syscall authMagic(int fd, int magic) {
        return call(fd, ioc(WRITE, 'd', 0x11, 4), struct(4).putInt(0, magic));
    }

    /** DRM_IOCTL_SET_MASTER: no argument. */
    static Syscall setMaster(int fd) {
        return call(fd, ioc(NONE, 'd', 0x1e, 0), struct(0));
    }

    /** DRM_IOCTL_DROP_MASTER: no argument. */
    static Syscall dropMaster(int fd) {
        return call(fd, ioc(NONE, 'd', 0x1f, 0), struct(0));
    }

    /** DRM_IOCTL_PRIME_HANDLE_TO_FD: struct drm_prime_handle. */
    static Syscall handleToFd(int fd, int handle, int flags) {
        return call(fd, ioc(READ | WRITE, 'd', 0x2d, 12), struct(12).putInt(0, handle).putInt(4, flags));
    }

    /** DRM_IOCTL_PRIME_FD_TO_HANDLE: struct drm_prime_handle. */
    static Syscall fdToHandle(int fd, int dmaBufFd) {
        return call(fd, ioc(READ | WRITE, 'd', 0x2e, 12), struct(12).putInt(8, dmaBufFd));
    }

    /** DRM_IOCTL_VGEM_FENCE_ATTACH: struct drm_vgem_fence_attach. */
    static Syscall fenceAttach(int fd, int handle, int flags) {
        return call(fd, ioc(READ | WRITE, 'd', 0x41, 16), struct(16).putInt(0, handle).putInt(4, flags));
    }

    /** DRM_IOCTL_VGEM_FENCE_SIGNAL: struct drm_vgem_fence_signal. */
    static Syscall fenceSignal(int fd, int fence) {
        return call(fd, ioc(WRITE, 'd', 0x42, 8), struct(8).putInt(0, fence));
    }

    /** DRM_IOCTL_MODE_CREATE_DUMB: struct drm_mode_create_dumb. */
    static Syscall createDumb(int fd, int width, int height, int bpp) {
        return call(fd, ioc(READ | WRITE, 'd', 0xb2, 32), struct(32).putInt(0, height).putInt(4, width).putInt(8, bpp));
    }

    /** DRM_IOCTL_MODE_MAP_DUMB: struct drm_mode_map_dumb. */
    static Syscall mapDumb(int fd, int handle) {
        return call(fd, ioc(READ | WRITE, 'd', 0xb3, 16), struct(16).putInt(0, handle));
    }

    /** DRM_IOCTL_MODE_DESTROY_DUMB: struct drm_mode_destroy_dumb. */
    static Syscall destroyDumb(int fd, int handle) {
        return call(fd, ioc(READ | WRITE, 'd', 0xb4, 4), struct(4).putInt(0, handle));
    }

    /** DMA_BUF_IOCTL_SYNC: struct dma_buf_sync. */
    static Syscall sync(int fd, long flags) {
        return call(fd, ioc(WRITE, 'b', 0, 8), struct(8).putLong(0, flags));
    }

    /** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: struct dma_buf_export_sync_file. */
    static Syscall exportSyncFile(int fd, int flags) {
        return call(fd, ioc(READ | WRITE, 'b', 2, 8), struct(8).putInt(0, flags).putInt(4, -1));
    }

    /** DMA_BUF_IOCTL_IMPORT_SYNC_FILE: struct dma_buf_import_sync_file. */
    static Syscall importSyncFile(int fd, int syncFileFd, int flags) {
        return call(fd, ioc(WRITE, 'b', 3, 8), struct(8).putInt(0, flags).putInt(4, syncFileFd));
    }
}
