/*
 * poll, ppoll, select and pselect over emulated files mixed with others.
 * The emulated ones are asked of the server (PollFds, with the timeout: the
 * server waits on its own clock, so a fence nobody signals wakes the poller
 * after vgem's 10 s); the others go to the real kernel at the same time,
 * together with this thread's connection, whose reply ends the wait. When
 * a real descriptor is ready first (or a signal comes), the waiting request
 * is cancelled and answers at once with what is ready then.
 */
#include "shim.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>

static int real_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts, *tp = NULL;
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000;
		tp = &ts;
	}
	return (int)raw(SYS_ppoll, fds, n, tp, NULL, (long)(_NSIG / 8));
}

static void poll_call(struct buf *call, const struct pollfd *fds, const int *which, const uint64_t *inos, int k,
		      int timeout)
{
	struct buf pf;
	buf_init(&pf);
	struct fileref *refs = malloc(sizeof(struct fileref) * (size_t)(k ? k : 1));
	for (int i = 0; i < k; i++) {
		struct buf one;
		buf_init(&one);
		pb_int(&one, 1, fds[which[i]].fd);
		pb_int(&one, 2, fds[which[i]].events);
		pb_message(&pf, 1, &one);
		buf_free(&one);
		refs[i].fd = fds[which[i]].fd;
		refs[i].ino = inos[i];
		refs[i].kind = REF_EMULATED;
	}
	pb_int(&pf, 2, timeout);
	call_begin(call);
	call_field(call, SC_POLL_FDS, &pf);
	call_files(call, refs, k);
	free(refs);
	buf_free(&pf);
}

/* Copies the server's revents into the emulated entries; returns how many are ready. */
static int apply(struct pollfd *fds, const int *which, int k, const struct reply *r)
{
	int ready = 0;
	for (int i = 0; i < k; i++) {
		short rev = 0;
		if ((size_t)(2 * i + 1) < r->ndata)
			rev = (short)(r->data[2 * i] | r->data[2 * i + 1] << 8);
		fds[which[i]].revents = rev;
		if (rev)
			ready++;
	}
	return ready;
}

static int emulated_poll(struct pollfd *fds, nfds_t n, int timeout, int *which, uint64_t *inos, int k)
{
	/* the others: a pollfd array of their own, plus the connection */
	struct pollfd *others = malloc(sizeof(struct pollfd) * (n + 1));
	int *back = malloc(sizeof(int) * (n + 1));
	int m = 0;
	for (nfds_t i = 0; i < n; i++) {
		bool emu = false;
		for (int j = 0; j < k; j++)
			emu |= which[j] == (int)i;
		if (!emu) {
			others[m] = fds[i];
			others[m].revents = 0;
			back[m++] = (int)i;
		}
	}
	int result = -1;
	struct buf call;
	struct reply r;
	memset(&r, 0, sizeof r);
	int ready_others = m ? real_poll(others, (nfds_t)m, 0) : 0;
	if (ready_others < 0)
		goto out;
	/* anything of the real kernel's ready now, or no waiting: one look at the emulated ones */
	int wait = ready_others > 0 ? 0 : timeout;
	poll_call(&call, fds, which, inos, k, wait);
	int64_t id;
	if (shim_send(&call, &id) < 0) {
		buf_free(&call);
		errno = EIO;
		goto out;
	}
	buf_free(&call);
	if (wait != 0 && m > 0 && shim_seeded) {
		/*
		 * A seeded run: the wait is the run's (its virtual clock, the
		 * emulated files); the real descriptors are looked at before and
		 * after it, and whether one became ready meanwhile is real time's.
		 */
		static bool said;
		if (!said) {
			said = true;
			shim_warn("poll of %s waits on emulated and real descriptors at once: the run's virtual clock "
				  "covers the emulated ones only; whether a real one is ready after the wait may differ "
				  "from run to run", shim_name);
		}
		if (shim_receive(id, &r) < 0) {
			errno = EIO;
			goto out;
		}
		ready_others = real_poll(others, (nfds_t)m, 0);
	} else if (wait != 0) {
		others[m].fd = shim_thread_fd();
		others[m].events = POLLIN;
		others[m].revents = 0;
		int got = real_poll(others, (nfds_t)m + 1, -1);
		int saved = errno;
		if (got < 0 || others[m].revents == 0) {
			/* a real descriptor or a signal came first: the server answers now */
			shim_cancel(id);
		}
		if (shim_receive(id, &r) < 0) {
			errno = EIO;
			goto out;
		}
		if (got < 0) {
			errno = saved;
			goto out;
		}
		ready_others = real_poll(others, (nfds_t)m, 0);
	} else if (shim_receive(id, &r) < 0) {
		errno = EIO;
		goto out;
	}
	if (r.err) {
		errno = r.err;
		goto out;
	}
	result = apply(fds, which, k, &r);
	for (int i = 0; i < m; i++) {
		fds[back[i]].revents = others[i].revents;
		if (others[i].revents)
			result++;
	}
out:
	reply_free(&r);
	free(others);
	free(back);
	return result;
}

/* Which entries of fds are emulated files (their indexes and anchors), how many. */
static int classify(struct pollfd *fds, nfds_t n, int **which, uint64_t **inos)
{
	int k = 0;
	*which = NULL;
	*inos = NULL;
	for (nfds_t i = 0; i < n; i++) {
		uint64_t ino;
		if (fds[i].fd >= 0 && shim_emulated(fds[i].fd, &ino, true)) {
			if (!*which) {
				*which = malloc(sizeof(int) * n);
				*inos = malloc(sizeof(uint64_t) * n);
			}
			(*which)[k] = (int)i;
			(*inos)[k++] = ino;
		}
	}
	return k;
}

/* A seeded run: a wait on no descriptor at all is a sleep of the run's virtual clock. */
static bool virtual_pause(const struct pollfd *fds, nfds_t n, int timeout, int *result)
{
	if (!shim_active || !shim_seeded || timeout <= 0)
		return false;
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0)
			return false;
	int err = shim_virtual_sleep((int64_t)timeout * 1000000);
	if (err) {
		errno = err;
		*result = -1;
	} else {
		*result = 0;
	}
	return true;
}

static int do_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int *which;
	uint64_t *inos;
	int k = shim_active ? classify(fds, n, &which, &inos) : 0;
	int paused;
	if (k == 0 && virtual_pause(fds, n, timeout, &paused))
		return paused;
	if (k == 0 && shim_active && shim_seeded && timeout != 0) {
		static bool said;
		if (!said) {
			said = true;
			shim_warn("poll of %s on real descriptors only waits in real time, outside the run's virtual clock: "
				  "what it finds may differ from run to run", shim_name);
		}
	}
	if (k == 0)
		return real_poll(fds, n, timeout);
	int r = emulated_poll(fds, n, timeout, which, inos, k);
	free(which);
	free(inos);
	return r;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return do_poll(fds, n, timeout);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	(void)fdslen;
	return do_poll(fds, n, timeout);
}

static int ms_of(const struct timespec *ts)
{
	if (!ts)
		return -1;
	long long ms = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	sigset_t old;
	if (mask)
		pthread_sigmask(SIG_SETMASK, mask, &old);
	int r = do_poll(fds, n, ms_of(ts));
	int e = errno;
	if (mask)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask, size_t fdslen)
{
	(void)fdslen;
	return ppoll(fds, n, ts, mask);
}

/* select as poll: read -> POLLIN, write -> POLLOUT, except -> POLLPRI. */
static int select_as_poll(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int timeout)
{
	struct pollfd *p = malloc(sizeof(struct pollfd) * (size_t)(nfds > 0 ? nfds : 1));
	int n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;
		if (rd && FD_ISSET(fd, rd))
			ev |= POLLIN;
		if (wr && FD_ISSET(fd, wr))
			ev |= POLLOUT;
		if (ex && FD_ISSET(fd, ex))
			ev |= POLLPRI;
		if (ev) {
			p[n].fd = fd;
			p[n].events = ev;
			p[n++].revents = 0;
		}
	}
	int r = do_poll(p, (nfds_t)n, timeout);
	if (r < 0) {
		free(p);
		return r;
	}
	for (int i = 0; i < n; i++) {
		if (p[i].revents & POLLNVAL) {
			free(p);
			errno = EBADF;
			return -1;
		}
	}
	if (rd)
		FD_ZERO(rd);
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	int count = 0;
	for (int i = 0; i < n; i++) {
		short rv = p[i].revents;
		if (rd && (rv & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(p[i].fd, rd);
			count++;
		}
		if (wr && (rv & (POLLOUT | POLLERR))) {
			FD_SET(p[i].fd, wr);
			count++;
		}
		if (ex && (rv & POLLPRI)) {
			FD_SET(p[i].fd, ex);
			count++;
		}
	}
	free(p);
	return count;
}

static bool any_emulated(int nfds, fd_set *rd, fd_set *wr, fd_set *ex)
{
	if (!shim_active)
		return false;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
		uint64_t ino;
		if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex)))
		    && shim_emulated(fd, &ino, true))
			return true;
	}
	return false;
}

/* Whether no descriptor is in any of the sets. */
static bool no_fds(int nfds, fd_set *rd, fd_set *wr, fd_set *ex)
{
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if ((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex)))
			return false;
	return true;
}

EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	if (shim_active && shim_seeded && tv && no_fds(nfds, rd, wr, ex)) {
		int err = shim_virtual_sleep((int64_t)tv->tv_sec * 1000000000LL + (int64_t)tv->tv_usec * 1000);
		tv->tv_sec = 0;
		tv->tv_usec = 0;
		if (err) {
			errno = err;
			return -1;
		}
		return 0;
	}
	if (!any_emulated(nfds, rd, wr, ex))
		return (int)raw(SYS_select, nfds, rd, wr, ex, tv);
	int ms = -1;
	if (tv) {
		long long x = (long long)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
		ms = x > 0x7fffffff ? 0x7fffffff : (int)x;
	}
	return select_as_poll(nfds, rd, wr, ex, ms);
}

EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts, const sigset_t *mask)
{
	if (shim_active && shim_seeded && ts && no_fds(nfds, rd, wr, ex)) {
		int err = shim_virtual_sleep((int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec);
		if (err) {
			errno = err;
			return -1;
		}
		return 0;
	}
	if (!any_emulated(nfds, rd, wr, ex)) {
		struct {
			const sigset_t *ss;
			size_t len;
		} data = { mask, _NSIG / 8 };
		return (int)raw(SYS_pselect6, nfds, rd, wr, ex, ts, mask ? &data : NULL);
	}
	sigset_t old;
	if (mask)
		pthread_sigmask(SIG_SETMASK, mask, &old);
	int r = select_as_poll(nfds, rd, wr, ex, ms_of(ts));
	int e = errno;
	if (mask)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}
