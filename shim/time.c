/*
 * Time in a seeded run (gemulator race, serve --seed): the clocks a program
 * reads and the sleeps it takes follow the run's virtual clock, which jumps
 * when every thread of the run waits, so a program that loops "for five
 * seconds" makes the same calls in every run and a sleep costs no real time.
 *
 * clock_gettime (every clock id), gettimeofday and time are ClockGettime;
 * nanosleep, clock_nanosleep, usleep and sleep are Sleep, a kernel sleep of
 * the calling thread. Against a free-running server nothing changes: the
 * real functions answer.
 */
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REAL(ret, name, args)                                                                                  \
	static ret(*real_##name) args;                                                                         \
	if (!real_##name)                                                                                      \
		real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name);

static bool virtual_time(void)
{
	return shim_active && shim_seeded;
}

/* ClockGettime: 0 with *ts set, else an errno. */
static int virtual_now(clockid_t clock, struct timespec *ts)
{
	struct buf m;
	buf_init(&m);
	pb_int(&m, 1, clock);
	struct reply r;
	if (shim_call_simple(SC_CLOCK_GETTIME, &m, &r) < 0)
		return errno ? errno : EIO;
	int err = r.err;
	if (!err && r.nvalues >= 3) {
		ts->tv_sec = (time_t)r.values[1];
		ts->tv_nsec = (long)r.values[2];
	} else if (!err) {
		err = EIO;
	}
	reply_free(&r);
	return err;
}

/* Sleep for ns nanoseconds of virtual time: 0, or an errno (EINTR). */
int shim_virtual_sleep(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	struct buf m;
	buf_init(&m);
	pb_int(&m, 1, ns / 1000000);
	pb_int(&m, 2, ns % 1000000);
	struct reply r;
	if (shim_call_simple(SC_SLEEP, &m, &r) < 0)
		return errno ? errno : EIO;
	int err = r.err;
	reply_free(&r);
	return err;
}

EXPORT int clock_gettime(clockid_t clock, struct timespec *ts)
{
	REAL(int, clock_gettime, (clockid_t, struct timespec *));
	if (!virtual_time())
		return real_clock_gettime(clock, ts);
	int err = virtual_now(clock, ts);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

EXPORT int gettimeofday(struct timeval *tv, void *tz)
{
	REAL(int, gettimeofday, (struct timeval *, void *));
	if (!virtual_time())
		return real_gettimeofday(tv, tz);
	if (tz)
		memset(tz, 0, 2 * sizeof(int));
	struct timeval *volatile out = tv; /* glibc declares tv nonnull; a program may still pass NULL */
	if (!out)
		return 0;
	struct timespec ts;
	int err = virtual_now(CLOCK_REALTIME, &ts);
	if (err) {
		errno = err;
		return -1;
	}
	out->tv_sec = ts.tv_sec;
	out->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

EXPORT time_t time(time_t *t)
{
	REAL(time_t, time, (time_t *));
	if (!virtual_time())
		return real_time(t);
	struct timespec ts;
	int err = virtual_now(CLOCK_REALTIME, &ts);
	if (err) {
		errno = err;
		return (time_t)-1;
	}
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	REAL(int, nanosleep, (const struct timespec *, struct timespec *));
	if (!virtual_time())
		return real_nanosleep(req, rem);
	if (!req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L || req->tv_sec < 0) {
		errno = req ? EINVAL : EFAULT;
		return -1;
	}
	int err = shim_virtual_sleep((int64_t)req->tv_sec * 1000000000LL + req->tv_nsec);
	if (rem)
		memset(rem, 0, sizeof *rem);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
	REAL(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *));
	if (!virtual_time())
		return real_clock_nanosleep(clock, flags, req, rem);
	if (!req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L)
		return req ? EINVAL : EFAULT;
	int64_t ns = (int64_t)req->tv_sec * 1000000000LL + req->tv_nsec;
	if (flags & TIMER_ABSTIME) {
		struct timespec now;
		int err = virtual_now(clock, &now);
		if (err)
			return err;
		ns -= (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	}
	if (rem && !(flags & TIMER_ABSTIME))
		memset(rem, 0, sizeof *rem);
	return shim_virtual_sleep(ns);
}

EXPORT int usleep(useconds_t us)
{
	REAL(int, usleep, (useconds_t));
	if (!virtual_time())
		return real_usleep(us);
	int err = shim_virtual_sleep((int64_t)us * 1000);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

EXPORT unsigned int sleep(unsigned int seconds)
{
	REAL(unsigned int, sleep, (unsigned int));
	if (!virtual_time())
		return real_sleep(seconds);
	return shim_virtual_sleep((int64_t)seconds * 1000000000LL) ? seconds : 0;
}
