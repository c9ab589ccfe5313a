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

#include "race.h"

static int loop(int fd)
{
	unsigned seed = (unsigned)getpid();
	int exported = 0;
	for (int i = 0; i < rounds; i++) {
		race_create(fd);
		struct drm_gem_flink f = { .handle = 1 };
		uint32_t other = 0;
		if (ioctl(fd, DRM_IOCTL_GEM_FLINK, &f) == 0) {
			struct drm_gem_open o = { .name = f.name };
			if (ioctl(fd, DRM_IOCTL_GEM_OPEN, &o) == 0)
				other = o.handle;
		}
		pause_real(&seed);
		int dmabuf = race_export(fd);
		if (dmabuf >= 0)
			exported++;
		pause_real(&seed);
		race_gem_close(fd, 1);
		if (other)
			race_gem_close(fd, other);
		if (dmabuf >= 0)
			close(dmabuf);
	}
	return exported;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!race_option(argc, argv, &i)) {
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
