/*
 * Connections to the server: one per thread, made on the thread's first
 * call (the main thread's when the library loads), each a Unix socket
 * carrying length-prefixed protobuf frames (4-byte big-endian length, then
 * a ClientMessage out or a ServerMessage in). A connection is a thread: the
 * process's first connection names the process (its Hello's ShimHello has
 * thread 0), every other thread's joins it with the thread's index, given
 * in creation order (proc.c), so names are deterministic: "A", "A.t1".
 * Descriptors the server passes (SCM_RIGHTS) arrive as one byte each, the
 * last byte of the read that brought them; they are set aside for the reply
 * that follows.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

bool shim_active;
bool shim_seeded;
char shim_name[80];
char shim_anchors[256];
char shim_root[256];
struct fd_field shim_fd_fields[16];
int shim_nfd_fields;

static char socket_path[256];
static char token[128];
/* GEMULATOR_SHIM_DEBUG=1: every failed call's errno and the server's message on stderr. */
static bool debug;

/* One thread's connection. */
struct conn {
	int fd;
	int index;               /* the thread's index in its process (0: main) */
	bool busy;
	int64_t next_id;
	struct buf in;           /* bytes read and not yet framed */
	int fds[MAX_PASSED];     /* descriptors received, not yet given to a reply */
	int nfds;
};

static __thread struct conn tconn = { .fd = -1 };
static pthread_key_t conn_key;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int next_index = 1;

/* Every connection descriptor of this process (a forked child closes its copies). */
static int own_fds[256];
static int nown;

void shim_lock(void)
{
	pthread_mutex_lock(&lock);
}

void shim_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void shim_warn(const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof line, "gemulator shim: ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	size_t len = strlen(line);
	if (len < sizeof line - 1)
		line[len++] = '\n';
	raw_write(2, line, len);
}

/* --- raw system calls --- */

long raw(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	return syscall(nr, a, b, c, d, e, f);
}

int raw_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

int raw_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_fstat, fd, st);
}

ssize_t raw_read(int fd, void *p, size_t n)
{
	return syscall(SYS_read, fd, p, n);
}

ssize_t raw_write(int fd, const void *p, size_t n)
{
	return syscall(SYS_write, fd, p, n);
}

ssize_t self_read(uint64_t address, void *dst, size_t n)
{
	struct iovec local = { dst, n }, remote = { (void *)(uintptr_t)address, n };
	return syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0);
}

ssize_t self_write(uint64_t address, const void *src, size_t n)
{
	struct iovec local = { (void *)src, n }, remote = { (void *)(uintptr_t)address, n };
	return syscall(SYS_process_vm_writev, getpid(), &local, 1, &remote, 1, 0);
}

/* --- own descriptors --- */

static void own(int fd)
{
	shim_lock();
	if (nown < (int)(sizeof own_fds / sizeof own_fds[0]))
		own_fds[nown++] = fd;
	shim_unlock();
}

static void disown(int fd)
{
	shim_lock();
	for (int i = 0; i < nown; i++) {
		if (own_fds[i] == fd) {
			own_fds[i] = own_fds[--nown];
			break;
		}
	}
	shim_unlock();
}

bool shim_own_fd(int fd)
{
	bool mine = false;
	shim_lock();
	for (int i = 0; i < nown; i++)
		mine |= own_fds[i] == fd;
	shim_unlock();
	return mine;
}

/* A number out of the program's way: high under RLIMIT_NOFILE (or fd itself). */
static int move_high(int fd)
{
	struct rlimit rl;
	long base = 3;
	if (syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0) {
		long top = rl.rlim_cur > 1024 ? 1024 : (long)rl.rlim_cur;
		if (top - 64 > base)
			base = top - 64;
	}
	int hi = (int)raw(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base);
	if (hi < 0)
		return fd;
	raw_close(fd);
	return hi;
}

void shim_vacate_fd(int fd)
{
	if (tconn.fd == fd) {
		int hi = (int)raw(SYS_fcntl, fd, F_DUPFD_CLOEXEC, fd + 1);
		if (hi >= 0) {
			disown(fd);
			raw_close(fd);
			own(hi);
			tconn.fd = hi;
		}
	}
}

int shim_thread_fd(void)
{
	return tconn.fd;
}

/* --- frames --- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = syscall(SYS_sendto, fd, p, n, MSG_NOSIGNAL, NULL, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_frame(int fd, const struct buf *msg)
{
	uint8_t len[4] = { (uint8_t)(msg->len >> 24), (uint8_t)(msg->len >> 16), (uint8_t)(msg->len >> 8),
			   (uint8_t)msg->len };
	struct buf f;
	buf_init(&f);
	buf_put(&f, len, 4);
	buf_put(&f, msg->data, msg->len);
	int r = write_all(fd, f.data, f.len);
	buf_free(&f);
	return r;
}

/* Reads what is there (blocking for at least one byte); descriptors go aside. */
static int read_more(struct conn *c)
{
	uint8_t chunk[65536];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * MAX_PASSED)];
	} ctl;
	struct iovec iov = { chunk, sizeof chunk };
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.space;
	m.msg_controllen = sizeof ctl.space;
	ssize_t n;
	do {
		n = syscall(SYS_recvmsg, c->fd, &m, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n == 0)
			errno = ECONNRESET;
		return -1;
	}
	int got = 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			int *fds = (int *)CMSG_DATA(h);
			for (int i = 0; i < k; i++) {
				if (c->nfds < MAX_PASSED)
					c->fds[c->nfds++] = fds[i];
				else
					raw_close(fds[i]);
			}
			got += k;
		}
	}
	/* the byte that carried descriptors is the last one this read returned */
	if (got > 0 && n > 0)
		n--;
	buf_put(&c->in, chunk, (size_t)n);
	return 0;
}

/* The next frame's ServerMessage bytes into out. */
static int read_frame(struct conn *c, struct buf *out)
{
	for (;;) {
		if (c->in.len >= 4) {
			uint32_t len = (uint32_t)c->in.data[0] << 24 | (uint32_t)c->in.data[1] << 16
				       | (uint32_t)c->in.data[2] << 8 | c->in.data[3];
			if (c->in.len >= 4 + (size_t)len) {
				buf_init(out);
				buf_put(out, c->in.data + 4, len);
				memmove(c->in.data, c->in.data + 4 + len, c->in.len - 4 - len);
				c->in.len -= 4 + len;
				return 0;
			}
		}
		if (read_more(c) < 0)
			return -1;
	}
}

void reply_free(struct reply *r)
{
	free((void *)r->text);
	free((void *)r->message);
	free(r->writes);
	for (int i = 0; i < r->npassed; i++)
		if (r->passed[i] >= 0)
			raw_close(r->passed[i]);
	buf_free(&r->frame);
	memset(r, 0, sizeof *r);
}

static char *dup_str(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

static void parse_result(struct pb *res, struct reply *r)
{
	while (pb_next(res)) {
		switch (res->field) {
		case 1:
			r->err = (int)(int64_t)res->v;
			break;
		case 2:
			if (res->wire == 2) {
				struct pb packed;
				pb_sub(res, &packed);
				const uint8_t *p = packed.p;
				while (p < packed.end && r->nvalues < MAX_VALUES) {
					uint64_t x = 0;
					int shift = 0;
					while (p < packed.end) {
						uint8_t ch = *p++;
						x |= (uint64_t)(ch & 0x7f) << shift;
						shift += 7;
						if (!(ch & 0x80))
							break;
					}
					r->values[r->nvalues++] = (int64_t)x;
				}
			} else if (r->nvalues < MAX_VALUES) {
				r->values[r->nvalues++] = (int64_t)res->v;
			}
			break;
		case 3:
			r->text = dup_str(res->bytes, res->n);
			break;
		case 4:
			r->data = res->bytes;
			r->ndata = res->n;
			break;
		case 5:
			r->message = dup_str(res->bytes, res->n);
			break;
		case 6: {
			struct pb mem;
			pb_sub(res, &mem);
			struct write w = { 0, NULL, 0 };
			while (pb_next(&mem)) {
				if (mem.field == 1)
					w.address = mem.v;
				else if (mem.field == 2) {
					w.data = mem.bytes;
					w.n = mem.n;
				}
			}
			r->writes = realloc(r->writes, sizeof(struct write) * (size_t)(r->nwrites + 1));
			if (!r->writes)
				abort();
			r->writes[r->nwrites++] = w;
			break;
		}
		case 7:
			r->npassed = (int)res->v;
			break;
		default:
			break;
		}
	}
}

/* Reads the reply with this request id; a refusal (the server closed us) is EPIPE. */
static int receive_on(struct conn *c, int64_t id, struct reply *out)
{
	for (;;) {
		struct reply r;
		memset(&r, 0, sizeof r);
		if (read_frame(c, &r.frame) < 0)
			return -1;
		struct pb msg;
		pb_begin(&msg, r.frame.data, r.frame.len);
		bool mine = false;
		while (pb_next(&msg)) {
			if (msg.field == 3) {
				struct pb ref;
				pb_sub(&msg, &ref);
				while (pb_next(&ref))
					if (ref.field == 1)
						shim_warn("the server refused: %.*s", (int)ref.n, ref.bytes);
				buf_free(&r.frame);
				errno = EPIPE;
				return -1;
			}
			if (msg.field != 2)
				continue;
			struct pb rep;
			pb_sub(&msg, &rep);
			while (pb_next(&rep)) {
				if (rep.field == 1)
					mine = (int64_t)rep.v == id;
				else if (rep.field == 2) {
					struct pb res;
					pb_sub(&rep, &res);
					parse_result(&res, &r);
				}
			}
		}
		if (!mine) {
			reply_free(&r);
			continue;
		}
		int want = r.npassed;
		r.npassed = 0;
		while (c->nfds < want && c->nfds < MAX_PASSED)
			if (read_more(c) < 0)
				break;
		for (int i = 0; i < want && i < c->nfds; i++)
			r.passed[r.npassed++] = c->fds[i];
		memmove(c->fds, c->fds + r.npassed, sizeof(int) * (size_t)(c->nfds - r.npassed));
		c->nfds -= r.npassed;
		*out = r;
		return 0;
	}
}

/* --- hello --- */

static void hello_message(struct buf *out, const char *name, const struct buf *shim)
{
	struct buf h;
	buf_init(&h);
	pb_varint(&h, 1, 1);
	pb_string(&h, 2, name);
	if (token[0])
		pb_string(&h, 3, token);
	pb_message(&h, 10, shim);
	buf_init(out);
	pb_message(out, 1, &h);
	buf_free(&h);
}

/* Reads the Welcome: the process's name and, on the main connection, what the shim needs. */
static int read_welcome(struct conn *c, bool main)
{
	struct buf f;
	if (read_frame(c, &f) < 0)
		return -1;
	struct pb msg;
	pb_begin(&msg, f.data, f.len);
	int ok = -1;
	while (pb_next(&msg)) {
		if (msg.field == 3) {
			struct pb ref;
			pb_sub(&msg, &ref);
			while (pb_next(&ref))
				if (ref.field == 1)
					shim_warn("the server refused %s: %.*s", shim_name, (int)ref.n, ref.bytes);
			errno = EPERM;
			break;
		}
		if (msg.field != 1)
			continue;
		struct pb w;
		pb_sub(&msg, &w);
		while (pb_next(&w)) {
			if (w.field == 3 && main) {
				shim_seeded = w.n == 6 && memcmp(w.bytes, "seeded", 6) == 0;
			} else if (w.field == 2 && main) {
				size_t n = w.n < sizeof shim_name - 1 ? w.n : sizeof shim_name - 1;
				memcpy(shim_name, w.bytes, n);
				shim_name[n] = 0;
			} else if (w.field == 10 && main) {
				struct pb s;
				pb_sub(&w, &s);
				shim_nfd_fields = 0;
				while (pb_next(&s)) {
					if (s.field == 1 && s.n < sizeof shim_anchors) {
						memcpy(shim_anchors, s.bytes, s.n);
						shim_anchors[s.n] = 0;
					} else if (s.field == 4 && s.n < sizeof shim_root) {
						memcpy(shim_root, s.bytes, s.n);
						shim_root[s.n] = 0;
					} else if (s.field == 2 && shim_nfd_fields < 16) {
						struct pb ff;
						pb_sub(&s, &ff);
						struct fd_field *x = &shim_fd_fields[shim_nfd_fields++];
						/* proto3 leaves zeros out: a missing field reads 0 */
						x->request = 0;
						x->in = x->out = x->flags = 0;
						while (pb_next(&ff)) {
							if (ff.field == 1)
								x->request = (uint32_t)ff.v;
							else if (ff.field == 2)
								x->in = (int)(int64_t)ff.v;
							else if (ff.field == 3)
								x->out = (int)(int64_t)ff.v;
							else if (ff.field == 4)
								x->flags = (int)(int64_t)ff.v;
						}
					}
				}
			}
		}
		ok = 0;
	}
	buf_free(&f);
	return ok;
}

int shim_sockaddr(struct sockaddr_un *a, const char *path)
{
	size_t n = strlen(path);
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (n >= sizeof a->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a->sun_path, path, n + 1);
	return 0;
}

static int connect_socket(const char *path)
{
	struct sockaddr_un a;
	if (shim_sockaddr(&a, path) < 0)
		return -1;
	int fd = (int)raw(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	long r;
	do {
		r = raw(SYS_connect, fd, &a, sizeof a);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		raw_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Connects c as thread `index` with the ShimHello `shim`; the main connection reads the Welcome's settings. */
static int connect_as(struct conn *c, int index, const struct buf *shim)
{
	int fd = connect_socket(socket_path);
	if (fd < 0)
		return -1;
	fd = move_high(fd);
	c->fd = fd;
	c->index = index;
	c->next_id = 1;
	buf_init(&c->in);
	c->nfds = 0;
	struct buf hello;
	hello_message(&hello, shim_name, shim);
	int r = send_frame(fd, &hello);
	buf_free(&hello);
	if (r == 0)
		r = read_welcome(c, index == 0);
	if (r < 0) {
		int e = errno;
		raw_close(fd);
		c->fd = -1;
		errno = e;
		return -1;
	}
	own(fd);
	return 0;
}

static void conn_gone(void *p)
{
	struct conn *c = p;
	if (c->fd >= 0 && shim_seeded && c->index > 0) {
		/* a seeded run: the thread's end has its place in its sequence of calls */
		struct buf te, m;
		buf_init(&te);
		pb_varint(&te, 1, (uint64_t)c->index);
		buf_init(&m);
		pb_message(&m, 7, &te);
		send_frame(c->fd, &m);
		buf_free(&te);
		buf_free(&m);
	}
	if (c->fd >= 0) {
		disown(c->fd);
		raw_close(c->fd);
		c->fd = -1;
	}
	buf_free(&c->in);
}

int shim_thread_index(void)
{
	if (tconn.index == 0 && syscall(SYS_gettid) != getpid()) {
		shim_lock();
		tconn.index = next_index++;
		shim_unlock();
	}
	return tconn.index;
}

/* Sets the index of a thread made by pthread_create (proc.c). */
void shim_set_thread_index(int index);
void shim_set_thread_index(int index)
{
	tconn.index = index;
	tconn.fd = -1;
}

int shim_next_thread_index(void);
int shim_next_thread_index(void)
{
	shim_lock();
	int i = next_index++;
	shim_unlock();
	return i;
}

/* This thread's connection, made if need be. */
static struct conn *thread_conn(void)
{
	if (tconn.fd >= 0)
		return &tconn;
	int index = shim_thread_index();
	struct buf s;
	buf_init(&s);
	pb_varint(&s, 1, (uint64_t)index);
	int r = connect_as(&tconn, index, &s);
	buf_free(&s);
	if (r < 0)
		return NULL;
	pthread_setspecific(conn_key, &tconn);
	return &tconn;
}

/* --- calls --- */

int shim_connect_thread(void)
{
	return thread_conn() ? 0 : -1;
}

int shim_send_message(int field, const struct buf *msg)
{
	struct conn *c = thread_conn();
	if (!c)
		return -1;
	struct buf m;
	buf_init(&m);
	pb_message(&m, field, msg);
	int r = send_frame(c->fd, &m);
	buf_free(&m);
	return r;
}

static void request_message(struct buf *out, int64_t id, int index, const struct buf *call)
{
	struct buf req;
	buf_init(&req);
	pb_varint(&req, 1, (uint64_t)index);
	pb_varint(&req, 2, (uint64_t)id);
	pb_message(&req, 3, call);
	buf_init(out);
	pb_message(out, 2, &req);
	buf_free(&req);
}

int shim_send(const struct buf *call, int64_t *request_id)
{
	struct conn *c = thread_conn();
	if (!c)
		return -1;
	int64_t id = c->next_id++;
	struct buf m;
	request_message(&m, id, c->index, call);
	int r = send_frame(c->fd, &m);
	buf_free(&m);
	*request_id = id;
	return r;
}

int shim_receive(int64_t request_id, struct reply *out)
{
	if (tconn.fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	return receive_on(&tconn, request_id, out);
}

int shim_cancel(int64_t request_id)
{
	if (tconn.fd < 0)
		return -1;
	struct buf c, m;
	buf_init(&c);
	pb_varint(&c, 1, (uint64_t)request_id);
	buf_init(&m);
	pb_message(&m, 20, &c);
	int r = send_frame(tconn.fd, &m);
	buf_free(&c);
	buf_free(&m);
	return r;
}

int shim_call(const struct buf *call, struct reply *out)
{
	if (tconn.busy) {
		/* a signal handler calls while this thread waits: a connection of its own for it */
		struct conn saved = tconn;
		tconn.fd = -1;
		tconn.busy = false;
		tconn.index = shim_next_thread_index();
		int r = shim_call(call, out);
		conn_gone(&tconn);
		tconn = saved;
		return r;
	}
	tconn.busy = true;
	int64_t id;
	int r = shim_send(call, &id);
	if (r == 0)
		r = shim_receive(id, out);
	tconn.busy = false;
	if (r < 0 && errno != EINTR)
		shim_warn("lost the server (%s) during a call of %s", strerror(errno), shim_name);
	if (r == 0 && out->err && debug)
		shim_warn("%s: call %d: errno %d: %s", shim_name, call->len ? call->data[0] >> 3 : 0, out->err,
			  out->message ? out->message : "");
	return r;
}

void call_begin(struct buf *call)
{
	buf_init(call);
}

void call_field(struct buf *call, int field, const struct buf *msg)
{
	pb_message(call, field, msg);
}

static void fileref_message(struct buf *m, const struct fileref *ref)
{
	buf_init(m);
	pb_int(m, 1, ref->fd);
	if (ref->ino)
		pb_varint(m, 2, ref->ino);
	if (ref->kind)
		pb_varint(m, 3, (uint64_t)ref->kind);
}

void call_files(struct buf *call, const struct fileref *refs, int n)
{
	for (int i = 0; i < n; i++) {
		struct buf m;
		fileref_message(&m, &refs[i]);
		pb_message(call, 60, &m);
		buf_free(&m);
	}
}

/* A call of field with msg (freed here), naming the n files of refs; the reply zeroed first. */
static int call_naming(int field, struct buf *msg, const struct fileref *refs, int n, struct reply *out)
{
	struct buf call;
	memset(out, 0, sizeof *out);
	call_begin(&call);
	call_field(&call, field, msg);
	call_files(&call, refs, n);
	int rc = shim_call(&call, out);
	buf_free(msg);
	buf_free(&call);
	return rc;
}

int shim_call_simple(int field, struct buf *msg, struct reply *out)
{
	return call_naming(field, msg, NULL, 0, out);
}

int shim_call_on(int field, struct buf *msg, int fd, uint64_t ino, struct reply *out)
{
	struct fileref ref = { fd, ino, REF_EMULATED };
	return call_naming(field, msg, &ref, 1, out);
}

void call_new_file(struct buf *call, const struct fileref *ref)
{
	struct buf m;
	fileref_message(&m, ref);
	pb_message(call, 61, &m);
	buf_free(&m);
}

/* --- process start --- */

/* The process's name from the program's own: letters, digits and '_', starting with a letter. */
static void name_from_program(char *out, size_t n)
{
	char comm[64] = "program";
	int fd = (int)raw(SYS_open, "/proc/self/comm", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t k = raw_read(fd, comm, sizeof comm - 1);
		raw_close(fd);
		if (k > 0) {
			comm[k] = 0;
			char *nl = strchr(comm, '\n');
			if (nl)
				*nl = 0;
		}
	}
	size_t j = 0;
	if (!((comm[0] >= 'a' && comm[0] <= 'z') || (comm[0] >= 'A' && comm[0] <= 'Z')))
		out[j++] = 'p';
	for (size_t i = 0; comm[i] && j < n - 1 && j < 40; i++) {
		char ch = comm[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
		out[j++] = ok ? ch : '_';
	}
	out[j] = 0;
}

static void fail_start(const char *why)
{
	shim_warn("%s: cannot reach the gemulator server at %s (%s); is `gemulator serve --socket %s` running?",
		  shim_name, socket_path, why, socket_path);
	_exit(127);
}

/* Connects the main connection with a ShimHello and takes the Welcome's name. */
static void start_main(const struct buf *shim)
{
	if (connect_as(&tconn, 0, shim) < 0)
		fail_start(strerror(errno));
	pthread_setspecific(conn_key, &tconn);
	shim_active = true;
	setenv("GEMULATOR_PROC", shim_name, 1);
	unsetenv("GEMULATOR_EXEC_PID");
}

void shim_after_fork_child(const char *name, int64_t forktoken)
{
	/* the parent's connections are the parent's: close this process's copies */
	for (int i = 0; i < nown; i++)
		raw_close(own_fds[i]);
	nown = 0;
	buf_free(&tconn.in);
	tconn.fd = -1;
	tconn.index = 0;
	tconn.busy = false;
	next_index = 1;
	pthread_mutex_init(&lock, NULL);
	snprintf(shim_name, sizeof shim_name, "%s", name);
	struct buf s;
	buf_init(&s);
	pb_varint(&s, 2, (uint64_t)forktoken);
	start_main(&s);
	buf_free(&s);
}

__attribute__((constructor)) static void shim_start(void)
{
	const char *sock = getenv("GEMULATOR_SOCKET");
	if (!sock || !*sock)
		return;
	pthread_key_create(&conn_key, conn_gone);
	debug = getenv("GEMULATOR_SHIM_DEBUG") != NULL;
	snprintf(socket_path, sizeof socket_path, "%s", sock);
	const char *t = getenv("GEMULATOR_TOKEN");
	snprintf(token, sizeof token, "%s", t ? t : "");
	const char *proc = getenv("GEMULATOR_PROC");
	const char *exec_pid = getenv("GEMULATOR_EXEC_PID");
	struct buf s;
	buf_init(&s);
	if (proc && *proc && exec_pid && atol(exec_pid) == getpid()) {
		/* the new program of a process that announced its exec */
		snprintf(shim_name, sizeof shim_name, "%s", proc);
		pb_varint(&s, 3, 1);
	} else if (proc && *proc) {
		/* started by a process of the device without fork (posix_spawn, or fork behind our back) */
		name_from_program(shim_name, sizeof shim_name);
		pb_string(&s, 4, proc);
	} else {
		const char *n = getenv("GEMULATOR_NAME");
		if (!n || !*n)
			n = getenv("GEMULATOR_PROCESS"); /* gemulator race names its programs A, B, ... */
		if (n && *n)
			snprintf(shim_name, sizeof shim_name, "%s", n);
		else
			name_from_program(shim_name, sizeof shim_name);
	}
	start_main(&s);
	buf_free(&s);
	shim_vfs_init();
	if (shim_seeded) {
		void shim_exit_hooks(void);
		shim_exit_hooks();
	}
}
