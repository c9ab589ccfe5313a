/*
 * Processes and threads as the device sees them.
 *
 * fork: the parent asks the server first (Fork), which makes the child
 * process (sharing the open files, with copies of the mappings; named after
 * the parent: "A_1", "A_2" in the order the parent forks) and a token; the
 * child's first connection presents the token; the parent then says how
 * fork went (ForkDone). vfork is fork here.
 *
 * exec: the process announces it (ExecStart) and passes its name in the
 * environment (GEMULATOR_PROC, GEMULATOR_EXEC_PID, and LD_PRELOAD with this
 * library); the new program's first connection continues the process
 * (Hello with exec): the server drops the old mappings and closes what
 * close-on-exec closed. If execve fails, the process says so.
 *
 * Threads made by pthread_create get indexes in creation order (1, 2, ...):
 * their connections, made on first use, are "A.t1", "A.t2".
 *
 * setuid and friends: the server reads the credentials again from the real
 * kernel. wait and friends: a reaped child's exit is finished on the server
 * before the parent goes on, as the real kernel finished it.
 */
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
void shim_set_thread_index(int index);
int shim_next_thread_index(void);

#define REAL(ret, name, args)                                                                                  \
	static ret(*real_##name) args;                                                                         \
	if (!real_##name)                                                                                      \
		real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name);

/* --- fork --- */

EXPORT pid_t fork(void)
{
	REAL(pid_t, fork, (void));
	if (!shim_active)
		return real_fork();
	struct buf m;
	buf_init(&m);
	struct reply r;
	if (shim_call_simple(SC_FORK, &m, &r) < 0 || r.err || !r.text || r.nvalues < 1) {
		int err = r.err ? r.err : EAGAIN;
		if (r.message)
			shim_warn("fork: %s", r.message);
		reply_free(&r);
		errno = err;
		return -1;
	}
	char child[80];
	snprintf(child, sizeof child, "%s", r.text);
	int64_t token = r.values[0];
	reply_free(&r);
	shim_lock();
	pid_t pid = real_fork();
	int err = errno;
	shim_unlock();
	if (pid == 0) {
		shim_after_fork_child(child, token);
		return 0;
	}
	buf_init(&m);
	pb_int(&m, 1, token);
	pb_int(&m, 2, pid < 0 ? -1 : pid);
	if (shim_call_simple(SC_FORK_DONE, &m, &r) == 0)
		reply_free(&r);
	errno = err;
	return pid;
}

EXPORT pid_t vfork(void)
{
	return fork();
}

/* --- exec --- */

/* This library's path, for LD_PRELOAD of the new program. */
static const char *self_path(void)
{
	static char path[512];
	if (!path[0]) {
		Dl_info info;
		if (dladdr((void *)self_path, &info) && info.dli_fname)
			snprintf(path, sizeof path, "%s", info.dli_fname);
	}
	return path;
}

/*
 * envp with what the new program needs to continue this process: the
 * socket, the token, the process's name and pid, this library in LD_PRELOAD.
 */
static char **exec_env(char *const envp[], bool exec)
{
	int n = 0;
	while (envp && envp[n])
		n++;
	char **out = malloc(sizeof(char *) * (size_t)(n + 8));
	int k = 0;
	const char *drop[] = { "GEMULATOR_SOCKET=", "GEMULATOR_TOKEN=", "GEMULATOR_PROC=", "GEMULATOR_EXEC_PID=",
			       "LD_PRELOAD=" };
	const char *preload = NULL;
	for (int i = 0; i < n; i++) {
		bool skip = false;
		for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++)
			skip |= strncmp(envp[i], drop[d], strlen(drop[d])) == 0;
		if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0)
			preload = envp[i] + 11;
		if (!skip)
			out[k++] = envp[i];
	}
	static char sock[300], tok[160], proc[100], pid[40], ld[2048];
	const char *s = getenv("GEMULATOR_SOCKET"), *t = getenv("GEMULATOR_TOKEN");
	snprintf(sock, sizeof sock, "GEMULATOR_SOCKET=%s", s ? s : "");
	out[k++] = sock;
	if (t) {
		snprintf(tok, sizeof tok, "GEMULATOR_TOKEN=%s", t);
		out[k++] = tok;
	}
	snprintf(proc, sizeof proc, "GEMULATOR_PROC=%s", shim_name);
	out[k++] = proc;
	if (exec) {
		snprintf(pid, sizeof pid, "GEMULATOR_EXEC_PID=%d", getpid());
		out[k++] = pid;
	}
	const char *me = self_path();
	if (preload && strstr(preload, me))
		snprintf(ld, sizeof ld, "LD_PRELOAD=%s", preload);
	else if (preload && *preload)
		snprintf(ld, sizeof ld, "LD_PRELOAD=%s:%s", me, preload);
	else
		snprintf(ld, sizeof ld, "LD_PRELOAD=%s", me);
	out[k++] = ld;
	out[k] = NULL;
	return out;
}

/* Announces an exec (or that it failed); a seeded server may refuse one: its errno, else 0. */
static int exec_start(bool failed)
{
	struct buf m;
	buf_init(&m);
	if (failed)
		pb_varint(&m, 1, 1);
	struct reply r;
	int err = 0;
	if (shim_call_simple(SC_EXEC_START, &m, &r) == 0) {
		if (r.err && shim_seeded && !failed) {
			err = r.err;
			shim_warn("exec refused: %s", r.message ? r.message : "by the seeded server");
		}
		reply_free(&r);
	}
	return err;
}

/*
 * A seeded run: posix_spawn without file actions or attributes is a fork and
 * an exec in the child, which is named like a forked child (A_k). An exec
 * that fails ends the child with status 127 (as POSIX allows): waiting for
 * the child's exec in user space would hold the run, which the child needs.
 * With file actions or attributes it is refused in one line (ENOSYS).
 */
static int seeded_spawn(pid_t *pid, const char *file, bool search, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (fa || attr) {
		shim_warn("posix_spawn with file actions or attributes is not part of a seeded run yet (%s): "
			  "fork and exec instead", shim_name);
		return ENOSYS;
	}
	pid_t child = fork();
	if (child < 0)
		return errno;
	if (child == 0) {
		if (search)
			execvpe(file, argv, envp ? envp : environ);
		else
			execve(file, argv, envp ? envp : environ);
		_exit(127);
	}
	if (pid)
		*pid = child;
	return 0;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	REAL(int, execve, (const char *, char *const[], char *const[]));
	if (!shim_active)
		return real_execve(path, argv, envp);
	char **env = exec_env(envp, true);
	int refused = exec_start(false);
	if (refused) {
		free(env);
		errno = refused;
		return -1;
	}
	int r = real_execve(path, argv, env);
	int err = errno;
	free(env);
	exec_start(true);
	errno = err;
	return r;
}


EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	REAL(int, execvpe, (const char *, char *const[], char *const[]));
	if (!shim_active)
		return real_execvpe(file, argv, envp);
	char **env = exec_env(envp, true);
	int refused = exec_start(false);
	if (refused) {
		free(env);
		errno = refused;
		return -1;
	}
	int r = real_execvpe(file, argv, env);
	int err = errno;
	free(env);
	exec_start(true);
	errno = err;
	return r;
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/*
 * The argument list of the execl family, up to its NULL, into argv (room for
 * EXECL_MAX pointers and the NULL). A longer list is read to its end, so
 * execle still finds envp after it, and refused with E2BIG.
 */
#define EXECL_MAX 255

static int execl_argv(char **argv, const char *arg, va_list *ap)
{
	int n = 0;
	char *a = (char *)arg;
	while (a) {
		if (n < EXECL_MAX)
			argv[n] = a;
		n++;
		a = va_arg(*ap, char *);
	}
	argv[n < EXECL_MAX ? n : EXECL_MAX] = NULL;
	if (n > EXECL_MAX) {
		errno = E2BIG;
		return -1;
	}
	return 0;
}

EXPORT int execl(const char *path, const char *arg, ...)
{
	char *argv[EXECL_MAX + 1];
	va_list ap;
	va_start(ap, arg);
	int r = execl_argv(argv, arg, &ap);
	va_end(ap);
	return r < 0 ? -1 : execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *argv[EXECL_MAX + 1];
	va_list ap;
	va_start(ap, arg);
	int r = execl_argv(argv, arg, &ap);
	va_end(ap);
	return r < 0 ? -1 : execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	char *argv[EXECL_MAX + 1];
	va_list ap;
	va_start(ap, arg);
	int r = execl_argv(argv, arg, &ap);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return r < 0 ? -1 : execve(path, argv, envp);
}

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	REAL(int, posix_spawn, (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
				char *const[], char *const[]));
	if (!shim_active)
		return real_posix_spawn(pid, path, fa, attr, argv, envp);
	if (shim_seeded)
		return seeded_spawn(pid, path, false, fa, attr, argv, envp);
	char **env = exec_env(envp, false);
	int r = real_posix_spawn(pid, path, fa, attr, argv, env);
	free(env);
	return r;
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	REAL(int, posix_spawnp, (pid_t *, const char *, const posix_spawn_file_actions_t *,
				 const posix_spawnattr_t *, char *const[], char *const[]));
	if (!shim_active)
		return real_posix_spawnp(pid, file, fa, attr, argv, envp);
	if (shim_seeded)
		return seeded_spawn(pid, file, true, fa, attr, argv, envp);
	char **env = exec_env(envp, false);
	int r = real_posix_spawnp(pid, file, fa, attr, argv, env);
	free(env);
	return r;
}

/* --- wait --- */

static void reaped(pid_t pid, int status, bool have_status)
{
	if (!shim_active || pid <= 0 || (have_status && !WIFEXITED(status) && !WIFSIGNALED(status)))
		return;
	struct buf m;
	buf_init(&m);
	pb_int(&m, 1, pid);
	struct reply r;
	if (shim_call_simple(SC_REAP, &m, &r) == 0)
		reply_free(&r);
}

/* A seeded run: the wait happens in the kernel first, so that the real wait4 never holds the run. */
static void wait_in_kernel(pid_t pid, int options)
{
	if (!shim_active || !shim_seeded)
		return;
	struct buf m;
	buf_init(&m);
	pb_int(&m, 1, pid);
	pb_int(&m, 2, options);
	struct reply r;
	if (shim_call_simple(SC_WAIT_CHILD, &m, &r) == 0)
		reply_free(&r);
}

EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	int st = 0;
	wait_in_kernel(pid, options);
	pid_t r = (pid_t)raw(SYS_wait4, pid, &st, options, ru);
	int err = errno;
	if (status)
		*status = st;
	reaped(r, st, true);
	errno = err;
	return r;
}

EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	return wait4(pid, status, options, NULL);
}

EXPORT pid_t wait(int *status)
{
	return wait4(-1, status, 0, NULL);
}

EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	return wait4(-1, status, options, ru);
}

EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	if (!(options & WNOWAIT))
		wait_in_kernel(type == P_PID ? (pid_t)id : -1, options & WNOHANG);
	int r = (int)raw(SYS_waitid, type, id, info, options, NULL);
	int err = errno;
	if (r == 0 && info && !(options & WNOWAIT)
	    && (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED))
		reaped(info->si_pid, 0, false);
	errno = err;
	return r;
}

/* --- credentials --- */

static void credentials_changed(void)
{
	if (!shim_active)
		return;
	struct buf m;
	buf_init(&m);
	struct reply r;
	if (shim_call_simple(SC_CREDENTIALS, &m, &r) == 0)
		reply_free(&r);
}

#define CREDS(name, params, args)                                                                              \
	EXPORT int name params                                                                                 \
	{                                                                                                      \
		REAL(int, name, params);                                                                       \
		int rc_ = real_##name args;                                                                    \
		int err_ = errno;                                                                              \
		if (rc_ == 0)                                                                                  \
			credentials_changed();                                                                 \
		errno = err_;                                                                                  \
		return rc_;                                                                                    \
	}

CREDS(setuid, (uid_t uid), (uid))
CREDS(setgid, (gid_t gid), (gid))
CREDS(seteuid, (uid_t uid), (uid))
CREDS(setegid, (gid_t gid), (gid))
CREDS(setreuid, (uid_t ru, uid_t eu), (ru, eu))
CREDS(setregid, (gid_t rg, gid_t eg), (rg, eg))
CREDS(setresuid, (uid_t ru, uid_t eu, uid_t su), (ru, eu, su))
CREDS(setresgid, (gid_t rg, gid_t eg, gid_t sg), (rg, eg, sg))

/* --- threads --- */

struct start {
	void *(*fn)(void *);
	void *arg;
	int index;
};

static void *trampoline(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	shim_set_thread_index(s.index);
	if (shim_seeded)
		shim_connect_thread(); /* announced by its parent: the run waits for it, even if it never calls */
	return s.fn(s.arg);
}

/* Threads and their indexes, for pthread_join's Join (seeded runs). */
static struct {
	pthread_t t;
	int index;
} started[1024];
static int nstarted;

static int index_of(pthread_t t)
{
	int index = -1;
	shim_lock();
	for (int i = 0; i < nstarted; i++)
		if (pthread_equal(started[i].t, t))
			index = started[i].index;
	shim_unlock();
	return index;
}

EXPORT int pthread_join(pthread_t t, void **ret)
{
	REAL(int, pthread_join, (pthread_t, void **));
	int index = shim_active && shim_seeded ? index_of(t) : -1;
	if (index > 0) {
		/* the wait happens in the kernel first, so that the real join never holds the run */
		struct buf m;
		buf_init(&m);
		pb_int(&m, 1, index);
		struct reply r;
		if (shim_call_simple(SC_JOIN, &m, &r) == 0)
			reply_free(&r);
	}
	return real_pthread_join(t, ret);
}

/* --- exit (seeded runs: the status, at its place in the main thread's calls) --- */

static void send_exit(int status)
{
	static bool sent;
	if (!shim_active || !shim_seeded || sent)
		return;
	sent = true;
	struct buf e, call;
	buf_init(&e);
	pb_int(&e, 1, status);
	call_begin(&call);
	call_field(&call, SC_EXIT, &e);
	int64_t id;
	/* no reply is waited for: the server ends the process once the real one is dead */
	shim_send(&call, &id);
	buf_free(&call);
	buf_free(&e);
}

static void on_exit_handler(int status, void *arg)
{
	(void)arg;
	send_exit(status);
}

void shim_exit_hooks(void);
void shim_exit_hooks(void)
{
	on_exit(on_exit_handler, NULL);
}

EXPORT void _exit(int status)
{
	send_exit(status);
	raw(SYS_exit_group, status);
	for (;;)
		;
}

EXPORT void _Exit(int status)
{
	_exit(status);
}

EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	REAL(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *));
	if (!shim_active)
		return real_pthread_create(t, attr, fn, arg);
	struct start *s = malloc(sizeof *s);
	if (!s)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	s->index = shim_next_thread_index();
	int index = s->index;
	if (shim_seeded) {
		/* announced by the parent, in its own sequence of calls, before the thread runs */
		struct buf ts;
		buf_init(&ts);
		pb_int(&ts, 1, index);
		pb_int(&ts, 20, shim_thread_index());
		pb_varint(&ts, 21, 1);
		shim_send_message(6, &ts);
		buf_free(&ts);
	}
	int r = real_pthread_create(t, attr, trampoline, s);
	if (r != 0) {
		free(s);
		if (shim_seeded) {
			/* the announced thread never runs: the run forgets it (it ends at once, in the run's order) */
			struct buf ts;
			buf_init(&ts);
			pb_int(&ts, 1, index);
			pb_int(&ts, 20, shim_thread_index());
			pb_varint(&ts, 21, 1);
			pb_varint(&ts, 22, 1);
			shim_send_message(6, &ts);
			buf_free(&ts);
		}
		return r;
	}
	if (shim_seeded) {
		shim_lock();
		if (nstarted < (int)(sizeof started / sizeof started[0])) {
			started[nstarted].t = *t;
			started[nstarted].index = index;
			nstarted++;
		}
		shim_unlock();
	}
	return r;
}
