/*
 * The device as libdrm and IGT look for it. The server makes a tree (its
 * Welcome names it) with dev/dri, the device's sysfs (sys/dev/char/226:N,
 * the platform vgem device with its uevent and drm/, sys/class/drm,
 * sys/module/vgem) and debugfs (sys/kernel/debug/dri/0, dma_buf), and the
 * files that IGT writes on the host (dev/kmsg, the vtconsole binds,
 * ftrace_dump_on_oops). Paths under those prefixes go into the tree, so a
 * program changes nothing on the host. /dev/dri/card0 and renderD128 stat
 * as the character devices 226:0 and 226:128 and open as emulated files;
 * the debugfs files (and the module's refcnt) read the live model: opening
 * one swaps in a memfd with what the server renders now. mount of debugfs
 * succeeds without mounting anything.
 */
#include "shim.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REAL(ret, name, args)                                                                                  \
	static ret(*real_##name) args;                                                                         \
	if (!real_##name)                                                                                      \
		real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name);

/* The host paths the tree stands in for. */
static const char *const prefixes[] = {
	"/dev/dri",
	"/dev/kmsg",
	"/sys/dev/char/226:",
	"/sys/class/drm",
	"/sys/class/vtconsole",
	"/sys/devices/platform/vgem",
	"/sys/kernel/debug",
	"/sys/module/vgem",
	"/proc/sys/kernel/ftrace_dump_on_oops",
};

/* Files whose content is the live model's (their paths, and the inodes of their stand-ins in the tree). */
static const char *const live[] = {
	"/sys/kernel/debug/dri/0/name",
	"/sys/kernel/debug/dri/0/clients",
	"/sys/kernel/debug/dri/0/gem_names",
	"/sys/kernel/debug/dma_buf/bufinfo",
	"/sys/kernel/debug/dri/128/name",
	"/sys/kernel/debug/dri/128/clients",
	"/sys/kernel/debug/dri/128/gem_names",
	"/sys/module/vgem/refcnt",
};
#define NLIVE (sizeof live / sizeof live[0])
static uint64_t live_ino[NLIVE];

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(path, prefix, n) != 0)
		return false;
	/* "/sys/dev/char/226:" ends inside a component on purpose */
	return prefix[n - 1] == ':' || path[n] == 0 || path[n] == '/';
}

const char *shim_redirect(const char *path, char *out, size_t n)
{
	if (!shim_active || !path || path[0] != '/' || !shim_root[0])
		return path;
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		if (under(path, prefixes[i])) {
			snprintf(out, n, "%s%s", shim_root, path);
			return out;
		}
	}
	return path;
}

void shim_unredirect(char *path)
{
	size_t n = strlen(shim_root);
	if (n && strncmp(path, shim_root, n) == 0 && path[n] == '/')
		memmove(path, path + n, strlen(path + n) + 1);
}

const char *shim_dri_node(const char *path)
{
	if (!shim_active || !path)
		return NULL;
	if (strcmp(path, "/dev/dri/card0") == 0)
		return "card0";
	if (strcmp(path, "/dev/dri/renderD128") == 0)
		return "renderD128";
	return NULL;
}

void shim_vfs_init(void)
{
	for (size_t i = 0; i < NLIVE; i++) {
		char p[512];
		struct stat st;
		snprintf(p, sizeof p, "%s%s", shim_root, live[i]);
		live_ino[i] = raw(SYS_newfstatat, AT_FDCWD, p, &st, 0) == 0 ? st.st_ino : 0;
	}
}

/* The live file whose stand-in fd is, or -1. */
static int live_index(int fd)
{
	struct stat st;
	if (raw_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	for (size_t i = 0; i < NLIVE; i++)
		if (live_ino[i] && live_ino[i] == st.st_ino)
			return (int)i;
	return -1;
}

int shim_fresh_content(int fd)
{
	int i = live_index(fd);
	if (i < 0)
		return fd;
	int fl = (int)raw(SYS_fcntl, fd, F_GETFL);
	if ((fl & O_ACCMODE) != O_RDONLY)
		return fd;
	struct buf m;
	buf_init(&m);
	pb_string(&m, 1, live[i]);
	struct reply r;
	if (shim_call_simple(SC_READ_FILE, &m, &r) < 0)
		return fd;
	if (r.err == 0 && r.text) {
		int mfd = (int)raw(SYS_memfd_create, "gemulator-live", MFD_CLOEXEC);
		if (mfd >= 0) {
			size_t len = strlen(r.text);
			raw_write(mfd, r.text, len);
			raw(SYS_lseek, mfd, 0, SEEK_SET);
			int fdflags = (int)raw(SYS_fcntl, fd, F_GETFD);
			raw(SYS_dup3, mfd, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
			raw_close(mfd);
		}
	}
	reply_free(&r);
	return fd;
}

/* --- open --- */

/* /proc/self/fd/N of an emulated drm file opens its node again, as the real kernel does. */
static const char *reopened_node(const char *path)
{
	char link[128];
	if (strncmp(path, "/proc/", 6) != 0 || !strstr(path, "/fd/"))
		return NULL;
	ssize_t k = readlink(path, link, sizeof link - 1);
	if (k <= 0)
		return NULL;
	link[k] = 0;
	const char *node = shim_dri_node(link);
	return node;
}

/*
 * A seeded run: a real file's descriptor is the real kernel's lowest free
 * number, so when several threads open real files, which gets which number
 * follows real time. Said once per process, when a second thread does.
 */
static void real_file_opened(int fd)
{
	static int first = -1;
	static bool said;
	int index = shim_thread_index();
	shim_lock();
	bool other = first >= 0 && first != index && !said;
	if (first < 0)
		first = index;
	if (other)
		said = true;
	shim_unlock();
	if (other)
		shim_warn("threads %d and %d of %s open real files: their descriptor numbers (fd %d now) are the real "
			  "kernel's, in real time's order, and may differ from run to run", first, index, shim_name, fd);
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
	if (!shim_active || !path)
		return (int)raw(SYS_openat, dirfd, path, flags, mode);
	const char *node = shim_dri_node(path);
	if (!node && path[0] == '/')
		node = reopened_node(path);
	if (node)
		return shim_open_node(node, flags);
	char redirected[512];
	const char *p = shim_redirect(path, redirected, sizeof redirected);
	int fd = (int)raw(SYS_openat, dirfd, p, flags, mode);
	if (fd >= 0 && shim_seeded)
		real_file_opened(fd);
	if (fd >= 0 && (p != path || dirfd != AT_FDCWD))
		fd = shim_fresh_content(fd);
	return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return do_open(AT_FDCWD, path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return do_open(AT_FDCWD, path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
	return do_open(AT_FDCWD, path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags)
{
	return do_open(AT_FDCWD, path, flags, 0);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return do_open(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return do_open(dirfd, path, flags, mode);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return do_open(dirfd, path, flags, 0);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return do_open(dirfd, path, flags, 0);
}

EXPORT int creat(const char *path, mode_t mode)
{
	return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

EXPORT int creat64(const char *path, mode_t mode)
{
	return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* fopen's own open is glibc's internal one: the node and the tree are handled here. */
static FILE *do_fopen(const char *path, const char *mode, FILE *(*real)(const char *, const char *))
{
	if (shim_active && path) {
		const char *node = shim_dri_node(path);
		if (node) {
			int fd = shim_open_node(node, O_RDWR | (strchr(mode, 'e') ? O_CLOEXEC : 0));
			return fd < 0 ? NULL : fdopen(fd, mode);
		}
		char redirected[512];
		const char *p = shim_redirect(path, redirected, sizeof redirected);
		FILE *f = real(p, mode);
		if (f && p != path)
			shim_fresh_content(fileno(f));
		return f;
	}
	return real(path, mode);
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	REAL(FILE *, fopen, (const char *, const char *));
	return do_fopen(path, mode, real_fopen);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	REAL(FILE *, fopen64, (const char *, const char *));
	return do_fopen(path, mode, real_fopen64);
}

EXPORT DIR *opendir(const char *path)
{
	REAL(DIR *, opendir, (const char *));
	char redirected[512];
	return real_opendir(shim_redirect(path, redirected, sizeof redirected));
}

EXPORT int access(const char *path, int mode)
{
	if (shim_dri_node(path))
		return 0;
	char redirected[512];
	return (int)raw(SYS_faccessat, AT_FDCWD, shim_redirect(path, redirected, sizeof redirected), mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	if (shim_dri_node(path))
		return 0;
	char redirected[512];
	return (int)raw(SYS_faccessat2, dirfd, shim_redirect(path, redirected, sizeof redirected), mode, flags);
}

EXPORT char *realpath(const char *path, char *resolved)
{
	REAL(char *, realpath, (const char *, char *));
	char redirected[512];
	char *r = real_realpath(shim_redirect(path, redirected, sizeof redirected), resolved);
	if (r && shim_active)
		shim_unredirect(r);
	return r;
}

/* chmod and chown of the nodes, the device's sysfs and debugfs change the stand-ins. */
EXPORT int chmod(const char *path, mode_t mode)
{
	char redirected[512];
	return (int)raw(SYS_fchmodat, AT_FDCWD, shim_redirect(path, redirected, sizeof redirected), mode);
}

EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	char redirected[512];
	(void)flags;
	return (int)raw(SYS_fchmodat, dirfd, shim_redirect(path, redirected, sizeof redirected), mode);
}

EXPORT int chown(const char *path, uid_t uid, gid_t gid)
{
	char redirected[512];
	return (int)raw(SYS_fchownat, AT_FDCWD, shim_redirect(path, redirected, sizeof redirected), uid, gid, 0);
}

EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
	char redirected[512];
	return (int)raw(SYS_fchownat, AT_FDCWD, shim_redirect(path, redirected, sizeof redirected), uid, gid,
			AT_SYMLINK_NOFOLLOW);
}

/* debugfs and tracefs are there already (in the tree): mounting them does nothing. */
static bool confined_mount(const char *target, const char *type)
{
	if (!shim_active)
		return false;
	if (type && (strcmp(type, "debugfs") == 0 || strcmp(type, "tracefs") == 0))
		return true;
	return target && under(target, "/sys/kernel/debug");
}

EXPORT int mount(const char *source, const char *target, const char *type, unsigned long flags, const void *data)
{
	if (confined_mount(target, type))
		return 0;
	return (int)raw(SYS_mount, source, target, type, flags, data);
}

EXPORT int umount(const char *target)
{
	if (confined_mount(target, NULL))
		return 0;
	return (int)raw(SYS_umount2, target, 0);
}

EXPORT int umount2(const char *target, int flags)
{
	if (confined_mount(target, NULL))
		return 0;
	return (int)raw(SYS_umount2, target, flags);
}
