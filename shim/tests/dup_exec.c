/*
 * dup2, dup3, F_DUPFD_CLOEXEC and exec with an inherited drm fd: the copies
 * are the same drm file (its handles), close-on-exec follows each fd's flag
 * across execve, /proc/self/fd and fstat show the device, and the file
 * lives until its last descriptor anywhere is closed.
 */
#include "check.h"

static int clients(void)
{
	FILE *f = fopen("/sys/kernel/debug/dri/0/clients", "r");
	CHECK(f, "open clients");
	char line[256];
	int n = -1;
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	return n;
}

static int after_exec(int kept, int closed, int closed3, uint32_t handle)
{
	struct bo bo = { handle, 0, 4096 };
	uint32_t *p = map_bo(kept, &bo);
	CHECK(p[3] == 0xe0ec, "the handle's object still holds the word: %x", p[3]);
	OK("after exec, fd %d is the same drm file: handle %u maps the parent's object", kept, handle);
	CHECK(fcntl(closed, F_GETFD) == -1 && errno == EBADF, "the F_DUPFD_CLOEXEC copy is closed");
	CHECK(fcntl(closed3, F_GETFD) == -1 && errno == EBADF, "the dup3 O_CLOEXEC copy is closed");
	OK("close-on-exec copies %d and %d are gone", closed, closed3);
	char link[64] = "", path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", kept);
	CHECK(readlink(path, link, sizeof link - 1) > 0 && strcmp(link, "/dev/dri/card0") == 0, "readlink: %s", link);
	struct stat st;
	CHECK(fstat(kept, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == (dev_t)makedev(226, 0), "fstat: 226:0");
	OK("/proc/self/fd/%d is /dev/dri/card0, a character device 226:0", kept);
	munmap(p, 4096);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "after-exec") == 0)
		return after_exec(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), (uint32_t)atoi(argv[5]));
	int base = clients();
	int fd = open_card();
	CHECK(clients() == base + 1, "one more drm file");
	struct bo bo = create_bo(fd, 32, 32, 32);
	uint32_t *p = map_bo(fd, &bo);
	p[3] = 0xe0ec;
	munmap(p, bo.size);
	CHECK(dup2(fd, 10) == 10, "dup2 to 10");
	CHECK(fcntl(10, F_GETFD) == 0, "dup2 clears close-on-exec");
	CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 20) == 20, "F_DUPFD_CLOEXEC from 20");
	CHECK(fcntl(20, F_GETFD) == FD_CLOEXEC, "F_DUPFD_CLOEXEC sets it");
	CHECK(dup3(fd, 30, O_CLOEXEC) == 30, "dup3 to 30");
	CHECK(clients() == base + 1, "copies of an fd are the same drm file");
	struct drm_mode_map_dumb m = { .handle = bo.handle };
	CHECK(ioctl(10, DRM_IOCTL_MODE_MAP_DUMB, &m) == 0, "the handle works through the copy");
	OK("dup2, F_DUPFD_CLOEXEC and dup3 give fds 10, 20 and 30 of the same file");
	pid_t c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		char h[16];
		snprintf(h, sizeof h, "%u", bo.handle);
		execl("/proc/self/exe", argv[0], "after-exec", "10", "20", "30", h, (char *)NULL);
		CHECK(0, "execl");
	}
	reap(c, "the exec'd child");
	close(fd);
	close(20);
	close(30);
	CHECK(clients() == base + 1, "fd 10 keeps the file");
	close(10);
	CHECK(clients() == base, "the last close released the drm file");
	OK("closing fds one by one: the file goes with the last");
	return 0;
}
