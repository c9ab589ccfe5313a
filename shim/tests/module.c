/*
 * The vgem module's references, as libkmod (IGT's igt_kmod_unload and
 * igt_kmod_load) sees them: an open drm file, a dma-buf and a mapping of it
 * each keep the module (unloading answers EAGAIN); with none it unloads, and
 * the device is gone (open and stat of /dev/dri/card0: ENOENT) until it is
 * loaded again. libkmod is the machine's (libkmod.so.2, kmod's), opened
 * with dlopen; its functions are looked up globally so that the shim's
 * stand-ins for "vgem" answer.
 */
#include "check.h"

#include <dlfcn.h>

static void *(*kmod_new)(const char *, const char *const *);
static int (*new_from_name)(void *, const char *, void **);
static int (*remove_module)(void *, unsigned int);
static int (*probe_insert)(void *, unsigned int, const char *, void *, const void *, void *);
static int (*module_state)(const void *);

/* /sys/module/vgem/refcnt, as lsmod shows it (-1 when it cannot be read). */
static int refcnt(void)
{
	int n = -1;
	FILE *f = fopen("/sys/module/vgem/refcnt", "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static void *fn(const char *name)
{
	void *f = dlsym(RTLD_DEFAULT, name);
	CHECK(f, "libkmod has %s", name);
	return f;
}

int main(void)
{
	CHECK(dlopen("libkmod.so.2", RTLD_NOW | RTLD_GLOBAL), "dlopen libkmod.so.2: %s", dlerror());
	*(void **)&kmod_new = fn("kmod_new");
	*(void **)&new_from_name = fn("kmod_module_new_from_name");
	*(void **)&remove_module = fn("kmod_module_remove_module");
	*(void **)&probe_insert = fn("kmod_module_probe_insert_module");
	*(void **)&module_state = fn("kmod_module_get_initstate");
	void *ctx = kmod_new(NULL, NULL), *vgem = NULL;
	CHECK(ctx && new_from_name(ctx, "vgem", &vgem) == 0 && vgem, "a libkmod module for vgem");
	CHECK(module_state(vgem) == 1, "vgem is live");
	CHECK(refcnt() == 0, "refcnt 0 before any open, not %d", refcnt());

	int fd = open_card();
	CHECK(refcnt() == 1, "refcnt 1 with card0 open, not %d", refcnt());
	CHECK(remove_module(vgem, 0) == -EAGAIN, "an open drm file keeps the module");
	struct bo bo = create_bo(fd, 64, 64, 32);
	int buf;
	CHECK(drmPrimeHandleToFD(fd, bo.handle, DRM_CLOEXEC | DRM_RDWR, &buf) == 0, "export");
	close(fd);
	CHECK(remove_module(vgem, 0) == -EAGAIN, "a dma-buf keeps the module");
	void *p = mmap(NULL, bo.size, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	CHECK(p != MAP_FAILED, "mmap");
	close(buf);
	CHECK(refcnt() == 1, "the mapping keeps the dma-buf: refcnt 1, not %d", refcnt());
	CHECK(remove_module(vgem, 0) == -EAGAIN, "a mapping of the dma-buf keeps the module");
	OK("an open drm file, a dma-buf and a mapping each keep the module: unloading answers EAGAIN");
	munmap(p, bo.size);
	CHECK(remove_module(vgem, 0) == 0, "with no references it unloads");
	struct stat st;
	CHECK(open("/dev/dri/card0", O_RDWR) == -1 && errno == ENOENT, "no /dev/dri/card0 without the module");
	CHECK(stat("/dev/dri/card0", &st) == -1 && errno == ENOENT, "stat: ENOENT");
	CHECK(module_state(vgem) == -ENOENT, "not loaded");
	CHECK(remove_module(vgem, 0) == -ENOENT, "unloading it again: ENOENT");
	OK("unloaded, the device is gone");
	CHECK(probe_insert(vgem, 0, NULL, NULL, NULL, NULL) == 0, "load");
	CHECK(probe_insert(vgem, 0x20, NULL, NULL, NULL, NULL) == -EEXIST, "loaded: EEXIST with FAIL_ON_LOADED");
	fd = open_card();
	CHECK(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode), "card0 again");
	close(fd);
	OK("loaded again, card0 opens");
	return 0;
}
