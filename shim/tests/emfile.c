/*
 * EMFILE: with RLIMIT_NOFILE at 16, opens of card0 take the free fds below
 * 16 (3 to 15 in a process with only 0, 1 and 2 open), lowest first as on
 * Linux, and the next answers EMFILE; so does
 * PRIME_HANDLE_TO_FD with the table full; closing one fd lets the export
 * take exactly that number. Then the limit goes back up for the other fds.
 */
#include "check.h"

#include <sys/resource.h>

int main(void)
{
	struct rlimit rl = { 16, 16 };
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit 16");
	/* the fds below the limit this process did not inherit: the opens must take exactly these */
	int free_fds[16], nfree = 0;
	for (int fd = 0; fd < 16; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
			free_fds[nfree++] = fd;
	int fds[16], n = 0;
	for (;;) {
		int fd = open("/dev/dri/card0", O_RDWR);
		if (fd < 0) {
			CHECK(errno == EMFILE, "the open past the limit fails with EMFILE");
			break;
		}
		CHECK(n < nfree && fd == free_fds[n], "lowest free fd: %d, not %d", fd, n < nfree ? free_fds[n] : -1);
		fds[n++] = fd;
	}
	CHECK(n == nfree && n >= 6, "every free fd below the limit was taken: %d of %d", n, nfree);
	OK("with RLIMIT_NOFILE 16, card0 opens take the %d free fds lowest first, then EMFILE", n);
	struct bo bo = create_bo(fds[0], 16, 16, 32);
	int buf = -1;
	CHECK_ERRNO(drmPrimeHandleToFD(fds[0], bo.handle, DRM_CLOEXEC, &buf), EMFILE, "handle_to_fd with no free fd");
	CHECK_ERRNO(dup(fds[0]), EMFILE, "dup with no free fd");
	OK("handle_to_fd and dup answer EMFILE with the table full");
	close(fds[5]);
	CHECK(drmPrimeHandleToFD(fds[0], bo.handle, DRM_CLOEXEC, &buf) == 0 && buf == fds[5], "the export takes fd %d: %d",
	      fds[5], buf);
	OK("after closing fd %d the export takes it", fds[5]);
	for (int i = 0; i < n; i++)
		if (i != 5)
			close(fds[i]);
	close(buf);
	return 0;
}
