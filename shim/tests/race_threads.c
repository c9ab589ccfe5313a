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

#include "race.h"

static int fd;
static int threads = 2;
static int fail_first;

static void *loop(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg ^ (unsigned)getpid() ^ (unsigned)syscall(SYS_gettid);
	int exported = 0;
	for (int i = 0; i < rounds; i++) {
		race_create(fd);
		pause_real(&seed);
		int dmabuf = race_export(fd);
		if (dmabuf >= 0)
			exported++;
		pause_real(&seed);
		race_gem_close(fd, 1);
		if (dmabuf >= 0)
			close(dmabuf);
	}
	return (void *)(uintptr_t)exported;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (race_option(argc, argv, &i))
			continue;
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
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
