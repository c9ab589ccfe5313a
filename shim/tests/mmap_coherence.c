/*
 * mmap coherence across three processes through both kinds of mapping: the
 * owner maps its object through MAP_DUMB's fake offset, a second process
 * maps the dma-buf it inherited, a third imports that dma-buf into a drm
 * file of its own and maps it through its own fake offset. Each store is a
 * load in the others at once (real shared memory), and in the model.
 */
#include "check.h"

int main(void)
{
	int fd = open_card();
	struct bo bo = create_bo(fd, 1024, 64, 32);
	uint32_t *a = map_bo(fd, &bo);
	int buf;
	CHECK(drmPrimeHandleToFD(fd, bo.handle, DRM_RDWR, &buf) == 0, "export");
	struct channel to_b = channel(), to_c = channel(), back = channel();
	pid_t b = fork();
	CHECK(b >= 0, "fork B");
	if (b == 0) {
		reader(&to_b);
		writer(&to_c);
		close(back.r);
		close(back.w);
		uint32_t *p = mmap(NULL, bo.size, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
		CHECK(p != MAP_FAILED, "B maps the dma-buf");
		recv_u32(to_b);
		CHECK(p[0] == 1, "B loads A's store: %u", p[0]);
		p[4096] = 2;
		OK("B (dma-buf mapping) sees A's store and stores its own");
		send_u32(to_c, 1);
		recv_u32(to_b);
		CHECK(p[65535] == 3, "B loads C's store: %u", p[65535]);
		OK("B sees C's store");
		return 0;
	}
	pid_t c = fork();
	CHECK(c >= 0, "fork C");
	if (c == 0) {
		close(to_b.r);
		close(to_b.w);
		reader(&to_c);
		writer(&back);
		int mine = open_card();
		uint32_t h;
		CHECK(drmPrimeFDToHandle(mine, buf, &h) == 0, "C imports");
		close(buf);
		struct bo cb = { h, 0, bo.size };
		uint32_t *p = map_bo(mine, &cb);
		recv_u32(to_c);
		CHECK(p[0] == 1 && p[4096] == 2, "C loads A's and B's stores: %u %u", p[0], p[4096]);
		p[65535] = 3;
		OK("C (its own drm file, dumb mapping) sees A's and B's stores and stores its own");
		send_u32(back, 1);
		return 0;
	}
	close(buf);
	writer(&to_b);
	close(to_c.r);
	close(to_c.w);
	reader(&back);
	a[0] = 1;
	send_u32(to_b, 1);
	recv_u32(back);
	CHECK(a[4096] == 2 && a[65535] == 3, "A loads B's and C's stores: %u %u", a[4096], a[65535]);
	OK("A (dumb mapping) sees B's and C's stores");
	send_u32(to_b, 1);
	reap(b, "B");
	reap(c, "C");
	munmap(a, bo.size);
	close(fd);
	return 0;
}
