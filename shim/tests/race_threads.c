/*
 * IGT's export-vs-gem_close race as a C program with two threads: one drm
 * file, each thread loops create (handle 1 when free), export handle 1
 * (PRIME_HANDLE_TO_FD), close handle 1, close the dma-buf. Errors are part
 * of the race (the other thread closed or replaced handle 1 first). Run it
 * with `gemulator race -- race_threads`: under the seeded server every
 * system call is a task of its scheduler, so the same seed gives the same
 * run whatever the real pauses (--max-sleep-us: random real sleeps, made
 * with the raw system call so that they stay real) are.
 *
 * --threads N runs N threads (up to 32: a seeded run gives threads beyond the
 * eighth descriptor ranges of their own too); --fail-first makes a first
 * pthread_create that fails (a stack larger than the address space) after
 * the shim announced it, which the run must forget.
 *
 * Usage: race_threads [--rounds N] [--max-sleep-us U] [--threads N] [--fail-first]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

static int fd;
static int rounds = 10;
static long max_sleep_us;
static int threads = 2;
static int fail_first;

/* A real pause of up to max_sleep_us (the raw system call: the shim does not make it virtual). */
static void pause_real(unsigned *seed)
{
	if (max_sleep_us <= 0)
		return;
	long us = (long)(rand_r(seed) % (unsigned)(max_sleep_us + 1));
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	syscall(SYS_nanosleep, &ts, NULL);
}

static void *loop(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg ^ (unsigned)getpid() ^ (unsigned)syscall(SYS_gettid);
	int exported = 0;
	for (int i = 0; i < rounds; i++) {
		struct drm_mode_create_dumb c = { .width = 4, .height = 4, .bpp = 32 };
		ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c);
		pause_real(&seed);
		struct drm_prime_handle p = { .handle = 1, .flags = DRM_CLOEXEC, .fd = -1 };
		if (ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p) == 0)
			exported++;
		pause_real(&seed);
		struct drm_gem_close g = { .handle = 1 };
		ioctl(fd, DRM_IOCTL_GEM_CLOSE, &g);
		if (p.fd >= 0)
			close(p.fd);
	}
	return (void *)(uintptr_t)exported;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--max-sleep-us") == 0 && i + 1 < argc)
			max_sleep_us = atol(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--fail-first") == 0)
			fail_first = 1;
		else {
			fprintf(stderr, "usage: race_threads [--rounds N] [--max-sleep-us U] [--threads N] [--fail-first]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 32) {
		fprintf(stderr, "race_threads: --threads takes 1 to 32\n");
		return 2;
	}
	fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("open /dev/dri/card0");
		return 1;
	}
	if (fail_first) {
		pthread_attr_t big;
		pthread_t never;
		pthread_attr_init(&big);
		/* more stack than a process's address space: the real pthread_create fails (EAGAIN or ENOMEM) */
		if (pthread_attr_setstacksize(&big, (size_t)1 << 47) != 0
		    || pthread_create(&never, &big, loop, (void *)(uintptr_t)99) == 0) {
			fprintf(stderr, "race_threads: the oversized thread was made\n");
			return 1;
		}
		pthread_attr_destroy(&big);
	}
	pthread_t t[32];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, loop, (void *)(uintptr_t)(i + 1)) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	uintptr_t exported = 0;
	for (int i = 0; i < threads; i++) {
		void *r;
		pthread_join(t[i], &r);
		exported += (uintptr_t)r;
	}
	close(fd);
	printf("race_threads: %d rounds in %d threads, %lu exports\n", rounds, threads, (unsigned long)exported);
	return 0;
}
