/*
 * A kernel bug found in a C program: on a server running the seed profile
 * (319c933c as merged), PRIME_HANDLE_TO_FD's fresh export with no free fd
 * drops an object reference that the new dma-buf owns (S-6): closing the
 * last handle frees the object under the dma-buf, whose release then drops
 * a reference on freed memory. The program only sees EMFILE; the server's
 * checkers report the rest, as for any client. On the 6.x profile the same
 * program runs clean.
 */
#include "check.h"

#include <sys/resource.h>

int main(void)
{
	int fd = open_card();
	struct bo bo = create_bo(fd, 4, 4, 32);
	/* no free fd below the limit: the lowest free fd is taken as the limit */
	int top = 0;
	while (fcntl(top, F_GETFD) != -1)
		top++;
	struct rlimit rl = { (rlim_t)top, (rlim_t)top };
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit %d", top);
	int buf = -1;
	CHECK_ERRNO(drmPrimeHandleToFD(fd, bo.handle, DRM_CLOEXEC, &buf), EMFILE, "handle_to_fd with no free fd");
	OK("handle_to_fd answers EMFILE with no free fd");
	gem_close(fd, bo.handle);
	OK("the last handle closed");
	close(fd);
	return 0;
}
