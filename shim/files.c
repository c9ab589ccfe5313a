/*
 * Emulated files as real descriptors. An emulated file is the client end of
 * a socket connected to the server's anchors socket; its name on the wire is
 * that end's inode (fstat), which every descriptor of it shares, in every
 * process that has one. Opening a device node or an ioctl that makes a file
 * (PRIME_HANDLE_TO_FD, EXPORT_SYNC_FILE, SYNC_IOC_MERGE) first connects a
 * new anchor, which takes the lowest free descriptor as the real kernel's
 * get_unused_fd_flags would (EMFILE when there is none), and the server puts
 * the new file there. close() tells the server after the real close, which
 * then knows whether that was the last descriptor anywhere.
 */
#include "shim.h"

#include <sys/resource.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

/* --- what each socket inode is --- */

#define CACHE 4096
struct entry {
	uint64_t ino;            /* 0: free */
	bool emulated;
	bool have_info;
	struct file_info info;
};
static struct entry cache[CACHE];
static int cached;

static struct entry *find(uint64_t ino, bool make)
{
	size_t h = (size_t)(ino * 0x9E3779B97F4A7C15ull) % CACHE;
	for (int i = 0; i < CACHE; i++) {
		struct entry *e = &cache[(h + (size_t)i) % CACHE];
		if (e->ino == ino)
			return e;
		if (e->ino == 0) {
			if (!make)
				return NULL;
			if (cached >= CACHE * 3 / 4) {
				memset(cache, 0, sizeof cache);
				cached = 0;
				return find(ino, make);
			}
			e->ino = ino;
			cached++;
			return e;
		}
	}
	return NULL;
}

void shim_remember(uint64_t ino, bool emulated)
{
	shim_lock();
	struct entry *e = find(ino, true);
	if (e) {
		e->emulated = emulated;
		e->have_info = false;
	}
	shim_unlock();
}

/* Asks the server what the anchor ino is (FileInfo); 0 when it is none of its files. */
static int ask_info(uint64_t ino, struct file_info *fi)
{
	struct buf m;
	buf_init(&m);
	pb_varint(&m, 1, ino);
	struct reply r;
	if (shim_call_simple(SC_FILE_INFO, &m, &r) < 0)
		return -1;
	memset(fi, 0, sizeof *fi);
	if (r.err == 0 && r.nvalues >= 4) {
		fi->kind = (int)r.values[0];
		fi->rdev = (uint64_t)r.values[1];
		fi->size = (uint64_t)r.values[2];
		fi->inode = (uint64_t)r.values[3];
		if (r.text)
			snprintf(fi->path, sizeof fi->path, "%s", r.text);
	}
	reply_free(&r);
	return fi->kind;
}

bool shim_file_info(uint64_t ino, struct file_info *fi)
{
	shim_lock();
	struct entry *e = find(ino, false);
	if (e && e->have_info) {
		*fi = e->info;
		shim_unlock();
		return true;
	}
	shim_unlock();
	int kind = ask_info(ino, fi);
	if (kind < 0)
		return false;
	shim_lock();
	e = find(ino, true);
	if (e) {
		e->emulated = kind > 0;
		if (kind > 0) {
			e->info = *fi;
			e->have_info = true;
		}
	}
	shim_unlock();
	return kind > 0;
}

bool shim_emulated(int fd, uint64_t *ino, bool ask)
{
	if (!shim_active || fd < 0)
		return false;
	struct stat st;
	if (raw_fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	shim_lock();
	struct entry *e = find(st.st_ino, false);
	int known = e ? (e->emulated ? 1 : 0) : -1;
	shim_unlock();
	if (known < 0 && ask && !shim_own_fd(fd)) {
		struct file_info fi;
		known = shim_file_info(st.st_ino, &fi) ? 1 : 0;
		if (!known)
			shim_remember(st.st_ino, false);
	}
	if (known == 1)
		*ino = st.st_ino;
	return known == 1;
}

void shim_fileref(int fd, struct fileref *ref)
{
	ref->fd = fd;
	ref->ino = 0;
	uint64_t ino;
	if (shim_emulated(fd, &ino, true)) {
		ref->ino = ino;
		ref->kind = REF_EMULATED;
		return;
	}
	struct stat st;
	ref->kind = fd >= 0 && raw_fstat(fd, &st) == 0 ? REF_OTHER : REF_CLOSED;
}

/* --- anchors --- */

/*
 * A seeded run: an emulated file's descriptor number is the lowest free one
 * in a range of the thread's own, so that threads making files at the same
 * time in user space get the same numbers in every run: 64 numbers from
 * 256 + 64 * index for threads 0 to 7, then 16 numbers from 768 + 16 *
 * (index - 8) for threads 8 to 23 (all below 1024, the usual RLIMIT_NOFILE).
 * A thread without a range (beyond, or under a lower RLIMIT_NOFILE), or
 * whose range is full, takes the lowest free number, which may differ from
 * run to run: the shim says so, once per process.
 */
static void no_range(int index, const char *why)
{
	static bool said;
	if (said)
		return;
	said = true;
	shim_warn("thread %d of %s %s: the numbers of the emulated files it opens may differ from run to run", index,
		  shim_name, why);
}

static int thread_range(int fd, bool cloexec)
{
	int index = shim_thread_index();
	long base = index < 8 ? 256 + 64L * index : 768 + 16L * (index - 8);
	long size = index < 8 ? 64 : 16;
	struct rlimit rl;
	if (syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl) != 0 || (long)rl.rlim_cur < base + size || index > 23) {
		no_range(index, "has no descriptor range of its own (threads 0 to 23, under RLIMIT_NOFILE 1024 or more)");
		return fd;
	}
	int hi = (int)raw(SYS_fcntl, fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, base);
	if (hi < 0 || hi >= base + size) {
		if (hi >= 0)
			raw_close(hi);
		no_range(index, "has filled its descriptor range");
		return fd;
	}
	raw_close(fd);
	return hi;
}

int shim_new_anchor(bool cloexec, uint64_t *ino)
{
	struct sockaddr_un a;
	if (shim_sockaddr(&a, shim_anchors) < 0) {
		errno = ENOMEM;
		return -1;
	}
	int fd = (int)raw(SYS_socket, AF_UNIX, SOCK_STREAM | (cloexec ? SOCK_CLOEXEC : 0), 0);
	if (fd < 0)
		return -1;
	long r;
	do {
		r = raw(SYS_connect, fd, &a, sizeof a);
	} while (r < 0 && errno == EINTR);
	struct stat st;
	if (r < 0 || raw_fstat(fd, &st) < 0) {
		int e = errno;
		raw_close(fd);
		shim_warn("cannot connect an anchor to %s: %s", shim_anchors, strerror(e));
		errno = ENOMEM;
		return -1;
	}
	uint8_t name[8];
	for (int i = 0; i < 8; i++)
		name[i] = (uint8_t)(st.st_ino >> (8 * i));
	uint8_t ack = 0;
	ssize_t w = raw_write(fd, name, 8), k;
	do {
		k = raw_read(fd, &ack, 1);
	} while (k < 0 && errno == EINTR);
	if (w != 8 || k != 1) {
		raw_close(fd);
		errno = ENOMEM;
		return -1;
	}
	*ino = st.st_ino;
	return shim_seeded ? thread_range(fd, cloexec) : fd;
}

int shim_open_node(const char *node, int flags)
{
	/* the node's permissions, as the real kernel checks them at open (the stand-in holds them) */
	char path[64], standin[512];
	snprintf(path, sizeof path, "/dev/dri/%s", node);
	const char *p = shim_redirect(path, standin, sizeof standin);
	int want = (flags & O_ACCMODE) == O_RDONLY ? R_OK : (flags & O_ACCMODE) == O_WRONLY ? W_OK : R_OK | W_OK;
	if (p != path && raw(SYS_faccessat2, AT_FDCWD, p, want, AT_EACCESS) < 0)
		return -1;
	uint64_t ino;
	int fd = shim_new_anchor((flags & O_CLOEXEC) != 0, &ino);
	if (fd < 0)
		return -1;
	struct buf m, call;
	buf_init(&m);
	pb_string(&m, 1, node);
	call_begin(&call);
	call_field(&call, SC_OPEN, &m);
	struct fileref nf = { fd, ino, REF_EMULATED };
	call_new_file(&call, &nf);
	struct reply r;
	int rc = shim_call(&call, &r);
	buf_free(&m);
	buf_free(&call);
	if (rc < 0) {
		raw_close(fd);
		errno = ENODEV;
		return -1;
	}
	int err = r.err;
	reply_free(&r);
	if (err) {
		raw_close(fd);
		errno = err;
		return -1;
	}
	shim_remember(ino, true);
	return fd;
}

/* --- close --- */

static void tell_closed(int fd, uint64_t ino)
{
	struct buf m;
	buf_init(&m);
	pb_int(&m, 1, fd);
	struct reply r;
	if (shim_call_on(SC_CLOSE, &m, fd, ino, &r) == 0)
		reply_free(&r);
}

EXPORT int close(int fd)
{
	if (!shim_active)
		return raw_close(fd);
	if (shim_own_fd(fd))
		return 0; /* the shim's connection: the program closing every fd must not cut it */
	uint64_t ino;
	bool emulated = shim_emulated(fd, &ino, false);
	int r = raw_close(fd);
	if (r == 0 && emulated)
		tell_closed(fd, ino);
	return r;
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!shim_active)
		return (int)raw(SYS_close_range, first, last, flags);
	if (flags != 0)
		return (int)raw(SYS_close_range, first, last, flags);
	int top = (int)sysconf(_SC_OPEN_MAX);
	for (unsigned int fd = first; fd <= last && (int)fd < top; fd++)
		close((int)fd);
	return 0;
}

EXPORT int dup2(int oldfd, int newfd)
{
	if (shim_active && oldfd != newfd && shim_own_fd(newfd))
		shim_vacate_fd(newfd);
	uint64_t ino;
	bool emulated = shim_active && oldfd != newfd && shim_emulated(newfd, &ino, false);
	int r = (int)raw(SYS_dup2, oldfd, newfd);
	if (r >= 0 && emulated)
		tell_closed(newfd, ino);
	return r;
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (shim_active && oldfd != newfd && shim_own_fd(newfd))
		shim_vacate_fd(newfd);
	uint64_t ino;
	bool emulated = shim_active && oldfd != newfd && shim_emulated(newfd, &ino, false);
	int r = (int)raw(SYS_dup3, oldfd, newfd, flags);
	if (r >= 0 && emulated)
		tell_closed(newfd, ino);
	return r;
}

/* --- ioctl --- */

static const struct fd_field *fd_field(uint32_t request)
{
	for (int i = 0; i < shim_nfd_fields; i++)
		if (shim_fd_fields[i].request == request)
			return &shim_fd_fields[i];
	return NULL;
}

static uint32_t u32_at(const uint8_t *p, size_t n, int off)
{
	uint32_t v = 0;
	if (off >= 0 && (size_t)off + 4 <= n)
		memcpy(&v, p + off, 4);
	return v;
}

#define DMA_BUF_SET_NAME_A 0x40046201u
#define DMA_BUF_SET_NAME_B 0x40086201u
#define NAME_LEN 32

static int emulated_ioctl(int fd, uint64_t ino, unsigned long request, void *arg)
{
	uint32_t req = (uint32_t)request;
	size_t size = _IOC_SIZE(req);
	bool set_name = req == DMA_BUF_SET_NAME_A || req == DMA_BUF_SET_NAME_B;
	size_t want = set_name ? NAME_LEN + 1 : size;
	uint8_t *mem = want ? malloc(want) : NULL;
	ssize_t got = -1;
	if (want && arg) {
		got = self_read((uint64_t)(uintptr_t)arg, mem, want);
		if (set_name && got < (ssize_t)want) {
			/* a short string near the end of its mapping: as much as can be read */
			got = 0;
			while ((size_t)got < want && self_read((uint64_t)(uintptr_t)arg + (uint64_t)got, mem + got, 1) == 1) {
				if (mem[got++] == 0)
					break;
			}
		}
		if (set_name && got > 0) {
			void *nul = memchr(mem, 0, (size_t)got);
			if (nul)
				got = (uint8_t *)nul - mem + 1;
		}
	}
	struct fileref refs[2] = { { fd, ino, REF_EMULATED }, { -1, 0, REF_CLOSED } };
	int nrefs = 1;
	const struct fd_field *ff = fd_field(req);
	if (ff && ff->in >= 0 && got >= (ssize_t)ff->in + 4) {
		shim_fileref((int)u32_at(mem, (size_t)got, ff->in), &refs[1]);
		nrefs = 2;
	}
	int anchor = -1;
	uint64_t anchor_ino = 0;
	bool makes_file = ff && ff->out >= 0;
	if (makes_file) {
		bool cloexec = ff->flags < 0 || (got > 0 && (u32_at(mem, (size_t)got, ff->flags) & O_CLOEXEC));
		anchor = shim_new_anchor(cloexec, &anchor_ino);
	}
	struct buf io, memory, call;
	buf_init(&io);
	pb_int(&io, 1, fd);
	pb_varint(&io, 2, req);
	pb_varint(&io, 3, (uint64_t)(uintptr_t)arg);
	if (got > 0) {
		buf_init(&memory);
		pb_varint(&memory, 1, (uint64_t)(uintptr_t)arg);
		pb_bytes(&memory, 2, mem, (size_t)got);
		pb_message(&io, 4, &memory);
		buf_free(&memory);
	}
	free(mem);
	call_begin(&call);
	call_field(&call, SC_IOCTL, &io);
	call_files(&call, refs, nrefs);
	if (makes_file) {
		struct fileref nf = { anchor, anchor_ino, REF_EMULATED };
		call_new_file(&call, &nf);
	}
	struct reply r;
	int rc = shim_call(&call, &r);
	buf_free(&io);
	buf_free(&call);
	if (rc < 0) {
		if (anchor >= 0)
			raw_close(anchor);
		errno = EIO;
		return -1;
	}
	int err = r.err;
	for (int i = 0; i < r.nwrites; i++)
		if (self_write(r.writes[i].address, r.writes[i].data, r.writes[i].n) != (ssize_t)r.writes[i].n && !err)
			err = EFAULT;
	reply_free(&r);
	if (anchor >= 0) {
		uint32_t placed = 0;
		bool in_struct = self_read((uint64_t)(uintptr_t)arg + (uint64_t)ff->out, &placed, 4) == 4;
		if (err == 0 && in_struct && (int)placed == anchor)
			shim_remember(anchor_ino, true);
		else
			raw_close(anchor);
	}
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

EXPORT int ioctl(int fd, unsigned long int request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	uint64_t ino;
	unsigned type = _IOC_TYPE(request);
	if (shim_active && shim_emulated(fd, &ino, type == 'd' || type == 'b' || type == '>'))
		return emulated_ioctl(fd, ino, request, arg);
	return (int)raw(SYS_ioctl, fd, request, arg);
}

/* --- lseek --- */

static off_t emulated_lseek(int fd, uint64_t ino, off_t offset, int whence)
{
	struct buf m;
	buf_init(&m);
	pb_int(&m, 1, fd);
	pb_int(&m, 2, offset);
	pb_int(&m, 3, whence);
	struct reply r;
	if (shim_call_on(SC_LSEEK, &m, fd, ino, &r) < 0) {
		errno = EIO;
		return -1;
	}
	off_t pos = r.nvalues ? (off_t)r.values[0] : 0;
	int err = r.err;
	reply_free(&r);
	if (err) {
		errno = err;
		return -1;
	}
	return pos;
}

EXPORT off_t lseek(int fd, off_t offset, int whence)
{
	uint64_t ino;
	if (shim_active && shim_emulated(fd, &ino, false))
		return emulated_lseek(fd, ino, offset, whence);
	return (off_t)raw(SYS_lseek, fd, offset, whence);
}

EXPORT off_t lseek64(int fd, off_t offset, int whence)
{
	return lseek(fd, offset, whence);
}

/* --- stat --- */

void shim_fake_stat(const struct file_info *fi, struct stat *st)
{
	if (fi->kind == KIND_DRM) {
		unsigned minor = (unsigned)(fi->rdev & 0xff);
		st->st_mode = S_IFCHR | (minor >= 128 ? 0666 : 0660);
		st->st_rdev = makedev(226, minor);
		st->st_dev = makedev(0, 5);
		st->st_ino = 1000 + minor;
		st->st_size = 0;
		st->st_blksize = 4096;
		st->st_blocks = 0;
		st->st_nlink = 1;
	} else {
		/* dma-buf and sync_file inodes: anonymous, mode 0600, the dma-buf's size */
		st->st_mode = S_IFREG | 0600;
		st->st_rdev = 0;
		st->st_dev = makedev(0, fi->kind == KIND_DMABUF ? 12 : 13);
		st->st_ino = fi->inode;
		st->st_size = (off_t)(fi->kind == KIND_DMABUF ? fi->size : 0);
		st->st_nlink = 1;
	}
}

bool shim_node_stat(const char *path, struct stat *st)
{
	const char *node = shim_dri_node(path);
	if (!node)
		return false;
	/* the stand-in in the device tree holds the node's mode and owner (chmod and chown change it) */
	char standin[512];
	struct stat real;
	bool have = shim_redirect(path, standin, sizeof standin) != path
		    && raw(SYS_newfstatat, AT_FDCWD, standin, &real, 0) == 0;
	if (!have && shim_root[0])
		return false; /* no stand-in: the module is unloaded, the node is gone */
	struct file_info fi = { .kind = KIND_DRM };
	fi.rdev = strcmp(node, "card0") == 0 ? 0 : 128;
	memset(st, 0, sizeof *st);
	shim_fake_stat(&fi, st);
	if (have) {
		st->st_mode = S_IFCHR | (real.st_mode & 07777);
		st->st_uid = real.st_uid;
		st->st_gid = real.st_gid;
		st->st_atim = real.st_atim;
		st->st_mtim = real.st_mtim;
		st->st_ctim = real.st_ctim;
	}
	return true;
}

/* fstat of fd, made up when it is an emulated file. */
static int fake_fstat(int fd, struct stat *st)
{
	int r = raw_fstat(fd, st);
	uint64_t ino;
	if (r == 0 && shim_active && S_ISSOCK(st->st_mode) && shim_emulated(fd, &ino, true)) {
		struct file_info fi;
		if (shim_file_info(ino, &fi))
			shim_fake_stat(&fi, st);
	}
	return r;
}

EXPORT int fstat(int fd, struct stat *st)
{
	return fake_fstat(fd, st);
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
	return fake_fstat(fd, (struct stat *)st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fake_fstat(fd, st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fake_fstat(fd, st);
}

static int path_stat(int dirfd, const char *path, struct stat *st, int flags)
{
	if (shim_active && path) {
		if (path[0] == 0 && (flags & AT_EMPTY_PATH))
			return fake_fstat(dirfd, st);
		if (shim_node_stat(path, st))
			return 0;
		char redirected[512];
		path = shim_redirect(path, redirected, sizeof redirected);
	}
	return (int)raw(SYS_newfstatat, dirfd, path, st, flags);
}

EXPORT int stat(const char *path, struct stat *st)
{
	return path_stat(AT_FDCWD, path, st, 0);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
	return path_stat(AT_FDCWD, path, (struct stat *)st, 0);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	return path_stat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	return path_stat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return path_stat(dirfd, path, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return path_stat(dirfd, path, (struct stat *)st, flags);
}

EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return path_stat(AT_FDCWD, path, st, 0);
}

EXPORT int __xstat64(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return path_stat(AT_FDCWD, path, st, 0);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return path_stat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return path_stat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return path_stat(dirfd, path, st, flags);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return path_stat(dirfd, path, st, flags);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	struct stat st;
	bool fake = false;
	if (shim_active) {
		uint64_t ino;
		if (path[0] == 0 && (flags & AT_EMPTY_PATH) && shim_emulated(dirfd, &ino, true)) {
			struct file_info fi;
			if (raw_fstat(dirfd, &st) == 0 && shim_file_info(ino, &fi)) {
				shim_fake_stat(&fi, &st);
				fake = true;
			}
		} else if (shim_node_stat(path, &st)) {
			fake = true;
		}
	}
	if (!fake) {
		char redirected[512];
		if (shim_active)
			path = shim_redirect(path, redirected, sizeof redirected);
		return (int)raw(SYS_statx, dirfd, path, flags, mask, stx);
	}
	memset(stx, 0, sizeof *stx);
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_mode = (uint16_t)st.st_mode;
	stx->stx_nlink = (uint32_t)st.st_nlink;
	stx->stx_ino = st.st_ino;
	stx->stx_size = (uint64_t)st.st_size;
	stx->stx_blksize = 4096;
	stx->stx_rdev_major = major(st.st_rdev);
	stx->stx_rdev_minor = minor(st.st_rdev);
	stx->stx_dev_major = major(st.st_dev);
	stx->stx_dev_minor = minor(st.st_dev);
	return 0;
}

/* --- readlink of /proc/self/fd/N --- */

/* The fd that /proc/self/fd/N (or /proc/<our pid>/fd/N) names, or -1. */
static int proc_fd(const char *path)
{
	const char *p = NULL;
	if (strncmp(path, "/proc/self/fd/", 14) == 0) {
		p = path + 14;
	} else if (strncmp(path, "/proc/", 6) == 0) {
		char *end;
		long pid = strtol(path + 6, &end, 10);
		if (pid == getpid() && strncmp(end, "/fd/", 4) == 0)
			p = end + 4;
	}
	if (!p || !*p)
		return -1;
	char *end;
	long fd = strtol(p, &end, 10);
	return *end == 0 && fd >= 0 ? (int)fd : -1;
}

static ssize_t link_of(const char *path, char *out, size_t n)
{
	int fd = proc_fd(path);
	uint64_t ino;
	struct file_info fi;
	if (fd < 0 || !shim_emulated(fd, &ino, true) || !shim_file_info(ino, &fi))
		return -1;
	size_t len = strlen(fi.path);
	if (len > n)
		len = n;
	memcpy(out, fi.path, len);
	return (ssize_t)len;
}

EXPORT ssize_t readlink(const char *path, char *out, size_t n)
{
	if (shim_active) {
		ssize_t k = link_of(path, out, n);
		if (k >= 0)
			return k;
		char redirected[512];
		path = shim_redirect(path, redirected, sizeof redirected);
	}
	return raw(SYS_readlinkat, AT_FDCWD, path, out, n);
}

EXPORT ssize_t readlinkat(int dirfd, const char *path, char *out, size_t n)
{
	if (shim_active && path[0] == '/') {
		ssize_t k = link_of(path, out, n);
		if (k >= 0)
			return k;
		char redirected[512];
		path = shim_redirect(path, redirected, sizeof redirected);
	}
	return raw(SYS_readlinkat, dirfd, path, out, n);
}
