/*
 * The export-vs-gem_close race between two forked processes sharing a drm
 * file and its flink names (gem_flink_race-like): the parent opens card0 and
 * forks; each process loops create (handle 1 when free), flink handle 1,
 * open the name again (GEM_OPEN: another handle to the same object), export
 * handle 1, close both handles and the dma-buf. Errors are part of the race.
 * The parent waits for its child. Run it with `gemulator race -- race_fork`.
 *
 * Usage: race_fork [--rounds N] [--max-sleep-us U]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

static int rounds = 10;
static long max_sleep_us;

/* A real pause of up to max_sleep_us (the raw system call: the shim does not make it virtual). */
static void pause_real(unsigned *seed)
{
	if (max_sleep_us <= 0)
		return;
	long us = (long)(rand_r(seed) % (unsigned)(max_sleep_us + 1));
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	syscall(SYS_nanosleep, &ts, NULL);
}

static int loop(int fd)
{
	unsigned seed = (unsigned)getpid();
	int exported = 0;
	for (int i = 0; i < rounds; i++) {
		struct drm_mode_create_dumb c = { .width = 4, .height = 4, .bpp = 32 };
		ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c);
		struct drm_gem_flink f = { .handle = 1 };
		uint32_t other = 0;
		if (ioctl(fd, DRM_IOCTL_GEM_FLINK, &f) == 0) {
			struct drm_gem_open o = { .name = f.name };
			if (ioctl(fd, DRM_IOCTL_GEM_OPEN, &o) == 0)
				other = o.handle;
		}
		pause_real(&seed);
		struct drm_prime_handle p = { .handle = 1, .flags = DRM_CLOEXEC, .fd = -1 };
		if (ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p) == 0)
			exported++;
		pause_real(&seed);
		struct drm_gem_close g = { .handle = 1 };
		ioctl(fd, DRM_IOCTL_GEM_CLOSE, &g);
		if (other) {
			struct drm_gem_close g2 = { .handle = other };
			ioctl(fd, DRM_IOCTL_GEM_CLOSE, &g2);
		}
		if (p.fd >= 0)
			close(p.fd);
	}
	return exported;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--max-sleep-us") == 0 && i + 1 < argc)
			max_sleep_us = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: race_fork [--rounds N] [--max-sleep-us U]\n");
			return 2;
		}
	}
	int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("open /dev/dri/card0");
		return 1;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		int n = loop(fd);
		close(fd);
		printf("race_fork child: %d rounds, %d exports\n", rounds, n);
		fflush(stdout);
		_exit(0);
	}
	int n = loop(fd);
	int status = 0;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "race_fork: the child did not exit 0 (status %d)\n", status);
		return 1;
	}
	close(fd);
	printf("race_fork parent: %d rounds, %d exports\n", rounds, n);
	return 0;
}
