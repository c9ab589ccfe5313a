/*
 * A lazy 2 GiB object: created and mapped at once, it costs only the pages
 * touched (mincore counts them); a forked child's copy of the mapping sees
 * the same pages.
 */
#include "check.h"

#define GIB2 (2ull << 30)

static size_t resident(void *p, size_t len)
{
	size_t pages = len / 4096, n = 0;
	unsigned char *v = malloc(pages);
	CHECK(v && mincore(p, len, v) == 0, "mincore");
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	free(v);
	return n;
}

int main(void)
{
	int fd = open_card();
	struct bo bo = create_bo(fd, 1 << 15, 1 << 15, 16);
	CHECK(bo.size == GIB2, "the object is 2 GiB: %llu", (unsigned long long)bo.size);
	uint8_t *p = map_bo(fd, &bo);
	CHECK(resident(p, bo.size) == 0, "nothing is resident before a touch");
	p[0] = 0x11;
	p[GIB2 / 2] = 0x22;
	p[GIB2 - 1] = 0x33;
	size_t r = resident(p, bo.size);
	CHECK(r >= 3 && r <= 8, "about three pages are resident: %zu", r);
	OK("2 GiB mapped, 3 pages touched, %zu pages resident", r);
	pid_t c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		CHECK(p[0] == 0x11 && p[GIB2 / 2] == 0x22 && p[GIB2 - 1] == 0x33, "the child's copy of the mapping");
		p[4096] = 0x44;
		OK("the forked child's copy of the mapping sees the same pages");
		return 0;
	}
	reap(c, "the child");
	CHECK(p[4096] == 0x44, "the child's store");
	OK("and the child's store is the parent's load");
	munmap(p, bo.size);
	close(fd);
	return 0;
}
