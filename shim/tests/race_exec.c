/*
 * exec inside a seeded run: the process keeps its identity and the
 * emulated files it opened without O_CLOEXEC; those with it are closed.
 * The program opens card0 twice (once close-on-exec) and makes a buffer;
 * its forked child execs itself and makes a buffer on the inherited drm
 * file; a child made by posix_spawn does the same; one of a missing
 * program ends with status 127; then the program execs itself and
 * makes a fourth one. Handles are the drm file's, shared by all: 1 to 4.
 * Run it with
 * `gemulator race -- race_exec`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include <drm.h>
#include <drm_mode.h>

static unsigned create(int fd)
{
	struct drm_mode_create_dumb c = { .width = 4, .height = 4, .bpp = 32 };
	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c) != 0) {
		perror("race_exec: create_dumb");
		exit(1);
	}
	return c.handle;
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 1;
	self[n] = 0;
	if (argc == 3 && strcmp(argv[1], "--child") == 0) {
		printf("race_exec: the child after its exec: handle %u\n", create(atoi(argv[2])));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--after") == 0) {
		int fd = atoi(argv[2]), gone = atoi(argv[3]);
		if (fcntl(gone, F_GETFD) != -1 || errno != EBADF) {
			fprintf(stderr, "race_exec: fd %d (close-on-exec) is still open after the exec\n", gone);
			return 1;
		}
		printf("race_exec: after the exec: handle %u\n", create(fd));
		return 0;
	}
	int fd = open("/dev/dri/card0", O_RDWR);
	int gone = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (fd < 0 || gone < 0) {
		perror("race_exec: open card0");
		return 1;
	}
	printf("race_exec: before: handle %u\n", create(fd));
	fflush(stdout);
	char a[16], b[16];
	snprintf(a, sizeof a, "%d", fd);
	snprintf(b, sizeof b, "%d", gone);
	pid_t child = fork();
	if (child == 0) {
		execl(self, self, "--child", a, (char *)NULL);
		perror("race_exec: exec in the child");
		_exit(1);
	}
	int status = 0;
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "race_exec: the child failed (status %d)\n", status);
		return 1;
	}
	pid_t spawned;
	char *args[] = { self, "--child", a, NULL };
	int e = posix_spawn(&spawned, self, NULL, NULL, args, environ);
	if (e != 0 || waitpid(spawned, &status, 0) != spawned || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "race_exec: the spawned child failed (%s, status %d)\n", strerror(e), status);
		return 1;
	}
	char *missing[] = { "/nonexistent/race_exec", NULL };
	e = posix_spawn(&spawned, missing[0], NULL, NULL, missing, environ);
	if (e == 0 && waitpid(spawned, &status, 0) == spawned && WIFEXITED(status))
		printf("race_exec: posix_spawn of a missing program: exit status %d\n", WEXITSTATUS(status));
	else
		printf("race_exec: posix_spawn of a missing program: %s\n", strerror(e));
	fflush(stdout);
	execl(self, self, "--after", a, b, (char *)NULL);
	perror("race_exec: exec");
	return 1;
}
