/*
 * Real shared memory. mmap of an emulated file (a drm fd at an object's fake
 * offset, or a dma-buf) asks the server, which checks it as the kernel does
 * (drm_gem_mmap, dma_buf_mmap) and answers with the mapping's id and the
 * object's shmem file, a sparse file of its tmpfs passed with SCM_RIGHTS;
 * the shim maps that file at page 0 (shmem's fault handler ignores the
 * offset too). Every process maps the same pages, and so does the model.
 * munmap (whole or in pieces) and exit tell the server, whose mappings keep
 * their objects alive until then, as vmas do.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A mapping of an emulated file: its id on the server, and what of it is still mapped. */
struct mapping {
	uintptr_t start, end;
	int64_t id;
	size_t mapped;           /* bytes still mapped */
	struct mapping *next;
};

static struct mapping *mappings;

static void tell_unmapped(int64_t id)
{
	struct buf m, call;
	buf_init(&m);
	pb_int(&m, 1, id);
	call_begin(&call);
	call_field(&call, SC_MUNMAP, &m);
	struct reply r;
	if (shim_call(&call, &r) == 0)
		reply_free(&r);
	buf_free(&m);
	buf_free(&call);
}

static void *emulated_mmap(void *addr, size_t len, int prot, int flags, int fd, uint64_t ino, off_t off)
{
	struct buf m;
	buf_init(&m);
	pb_int(&m, 1, fd);
	pb_int(&m, 2, off);
	pb_varint(&m, 3, len);
	struct reply r;
	if (shim_call_on(SC_MMAP, &m, fd, ino, &r) < 0) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	if (r.err || r.nvalues < 1 || r.npassed < 1) {
		int err = r.err ? r.err : ENODEV;
		if (!r.err)
			shim_warn("mmap of fd %d: the server answered %d values and %d descriptors", fd, r.nvalues, r.npassed);
		reply_free(&r);
		errno = err;
		return MAP_FAILED;
	}
	int64_t id = r.values[0];
	/* the server's descriptor is write-only: reopen the same file for reading and writing */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", r.passed[0]);
	int pages = (int)raw(SYS_open, path, ((prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	reply_free(&r);
	if (pages < 0) {
		int err = errno;
		tell_unmapped(id);
		errno = err;
		return MAP_FAILED;
	}
	void *p = (void *)raw(SYS_mmap, addr, len, prot, flags, pages, 0);
	int err = errno;
	raw_close(pages);
	if ((long)p < 0 && (long)p > -4096) {
		tell_unmapped(id);
		errno = -(int)(long)p;
		return MAP_FAILED;
	}
	if (p == MAP_FAILED) {
		tell_unmapped(id);
		errno = err;
		return MAP_FAILED;
	}
	struct mapping *mp = malloc(sizeof *mp);
	if (mp) {
		size_t aligned = (len + 4095) & ~(size_t)4095;
		mp->start = (uintptr_t)p;
		mp->end = (uintptr_t)p + aligned;
		mp->id = id;
		mp->mapped = aligned;
		shim_lock();
		mp->next = mappings;
		mappings = mp;
		shim_unlock();
	}
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	uint64_t ino;
	if (shim_active && fd >= 0 && !(flags & MAP_ANONYMOUS) && shim_emulated(fd, &ino, true))
		return emulated_mmap(addr, len, prot, flags, fd, ino, off);
	return (void *)raw(SYS_mmap, addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

/*
 * After a real munmap of [start, end): the mappings it touched lose that
 * much; one with nothing left is gone on the server (remove_vma).
 */
static void unmapped(uintptr_t start, uintptr_t end)
{
	int64_t gone[64];
	int ngone = 0;
	shim_lock();
	for (struct mapping **pp = &mappings; *pp;) {
		struct mapping *mp = *pp;
		uintptr_t a = start > mp->start ? start : mp->start;
		uintptr_t b = end < mp->end ? end : mp->end;
		if (a < b) {
			size_t cut = b - a;
			mp->mapped = cut >= mp->mapped ? 0 : mp->mapped - cut;
			if (mp->mapped == 0 && ngone < 64) {
				gone[ngone++] = mp->id;
				*pp = mp->next;
				free(mp);
				continue;
			}
		}
		pp = &mp->next;
	}
	shim_unlock();
	for (int i = 0; i < ngone; i++)
		tell_unmapped(gone[i]);
}

EXPORT int munmap(void *addr, size_t len)
{
	int r = (int)raw(SYS_munmap, addr, len);
	if (r == 0 && shim_active && mappings)
		unmapped((uintptr_t)addr, (uintptr_t)addr + ((len + 4095) & ~(size_t)4095));
	return r;
}

void shim_forget_mappings(void)
{
	shim_lock();
	while (mappings) {
		struct mapping *mp = mappings;
		mappings = mp->next;
		free(mp);
	}
	shim_unlock();
}
