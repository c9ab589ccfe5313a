/*
 * gemulator's C shim: an LD_PRELOAD library that makes a running gemulator
 * server the vgem device of an unmodified, dynamically linked program.
 *
 * How it fits together (docs/notes/issue-11-boundary.md has the whole story):
 *
 *   - Every thread of the program talks to the server over a connection of
 *     its own (a Unix socket, length-prefixed protobuf frames, the protocol
 *     of proto/gemulator/v1): the connection is the thread (conn.c).
 *   - An emulated open file (a drm file, a dma-buf, a sync_file) is, in the
 *     program, one end of a Unix socket connected to the server's anchors
 *     socket: the real kernel does dup, fork, exec, SCM_RIGHTS, EMFILE and
 *     /proc/self/fd for it, and the server sees the last close (files.c).
 *   - ioctl(2) on such a file goes to the server as the request number and
 *     the bytes of the struct; what the kernel copies out comes back and is
 *     written into the program's memory (files.c).
 *   - mmap(2) maps the object's pages, a file of the server's tmpfs that it
 *     passes with SCM_RIGHTS: real shared memory (mem.c).
 *   - poll, ppoll, select and pselect wait for emulated files in the server
 *     and for the others in the real kernel (poll.c).
 *   - /dev/dri, the device's sysfs and debugfs are a tree the server made;
 *     paths into them are redirected, debugfs files read from the live model,
 *     and IGT's host side effects land in that tree instead of the host (vfs.c).
 *   - fork, exec, threads, setuid and wait are announced (proc.c).
 *
 * Internally the shim makes its own system calls with syscall(2), so that it
 * never goes through its own wrappers.
 */
#ifndef GEMULATOR_SHIM_H
#define GEMULATOR_SHIM_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <poll.h>

#define EXPORT __attribute__((visibility("default")))

/* --- protobuf (wire.c) --- */

/* A growable byte buffer. */
struct buf {
	uint8_t *data;
	size_t len, cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_put(struct buf *b, const void *p, size_t n);

/* Encoding: field number, then the value. */
void pb_varint(struct buf *b, int field, uint64_t v);
void pb_int(struct buf *b, int field, int64_t v);   /* int32/int64 (negative: 10 bytes) */
void pb_bytes(struct buf *b, int field, const void *p, size_t n);
void pb_string(struct buf *b, int field, const char *s);
void pb_message(struct buf *b, int field, const struct buf *m);  /* a sub-message, even empty */

/* Decoding: a cursor over a message's bytes. */
struct pb {
	const uint8_t *p, *end;
	int field, wire;
	uint64_t v;              /* varint value */
	const uint8_t *bytes;    /* length-delimited */
	size_t n;
};

void pb_begin(struct pb *r, const void *p, size_t n);
bool pb_next(struct pb *r);          /* false at the end (or on a malformed message) */
void pb_sub(const struct pb *r, struct pb *sub);  /* a cursor over the current length-delimited field */

/* --- the reply to a call --- */

#define MAX_VALUES 16
#define MAX_PASSED 8

struct write {
	uint64_t address;
	const uint8_t *data;
	size_t n;
};

struct reply {
	struct buf frame;        /* the ServerMessage bytes the pointers below point into */
	int err;                 /* errno, 0 for success */
	int64_t values[MAX_VALUES];
	int nvalues;
	const char *text;        /* NUL-terminated copy, or NULL */
	const uint8_t *data;
	size_t ndata;
	const char *message;
	struct write *writes;
	int nwrites;
	int passed[MAX_PASSED];  /* descriptors that came with the reply */
	int npassed;
};

void reply_free(struct reply *r);

/* --- connections (conn.c) --- */

/* A real descriptor and what it is, for the server (FileRef). */
struct fileref {
	int fd;
	uint64_t ino;
	int kind;                /* 0 emulated, 1 closed, 2 another file */
};
#define REF_EMULATED 0
#define REF_CLOSED 1
#define REF_OTHER 2

/* Whether the shim is active (GEMULATOR_SOCKET was set and the server answered). */
extern bool shim_active;
/* Whether the server is a seeded one (serve --seed, gemulator race): the shim announces threads, joins, waits, exits and time. */
extern bool shim_seeded;
/* Connects this thread now (a seeded run's thread must exist before it runs). */
int shim_connect_thread(void);
/* Sends a ClientMessage with `field` set to msg on this thread's connection (ThreadStart); no reply. */
int shim_send_message(int field, const struct buf *msg);
/* A seeded run: sleeps ns nanoseconds of the run's virtual clock (a kernel sleep); 0 or an errno (time.c). */
int shim_virtual_sleep(int64_t ns);
/* The process's name on the device. */
extern char shim_name[80];
/* The anchors socket, the device tree. */
extern char shim_anchors[256];
extern char shim_root[256];

/*
 * Sends Request{call} on this thread's connection (made on first use) and
 * waits for its reply. `call` is an encoded Syscall. Returns 0 with the reply
 * filled, or -1 with errno when the server cannot be reached.
 */
int shim_call(const struct buf *call, struct reply *out);
/* As shim_call, but the request can be cancelled: see poll.c. */
int shim_send(const struct buf *call, int64_t *request_id);
int shim_receive(int64_t request_id, struct reply *out);
int shim_cancel(int64_t request_id);
/* This thread's connection descriptor (-1 if none). */
int shim_thread_fd(void);
/* Whether fd is one of the shim's own descriptors. */
bool shim_own_fd(int fd);
/* Moves the shim's descriptor away from fd (the program wants that number). */
void shim_vacate_fd(int fd);

/* Syscall builders: the oneof field and its sub-message. */
void call_begin(struct buf *call);
void call_field(struct buf *call, int field, const struct buf *msg);
void call_files(struct buf *call, const struct fileref *refs, int n);
void call_new_file(struct buf *call, const struct fileref *ref);
/*
 * One system call: the call's field and its message, which it frees; as
 * shim_call, with *out zeroed first, so that a failed call leaves an empty
 * reply (reply_free is safe on it).
 */
int shim_call_simple(int field, struct buf *msg, struct reply *out);
/* The same naming one emulated file (fd, ino). */
int shim_call_on(int field, struct buf *msg, int fd, uint64_t ino, struct reply *out);

/* Syscall oneof fields (syscalls.proto). */
#define SC_OPEN 1
#define SC_CLOSE 2
#define SC_LSEEK 16
#define SC_MMAP 17
#define SC_MUNMAP 18
#define SC_IOCTL 33
#define SC_FORK 50
#define SC_FORK_DONE 51
#define SC_EXEC_START 52
#define SC_CREDENTIALS 53
#define SC_POLL_FDS 54
#define SC_REAP 55
#define SC_FILE_INFO 56
#define SC_READ_FILE 59
#define SC_MODULE 62
#define SC_EXIT 5
#define SC_SLEEP 32
#define SC_CLOCK_GETTIME 70
#define SC_JOIN 71
#define SC_WAIT_CHILD 72

/* Process identity across fork and exec (proc.c, conn.c). */
void shim_after_fork_child(const char *name, int64_t token);
int shim_thread_index(void);

/* --- files (files.c) --- */

struct fd_field {
	uint32_t request;
	int in, out, flags;
};
extern struct fd_field shim_fd_fields[16];
extern int shim_nfd_fields;

/* What an emulated file is (FileInfo), cached by anchor inode. */
struct file_info {
	int kind;                /* 1 drm, 2 dma-buf, 3 sync_file */
	uint64_t rdev, size, inode;
	char path[64];
};
#define KIND_DRM 1
#define KIND_DMABUF 2
#define KIND_SYNC_FILE 3

/*
 * Whether fd is an emulated file; *ino gets its anchor's inode. `ask`:
 * an unknown socket is asked about (else only known anchors count).
 */
bool shim_emulated(int fd, uint64_t *ino, bool ask);
/* Its FileInfo (cached). */
bool shim_file_info(uint64_t ino, struct file_info *fi);
/* A FileRef for fd: emulated, closed or another file. */
void shim_fileref(int fd, struct fileref *ref);
/* A new anchor: a connected socket at the lowest free descriptor; -1 with errno. */
int shim_new_anchor(bool cloexec, uint64_t *ino);
/* Remembers that ino is an emulated file (or not). */
void shim_remember(uint64_t ino, bool emulated);
/* The emulated open of a device node ("card0", "renderD128"). */
int shim_open_node(const char *node, int flags);
/* Fills st for an emulated file. */
void shim_fake_stat(const struct file_info *fi, struct stat *st);
/* stat of a device node path: true when path is one ("/dev/dri/card0"). */
bool shim_node_stat(const char *path, struct stat *st);

/* --- memory (mem.c) --- */
void shim_forget_mappings(void);

/* --- the device tree (vfs.c) --- */

/* Redirects path into the device tree when it is one of the device's; else returns path. */
const char *shim_redirect(const char *path, char *out, size_t n);
/* The node name for a /dev/dri path ("card0", "renderD128"), or NULL. */
const char *shim_dri_node(const char *path);
/* After a real open of a file in the device tree: swaps in live content if it is a debugfs file. */
int shim_fresh_content(int fd);
/* Strips the device tree's prefix from a path the real kernel resolved. */
void shim_unredirect(char *path);
void shim_vfs_init(void);

/* A Unix socket address for path; -1 (ENAMETOOLONG) when it does not fit. */
struct sockaddr_un;
int shim_sockaddr(struct sockaddr_un *a, const char *path);

/* --- raw system calls --- */
long raw(long nr, ...);
int raw_close(int fd);
int raw_fstat(int fd, struct stat *st);
ssize_t raw_read(int fd, void *p, size_t n);
ssize_t raw_write(int fd, const void *p, size_t n);

/* Reads/writes the program's own memory, EFAULT-safe (process_vm_readv/writev on itself). */
ssize_t self_read(uint64_t address, void *dst, size_t n);
ssize_t self_write(uint64_t address, const void *src, size_t n);

/* The shim's one lock (mappings, caches). */
void shim_lock(void);
void shim_unlock(void);

/* Prints a one-line message to stderr ("gemulator shim: ..."). */
void shim_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
