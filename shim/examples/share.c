/* The README's example: two processes share a buffer (CProgramsTest runs it). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xf86drm.h>
#include <drm_mode.h>

int main(void)
{
	int fd = open("/dev/dri/card0", O_RDWR), buf;
	struct drm_mode_create_dumb bo = { .width = 256, .height = 256, .bpp = 32 };
	drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &bo);
	drmPrimeHandleToFD(fd, bo.handle, DRM_CLOEXEC | DRM_RDWR, &buf); /* export it as a dma-buf */
	int *p = mmap(NULL, bo.size, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (fork() == 0) {                                    /* a second process maps it too */
		int *q = mmap(NULL, bo.size, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
		q[0] = 42;
		return 0;
	}
	wait(NULL);
	printf("the other process wrote %d\n", p[0]);
	return 0;
}
