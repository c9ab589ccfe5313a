/*
 * fork with an inherited drm fd: the child is another process. The parent
 * opened card0 first and is its master; the child, with the same drm file
 * but another pid and without root, gets EACCES from SET_MASTER and
 * DROP_MASTER (drm_master_check_perm: only the opener, or CAP_SYS_ADMIN);
 * GET_CLIENT answers each caller's own pid. The opener, even without
 * root, may drop and set the master.
 */
#include "check.h"

#include <grp.h>

static pid_t client_pid(int fd)
{
	drm_client_t c = { .idx = 0 };
	CHECK(ioctl(fd, DRM_IOCTL_GET_CLIENT, &c) == 0, "get_client");
	return (pid_t)c.pid;
}

int main(void)
{
	int fd = open_card();
	CHECK(client_pid(fd) == getpid(), "GET_CLIENT names this process");
	OK("GET_CLIENT answers the caller's real pid %d", getpid());
	pid_t c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		CHECK(client_pid(fd) == getpid(), "GET_CLIENT in the child names the child");
		OK("in the child, the inherited file answers the child's pid %d", getpid());
		CHECK(setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0, "drop root");
		CHECK_ERRNO(ioctl(fd, DRM_IOCTL_DROP_MASTER, 0), EACCES, "DROP_MASTER from the child");
		CHECK_ERRNO(ioctl(fd, DRM_IOCTL_SET_MASTER, 0), EACCES, "SET_MASTER from the child");
		OK("the child without root: SET_MASTER and DROP_MASTER answer EACCES");
		return 0;
	}
	reap(c, "the child");
	CHECK(setgid(65534) == 0 && setuid(65534) == 0, "the parent drops root too");
	CHECK(ioctl(fd, DRM_IOCTL_DROP_MASTER, 0) == 0, "the opener drops the master");
	CHECK(ioctl(fd, DRM_IOCTL_SET_MASTER, 0) == 0, "and sets it again");
	OK("the opener, without root, drops and sets the master");
	close(fd);
	return 0;
}
