/*
 * What gemulator's shim benchmarks time on the C side (./gemulator bench
 * shim runs it twice: through the shim against a server, and its echo mode
 * on its own). Every mode prints "NAME VALUE UNIT" lines; the Java side
 * prints them with the ratios.
 *
 *   copy SECONDS    memcpy into and out of a 2024x2024 bpp-4 object's dumb
 *                   mapping (vgem_mmap's object) and of a malloc'd buffer of
 *                   the same size, each for SECONDS: MB/s of all four; and
 *                   vgem_mmap's write copy (from a malloc'd buffer never
 *                   written, whose pages are the zero page) onto malloc'd
 *                   memory, its baseline
 *   ioctl N         N DRM_IOCTL_GET_CAP round trips: p50 and p99 in ns
 *   mapcycle N      N MAP_DUMB + mmap + munmap of one object: per second
 *   createclose N   N CREATE_DUMB 64x64x32 + GEM_CLOSE: per second
 *   echo N          N round trips of a request-sized message over a Unix
 *                   socketpair to a forked echo process: p50 and p99 in ns
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int card(void)
{
	int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/dri/card0");
	return fd;
}

static struct drm_mode_create_dumb create(int fd, uint32_t w, uint32_t h, uint32_t bpp)
{
	struct drm_mode_create_dumb c = { .width = w, .height = h, .bpp = bpp };
	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c))
		die("create_dumb");
	return c;
}

static uint64_t map_offset(int fd, uint32_t handle)
{
	struct drm_mode_map_dumb m = { .handle = handle };
	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m))
		die("map_dumb");
	return m.offset;
}

/* MB/s of copying size bytes from src to dst, repeated for about `seconds`. */
static double rate(void *dst, const void *src, size_t size, double seconds)
{
	memcpy(dst, src, size);
	double t0 = now(), t;
	long loops = 0;
	do {
		memcpy(dst, src, size);
		__asm__ __volatile__("" : : "r"(dst) : "memory");
		loops++;
		t = now();
	} while (t - t0 < seconds);
	return (double)size * loops / (t - t0) / (1024 * 1024);
}

static void copy(double seconds)
{
	int fd = card();
	struct drm_mode_create_dumb c = create(fd, 2024, 2024, 4);
	void *map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map_offset(fd, c.handle));
	if (map == MAP_FAILED)
		die("mmap");
	void *buf = malloc(c.size), *other = malloc(c.size);
	memset(buf, 1, c.size);
	memset(other, 2, c.size);
	memset(map, 3, c.size);
	printf("copy_bytes %llu bytes\n", (unsigned long long)c.size);
	printf("map_read %.1f MB/s\n", rate(buf, map, c.size, seconds));
	printf("malloc_read %.1f MB/s\n", rate(buf, other, c.size, seconds));
	printf("map_write %.1f MB/s\n", rate(map, buf, c.size, seconds));
	printf("malloc_write %.1f MB/s\n", rate(other, buf, c.size, seconds));
	void *untouched = malloc(c.size + 4096);
	printf("malloc_write_untouched %.1f MB/s\n", rate(other, untouched, c.size, seconds));
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void percentiles(const char *name, double *ns, long n)
{
	qsort(ns, (size_t)n, sizeof *ns, cmp);
	printf("%s_p50 %.0f ns\n", name, ns[n / 2]);
	printf("%s_p99 %.0f ns\n", name, ns[n * 99 / 100]);
}

static void ioctls(long n)
{
	int fd = card();
	double *ns = malloc(sizeof(double) * (size_t)n);
	for (long i = -n / 10; i < n; i++) {
		struct drm_get_cap cap = { .capability = DRM_CAP_PRIME };
		double t0 = now();
		if (ioctl(fd, DRM_IOCTL_GET_CAP, &cap))
			die("get_cap");
		if (i >= 0)
			ns[i] = (now() - t0) * 1e9;
	}
	percentiles("ioctl", ns, n);
}

static void mapcycle(long n)
{
	int fd = card();
	struct drm_mode_create_dumb c = create(fd, 64, 64, 32);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map_offset(fd, c.handle));
		if (p == MAP_FAILED)
			die("mmap");
		munmap(p, c.size);
	}
	printf("mapcycle %.0f per second\n", n / (now() - t0));
}

static void createclose(long n)
{
	int fd = card();
	double t0 = now();
	for (long i = 0; i < n; i++) {
		struct drm_mode_create_dumb c = create(fd, 64, 64, 32);
		struct drm_gem_close cl = { .handle = c.handle };
		if (ioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl))
			die("gem_close");
	}
	printf("createclose %.0f per second\n", n / (now() - t0));
}

/* A request of the size the shim sends for GET_CAP (about 60 bytes) and its reply's. */
static void echo(long n)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	pid_t c = fork();
	if (c == 0) {
		char b[256];
		ssize_t k;
		close(sv[0]);
		while ((k = read(sv[1], b, 64)) > 0)
			if (write(sv[1], b, (size_t)k) != k)
				break;
		_exit(0);
	}
	close(sv[1]);
	char msg[64] = { 0 }, back[64];
	double *ns = malloc(sizeof(double) * (size_t)n);
	for (long i = -n / 10; i < n; i++) {
		double t0 = now();
		if (write(sv[0], msg, sizeof msg) != sizeof msg)
			die("write");
		size_t got = 0;
		while (got < sizeof back) {
			ssize_t k = read(sv[0], back + got, sizeof back - got);
			if (k <= 0)
				die("read");
			got += (size_t)k;
		}
		if (i >= 0)
			ns[i] = (now() - t0) * 1e9;
	}
	close(sv[0]);
	waitpid(c, NULL, 0);
	percentiles("echo", ns, n);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: shim_bench copy|ioctl|mapcycle|createclose|echo N\n");
		return 2;
	}
	double v = atof(argv[2]);
	if (strcmp(argv[1], "copy") == 0)
		copy(v);
	else if (strcmp(argv[1], "ioctl") == 0)
		ioctls((long)v);
	else if (strcmp(argv[1], "mapcycle") == 0)
		mapcycle((long)v);
	else if (strcmp(argv[1], "createclose") == 0)
		createclose((long)v);
	else if (strcmp(argv[1], "echo") == 0)
		echo((long)v);
	else
		return 2;
	fflush(stdout);
	return 0;
}
