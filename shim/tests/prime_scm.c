/*
 * A dma-buf passed by SCM_RIGHTS between processes that share no file: the
 * importer was forked before the exporter opened anything, has its own drm
 * file, gets the dma-buf over a Unix socket, imports it, and both see the
 * same memory through every kind of mapping. The last close anywhere
 * releases the dma-buf (bufinfo is empty afterwards).
 */
#include "check.h"

#include <sys/socket.h>

static void send_fd(int sock, int fd)
{
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof fd);
	CHECK(sendmsg(sock, &m, 0) == 1, "sendmsg with SCM_RIGHTS");
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space };
	CHECK(recvmsg(sock, &m, MSG_CMSG_CLOEXEC) == 1, "recvmsg");
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	CHECK(h && h->cmsg_type == SCM_RIGHTS, "a descriptor came");
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof fd);
	return fd;
}

/* The number of dma-bufs debugfs's bufinfo counts ("Total N objects"). */
static int dmabufs(void)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	CHECK(f, "open bufinfo");
	char line[256];
	int n = -1;
	while (fgets(line, sizeof line, f))
		sscanf(line, "Total %d objects", &n);
	fclose(f);
	return n;
}

int main(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	struct channel done = channel(), wrote = channel();
	pid_t c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		close(sv[0]);
		reader(&done);
		writer(&wrote);
		int fd = open_card();
		int buf = recv_fd(sv[1]);
		OK("the importer received the dma-buf as fd %d", buf);
		char link[64] = "";
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", buf);
		CHECK(readlink(path, link, sizeof link - 1) > 0 && strncmp(link, "/dmabuf:", 8) == 0,
		      "/proc/self/fd/%d is a dma-buf: %s", buf, link);
		CHECK(lseek(buf, 0, SEEK_END) == 262144, "lseek SEEK_END gives the size");
		uint32_t h1, h2;
		CHECK(drmPrimeFDToHandle(fd, buf, &h1) == 0, "fd_to_handle");
		CHECK(drmPrimeFDToHandle(fd, buf, &h2) == 0 && h2 == h1, "re-import gives the same handle");
		struct bo bo = { h1, 0, 262144 };
		uint32_t *dumb = map_bo(fd, &bo);
		uint32_t *direct = mmap(NULL, bo.size, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
		CHECK(direct != MAP_FAILED, "mmap of the dma-buf");
		CHECK(dumb[7] == 0x1234 && direct[7] == 0x1234, "the exporter's word through both mappings");
		OK("imported as handle %u; the exporter's data shows through the dumb and the dma-buf mappings", h1);
		direct[8] = 0x5678;
		CHECK(dumb[8] == 0x5678, "a store through one mapping is a load through the other");
		send_u32(wrote, 1);
		recv_u32(done);
		munmap(dumb, bo.size);
		munmap(direct, bo.size);
		close(buf);
		gem_close(fd, h1);
		close(fd);
		return 0;
	}
	close(sv[1]);
	writer(&done);
	reader(&wrote);
	int fd = open_card();
	struct bo bo = create_bo(fd, 256, 256, 32);
	uint32_t *p = map_bo(fd, &bo);
	p[7] = 0x1234;
	int buf;
	CHECK(drmPrimeHandleToFD(fd, bo.handle, DRM_CLOEXEC | DRM_RDWR, &buf) == 0, "handle_to_fd");
	CHECK(fcntl(buf, F_GETFD) == FD_CLOEXEC, "DRM_CLOEXEC gives a close-on-exec fd");
	send_fd(sv[0], buf);
	close(buf);
	gem_close(fd, bo.handle);
	OK("the exporter passed its dma-buf and closed its fd and handle");
	recv_u32(wrote);
	CHECK(p[8] == 0x5678, "the exporter sees the importer's store");
	OK("the exporter's mapping sees the importer's store");
	CHECK(dmabufs() == 1, "the importer's fd keeps the dma-buf");
	send_u32(done, 1);
	reap(c, "the importer");
	munmap(p, bo.size);
	close(fd);
	CHECK(dmabufs() == 0, "no dma-buf is left once every fd and mapping is gone");
	OK("the last close anywhere released the dma-buf");
	return 0;
}
