/*
 * Fences under poll, mixed with a pipe, with timeouts, on the server's
 * clock: a timeout passes, a pipe wakes the poller first, another process
 * signalling the fence wakes it, select sees the dma-buf, a sync_file
 * becomes readable when signalled, and a fence nobody signals expires after
 * vgem's 10 s, waking the poller; signalling it then answers ETIMEDOUT.
 */
#include "check.h"

#include <poll.h>
#include <sys/select.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint32_t attach(int fd, uint32_t handle, uint32_t flags)
{
	struct drm_vgem_fence_attach a = { .handle = handle, .flags = flags };
	CHECK(ioctl(fd, DRM_IOCTL_VGEM_FENCE_ATTACH, &a) == 0, "fence_attach");
	return a.out_fence;
}

static int signal_fence(int fd, uint32_t fence)
{
	struct drm_vgem_fence_signal s = { .fence = fence };
	return ioctl(fd, DRM_IOCTL_VGEM_FENCE_SIGNAL, &s);
}

int main(void)
{
	int fd = open_card();
	struct bo bo = create_bo(fd, 16, 16, 32);
	int buf;
	CHECK(drmPrimeHandleToFD(fd, bo.handle, DRM_CLOEXEC, &buf) == 0, "export");
	uint32_t fence = attach(fd, bo.handle, VGEM_FENCE_WRITE);
	struct pollfd p = { .fd = buf, .events = POLLOUT };
	CHECK(poll(&p, 1, 0) == 0, "busy while the write fence is pending");

	double t0 = now();
	CHECK(poll(&p, 1, 200) == 0, "nothing ready within 200 ms");
	double waited = now() - t0;
	CHECK(waited >= 0.19 && waited < 5, "poll waited its 200 ms: %.3f s", waited);
	OK("poll with a 200 ms timeout waits 200 ms (%.3f s) and answers 0", waited);

	struct channel pipe_ch = channel();
	pid_t w = fork();
	CHECK(w >= 0, "fork");
	if (w == 0) {
		writer(&pipe_ch);
		usleep(300000);
		send_u32(pipe_ch, 7);
		return 0;
	}
	struct pollfd mixed[2] = { { .fd = buf, .events = POLLOUT }, { .fd = pipe_ch.r, .events = POLLIN } };
	t0 = now();
	CHECK(poll(mixed, 2, 5000) == 1, "one fd ready");
	waited = now() - t0;
	CHECK(mixed[1].revents == POLLIN && mixed[0].revents == 0 && waited < 4, "the pipe woke it: %x %x %.3f",
	      mixed[0].revents, mixed[1].revents, waited);
	recv_u32(pipe_ch);
	reap(w, "the writer");
	OK("poll on a dma-buf and a pipe: the pipe wakes it after %.3f s", waited);

	pid_t s = fork();
	CHECK(s >= 0, "fork");
	if (s == 0) {
		usleep(300000);
		CHECK(signal_fence(fd, fence) == 0, "the child signals the fence through the inherited file");
		return 0;
	}
	t0 = now();
	CHECK(poll(mixed, 2, -1) == 1 && mixed[0].revents == POLLOUT, "the fence's signal wakes the poller");
	waited = now() - t0;
	CHECK(waited < 5, "woken by the signal, not the timeout: %.3f s", waited);
	reap(s, "the signaller");
	OK("another process signalling the fence wakes the poller after %.3f s", waited);

	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(buf, &rd);
	struct timeval tv = { 0, 0 };
	CHECK(select(buf + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(buf, &rd), "select: the dma-buf is readable");
	OK("select sees the dma-buf readable");

	fence = attach(fd, bo.handle, VGEM_FENCE_WRITE);
	struct dma_buf_export_sync_file es = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	CHECK(ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &es) == 0, "export_sync_file");
	struct pollfd sp = { .fd = es.fd, .events = POLLIN };
	CHECK(poll(&sp, 1, 0) == 0, "the sync_file is not signalled yet");
	CHECK(signal_fence(fd, fence) == 0, "signal");
	CHECK(poll(&sp, 1, 0) == 1 && sp.revents == POLLIN, "the sync_file is signalled");
	close(es.fd);
	OK("a sync_file becomes readable when its fence is signalled");

	fence = attach(fd, bo.handle, VGEM_FENCE_WRITE);
	struct pollfd quiet[2] = { { .fd = buf, .events = POLLOUT }, { .fd = pipe_ch.r, .events = POLLIN } };
	t0 = now();
	CHECK(poll(quiet, 2, 60000) == 1 && quiet[0].revents == POLLOUT, "the expired fence wakes the poller");
	waited = now() - t0;
	CHECK(waited > 9 && waited < 20, "about vgem's 10 s: %.3f s", waited);
	CHECK_ERRNO(signal_fence(fd, fence), ETIMEDOUT, "signalling an expired fence");
	OK("a fence nobody signals expires after %.1f s (vgem's 10 s) and wakes the poller; signalling it: ETIMEDOUT",
	   waited);
	close(buf);
	close(fd);
	return 0;
}
