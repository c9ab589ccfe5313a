/*
 * The device's memory limit at fault time: on a server whose object pages
 * are a tmpfs as large as the device's memory (./gemulator serve as root),
 * a store that needs a page past the limit gets SIGBUS, as shmem does when
 * it cannot get a page. The program creates an object of 4 MiB (lazy: the
 * create succeeds), and a child writes it page by page until SIGBUS; with
 * a 1 MiB device it gets about 256 pages in. Prints the pages written.
 */
#include "check.h"

#include <signal.h>

int main(void)
{
	int fd = open_card();
	struct bo bo = create_bo(fd, 1024, 1024, 32);
	volatile uint8_t *p = map_bo(fd, &bo);
	struct channel ch = channel();
	pid_t c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		writer(&ch);
		for (uint32_t page = 0; page < bo.size / 4096; page++) {
			p[page * 4096] = 1;
			send_u32(ch, page + 1);
		}
		return 0;
	}
	reader(&ch);
	uint32_t pages = 0, v;
	while (read(ch.r, &v, 4) == 4)
		pages = v;
	int status;
	CHECK(waitpid(c, &status, 0) == c, "waitpid");
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) {
		OK("SIGBUS after %u pages of a %llu-byte object", pages, (unsigned long long)bo.size);
	} else {
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer: status 0x%x", status);
		OK("no limit: all %u pages written", pages);
	}
	munmap((void *)p, bo.size);
	close(fd);
	return 0;
}
