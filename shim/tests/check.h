/*
 * What the C tests share: checks that name what failed, libdrm calls that
 * must succeed, and pipes to put real processes in step.
 *
 * Each test is a program of several real processes on the emulated vgem
 * (run it with ./gemulator exec -- PROGRAM): it prints "ok WHAT" for each
 * check that held and exits 0, or prints "FAIL WHAT: why" and exits 1.
 */
#ifndef GEMULATOR_CHECK_H
#define GEMULATOR_CHECK_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>
#include <xf86drm.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>

/* vgem's uapi (include/uapi/drm/vgem_drm.h), which libdrm's headers do not carry. */
struct drm_vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
#define VGEM_FENCE_WRITE 0x1
	uint32_t out_fence;
	uint32_t pad;
};

struct drm_vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define DRM_IOCTL_VGEM_FENCE_ATTACH DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct drm_vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL DRM_IOW(DRM_COMMAND_BASE + 0x2, struct drm_vgem_fence_signal)

#define CHECK(cond, ...)                                                                                       \
	do {                                                                                                   \
		if (!(cond)) {                                                                                 \
			printf("FAIL [%d] %s:%d: ", getpid(), __FILE__, __LINE__);                             \
			printf(__VA_ARGS__);                                                                   \
			printf(" (errno %d: %s)\n", errno, strerror(errno));                                   \
			fflush(stdout);                                                                        \
			exit(1);                                                                               \
		}                                                                                              \
	} while (0)

#define OK(...)                                                                                                \
	do {                                                                                                   \
		printf("ok ");                                                                                 \
		printf(__VA_ARGS__);                                                                           \
		printf("\n");                                                                                  \
		fflush(stdout);                                                                                \
	} while (0)

/* An ioctl that must fail with errno e. */
#define CHECK_ERRNO(call, e, what)                                                                             \
	do {                                                                                                   \
		errno = 0;                                                                                     \
		int r_ = (call);                                                                               \
		CHECK(r_ == -1 && errno == (e), "%s: wanted errno %d, got %d (errno %d)", what, (e), r_, errno); \
	} while (0)

struct bo {
	uint32_t handle, pitch;
	uint64_t size;
};

static inline int open_card(void)
{
	int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open /dev/dri/card0");
	return fd;
}

static inline struct bo create_bo(int fd, uint32_t width, uint32_t height, uint32_t bpp)
{
	struct drm_mode_create_dumb c = { .width = width, .height = height, .bpp = bpp };
	CHECK(drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c) == 0, "create_dumb %ux%ux%u", width, height, bpp);
	struct bo b = { c.handle, c.pitch, c.size };
	return b;
}

/* The object's pages through the drm fd (MAP_DUMB's fake offset). */
static inline void *map_bo(int fd, const struct bo *b)
{
	struct drm_mode_map_dumb m = { .handle = b->handle };
	CHECK(drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m) == 0, "map_dumb %u", b->handle);
	void *p = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)m.offset);
	CHECK(p != MAP_FAILED, "mmap of handle %u at 0x%llx", b->handle, (unsigned long long)m.offset);
	return p;
}

static inline uint32_t flink(int fd, uint32_t handle)
{
	struct drm_gem_flink f = { .handle = handle };
	CHECK(drmIoctl(fd, DRM_IOCTL_GEM_FLINK, &f) == 0, "flink %u", handle);
	return f.name;
}

static inline void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };
	CHECK(drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &c) == 0, "gem_close %u", handle);
}

/* A pipe to say "go" (one byte, or a 32-bit value) from one process to another. */
struct channel {
	int r, w;
};

static inline struct channel channel(void)
{
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	struct channel c = { p[0], p[1] };
	return c;
}

/* This process only reads from c (or only writes): closing the other end means a peer's death is EOF, not a hang. */
static inline void reader(struct channel *c)
{
	close(c->w);
	c->w = -1;
}

static inline void writer(struct channel *c)
{
	close(c->r);
	c->r = -1;
}

static inline void send_u32(struct channel c, uint32_t v)
{
	CHECK(write(c.w, &v, 4) == 4, "write to a pipe");
}

static inline uint32_t recv_u32(struct channel c)
{
	uint32_t v;
	CHECK(read(c.r, &v, 4) == 4, "read from a pipe");
	return v;
}

/* Waits for a child and requires that it exited 0. */
static inline void reap(pid_t pid, const char *what)
{
	int status;
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid %s", what);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with status 0x%x", what, status);
}

#endif
