/*
 * Virtual time through the shim (run it with `gemulator race -- race_time`):
 * a loop "for five seconds" by clock_gettime that sleeps with usleep and
 * makes a buffer per turn, then the other clocks and sleeps. Under a seeded
 * server every clock is the run's virtual clock, so the loop takes the
 * same number of turns in every run and the sleeps cost no real time.
 * Prints what it saw; exits 1 when a clock went backwards or a sleep was
 * shorter than asked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

static int64_t ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define EXPECT(cond, what)                                                                                     \
	do {                                                                                                   \
		if (!(cond)) {                                                                                 \
			printf("FAIL %s\n", what);                                                             \
			return 1;                                                                              \
		}                                                                                              \
	} while (0)

int main(void)
{
	int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	EXPECT(fd >= 0, "open card0");
	int64_t t0 = ns(CLOCK_MONOTONIC);
	int turns = 0;
	while (ns(CLOCK_MONOTONIC) - t0 < 5000000000LL) {
		struct drm_mode_create_dumb c = { .width = 4, .height = 4, .bpp = 32 };
		ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c);
		struct drm_gem_close g = { .handle = c.handle };
		ioctl(fd, DRM_IOCTL_GEM_CLOSE, &g);
		usleep(100000);
		turns++;
	}
	int64_t t1 = ns(CLOCK_MONOTONIC);
	EXPECT(t1 - t0 >= 5000000000LL, "five seconds passed");
	struct timespec req = { 2, 500000000 };
	nanosleep(&req, NULL);
	int64_t t2 = ns(CLOCK_MONOTONIC);
	EXPECT(t2 - t1 >= 2500000000LL, "nanosleep 2.5 s");
	sleep(10);
	int64_t t3 = ns(CLOCK_BOOTTIME);
	EXPECT(t3 - t2 >= 10000000000LL, "sleep 10 s");
	struct timespec until = { 0, 0 };
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += 1;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	int64_t t4 = ns(CLOCK_MONOTONIC);
	EXPECT(t4 - t3 >= 1000000000LL, "clock_nanosleep to an absolute time 1 s on");
	poll(NULL, 0, 300);
	int64_t t5 = ns(CLOCK_MONOTONIC);
	EXPECT(t5 - t4 >= 300000000LL, "poll with no fds for 300 ms");
	struct timeval pause = { 0, 200000 };
	select(0, NULL, NULL, NULL, &pause);
	int64_t t6 = ns(CLOCK_MONOTONIC);
	EXPECT(t6 - t5 >= 200000000LL, "select with no fds for 200 ms");
	struct timeval tv;
	gettimeofday(&tv, NULL);
	time_t now = time(NULL);
	EXPECT(now >= tv.tv_sec && now - tv.tv_sec <= 1, "time and gettimeofday agree");
	close(fd);
	printf("race_time: %d turns in five seconds; then %.3f s of sleeps; realtime %ld\n", turns,
	       (double)(t6 - t1) / 1e9, (long)now);
	return 0;
}
