/*
 * What the race programs (race_threads, race_fork) share: their common
 * options, the real pauses that show a seeded run does not depend on
 * timing, and the steps of one round of the export-vs-gem_close race.
 * Errors are part of the race, so the steps return what happened instead
 * of checking it.
 */
#ifndef GEMULATOR_RACE_H
#define GEMULATOR_RACE_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

static int rounds = 10;
static long max_sleep_us;

/*
 * Takes --rounds N or --max-sleep-us U at argv[*i] (moving *i past the
 * value): 1 when it was one of them, 0 when the program must look at it.
 */
static int race_option(int argc, char **argv, int *i)
{
	if (strcmp(argv[*i], "--rounds") == 0 && *i + 1 < argc) {
		rounds = atoi(argv[++*i]);
		return 1;
	}
	if (strcmp(argv[*i], "--max-sleep-us") == 0 && *i + 1 < argc) {
		max_sleep_us = atol(argv[++*i]);
		return 1;
	}
	return 0;
}

/* A real pause of up to max_sleep_us (the raw system call: the shim does not make it virtual). */
static void pause_real(unsigned *seed)
{
	if (max_sleep_us <= 0)
		return;
	long us = (long)(rand_r(seed) % (unsigned)(max_sleep_us + 1));
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	syscall(SYS_nanosleep, &ts, NULL);
}

/* A 4x4 dumb buffer: handle 1 when the file has none, whatever the other side did. */
static void race_create(int fd)
{
	struct drm_mode_create_dumb c = { .width = 4, .height = 4, .bpp = 32 };
	ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c);
}

/* PRIME_HANDLE_TO_FD of handle 1: the dma-buf's fd, or -1 when the export failed. */
static int race_export(int fd)
{
	struct drm_prime_handle p = { .handle = 1, .flags = DRM_CLOEXEC, .fd = -1 };
	if (ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p) != 0)
		return -1;
	return p.fd;
}

/* GEM_CLOSE of a handle (the other side may have closed it first). */
static void race_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close g = { .handle = handle };
	ioctl(fd, DRM_IOCTL_GEM_CLOSE, &g);
}

#endif
