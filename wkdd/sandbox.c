/*
 * sandbox.c: once wkdd listens, has opened its store and has become its
 * user, and before any thread is started, it restricts itself for good:
 *
 * - Landlock (raw system calls, the best ABI the kernel offers): nothing
 *   of the file system is readable or writable but what sandbox_rules[]
 *   names, built from the configuration: the store read-only but for its
 *   lock file, www and acme-webroot read-only, the directories of the
 *   certificate, key, ticket key and configuration file read-only (SIGHUP
 *   reads them again, and certbot's renewals are new files there), the
 *   access log's directory to append and create, the pidfile's to remove
 *   it, tlsrpt-spool's to write TLS reports in.  No TCP bind or connect
 *   (ABI 4: the sockets are bound already); no signals or abstract
 *   sockets out of the sandbox (ABI 6).  Without Landlock, one line is
 *   logged and seccomp still applies.
 * - seccomp (libseccomp): an allow-list of the system calls the daemon
 *   makes from here on, measured with strace -f over the test suite;
 *   any other kills the process (SCMP_ACT_KILL_PROCESS).  A fork, or a
 *   socket that isn't AF_UNIX (syslog, sd_notify), fails with EPERM.
 *
 * A build with WKDD_TEST_HOOKS (wkdd-test, for tests/integ/t_sandbox.sh,
 * never installed) has sandbox_test_hook(): what it may no longer do,
 * tried and logged.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wkdd.h"

/* What linux/landlock.h of an older kernel lacks (ABI 3 to 6). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)	/* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#endif
#define SB_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define SB_NET_CONNECT_TCP	(1ULL << 1)
#define SB_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define SB_SCOPE_SIGNAL		(1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix. */
struct sb_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;
	uint64_t	scoped;
};

/* Rights, by what they are for. */
#define SB_RO		(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_READ_DIR)
#define SB_LOCK		(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_TRUNCATE)
#define SB_RW		(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_WRITE_FILE)
#define SB_APPEND	(LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_MAKE_REG)
#define SB_UNLINK	LANDLOCK_ACCESS_FS_REMOVE_FILE
/*
 * A spool directory wkdd writes files into (a temporary file, fsync'ed,
 * renamed), lists (a bound on its files), and never reads.
 */
#define SB_SPOOL	(LANDLOCK_ACCESS_FS_READ_DIR | \
			 LANDLOCK_ACCESS_FS_MAKE_REG | \
			 LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_REMOVE_FILE | \
			 LANDLOCK_ACCESS_FS_REFER | \
			 LANDLOCK_ACCESS_FS_TRUNCATE)
/* The rights a rule on a file (not a directory) may have. */
#define SB_FILE_RIGHTS	(LANDLOCK_ACCESS_FS_EXECUTE | \
			 LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_TRUNCATE | \
			 LANDLOCK_ACCESS_FS_IOCTL_DEV)

enum sb_where {
	SB_SELF,	/* The path itself, file or directory. */
	SB_DIR,		/* Its directory (and its target's, if a link). */
	SB_LOCKFILE	/* PATH/lock.mdb (the store's). */
};

/*
 * Every place wkdd may reach once sandboxed: a path of struct conf
 * (off), which part of it, with what rights.  An unset path adds
 * nothing.  A new directory wkdd needs is one line here.
 */
static const struct sandbox_rule {
	const char	*what;		/* Directive, for the log. */
	size_t		 off;		/* Of a char[PATH_MAX] in conf. */
	enum sb_where	 where;
	uint64_t	 access;
} sandbox_rules[] = {
	{ "store", offsetof(struct conf, store), SB_SELF, SB_RO },
	{ "store", offsetof(struct conf, store), SB_LOCKFILE, SB_LOCK },
	{ "www", offsetof(struct conf, www), SB_SELF, SB_RO },
	{ "acme-webroot", offsetof(struct conf, acme_webroot), SB_SELF,
	    SB_RO },
	{ "tls-cert", offsetof(struct conf, tls_cert), SB_DIR, SB_RO },
	{ "tls-key", offsetof(struct conf, tls_key), SB_DIR, SB_RO },
	{ "tls-dir", offsetof(struct conf, tls_dir), SB_SELF, SB_RO },
	{ "tls-ticket-key", offsetof(struct conf, tls_ticket_key), SB_DIR,
	    SB_RO },
	{ "configuration", offsetof(struct conf, path), SB_DIR, SB_RO },
	{ "access-log", offsetof(struct conf, access_log), SB_DIR,
	    SB_APPEND },
	{ "pidfile", offsetof(struct conf, pidfile), SB_DIR, SB_UNLINK },
	{ "tlsrpt-spool", offsetof(struct conf, tlsrpt_spool), SB_SELF,
	    SB_SPOOL },
};

/* Beyond the configuration: ready() sends stderr to /dev/null. */
static const char *const sandbox_fixed[] = {
	"/dev/null",
};

/*
 * The system calls wkdd makes once sandboxed, measured with strace -f over
 * the test suite's runs (from the seccomp(2) call on, every thread): serving
 * (epoll, accept4, recvfrom, sendmsg; TLS needs nothing more), LMDB (its lock
 * file, a resized map, a replaced store reopened: pread64, fstatfs, uname,
 * fcntl locks), SIGHUP's reload (files opened and read, tls-dir listed, the
 * access log reopened with dup2), logging (syslog's AF_UNIX socket: connect,
 * sendto; without a daemon, access(2) on /dev/log once a second: seen by make
 * bench, which runs wkdd as shipped), MHD's threads started and stopped, the
 * pidfile removed, sd_notify (getuid: seen under t_deb's NOTIFY_SOCKET, by
 * the kernel's audit line of a kill).  Not seen but kept: restart_syscall (a
 * stopped and continued process), rt_sigreturn, tgkill and gettid (abort()),
 * mremap (realloc), clock_nanosleep, sched_yield; the TLS report spool's
 * (report.c) fchmod, fsync, renameat, unlinkat.  clone, clone3, socket,
 * prctl and sched_setaffinity (http_start() pinning its threads: the
 * caller's own affinity only) are allowed by argument below.
 */
static const char *const sandbox_calls[] = {
	/* Memory. */
	"brk", "mmap", "munmap", "mprotect", "madvise", "mremap",
	/* Threads, time, randomness. */
	"futex", "set_robust_list", "rseq", "sched_yield", "gettid",
	"sched_getaffinity", "getpid", "tgkill", "exit", "exit_group",
	"clock_nanosleep", "nanosleep", "getrandom", "restart_syscall",
	/* Signals: sigtimedwait() in main, masks in the threads. */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
	/* Files: the store, reload, logs, the pidfile; the spool. */
	"openat", "close", "read", "write", "pread64", "lseek", "fstat",
	"newfstatat", "fstatfs", "uname", "fcntl", "getdents64", "dup2",
	/* Ids: the pidfile's owner check; libsystemd's sd_notify (t_deb). */
	"getuid", "geteuid", "getgid", "getegid",
	"unlink", "unlinkat", "fsync", "fdatasync", "ftruncate", "fchmod",
	"rename", "renameat", "renameat2",
	/* The network: what is open already, and AF_UNIX sockets. */
	"poll", "epoll_create1", "epoll_ctl", "epoll_wait", "eventfd2",
	"accept4", "recvfrom", "sendto", "sendmsg", "shutdown", "setsockopt",
	"getsockopt", "getsockname", "connect",
	/* log.c: without a syslog daemon, /dev/log looked for once a second. */
	"access", "faccessat", "faccessat2",
#ifdef WKDD_SANITIZER
	/*
	 * ASan, UBSan and LSan: reports (sigaltstack, prctl, /proc read
	 * with open and readlink) and the leak check at exit, which stops
	 * the threads from a tracer (clone without CLONE_THREAD, ptrace).
	 */
	"sigaltstack", "ptrace", "wait4", "waitid", "sched_setaffinity",
	"getppid", "getrlimit", "prlimit64",
	"setrlimit", "open", "stat", "lstat", "readlink", "readlinkat",
	"kill", "getpgrp",
	"gettimeofday", "dup", "dup3",
	"writev", "readv", "process_vm_readv", "statx", "getdents",
#endif
};

static int	landlock_on(const struct conf *, int *abi, size_t *nrules);
static int	landlock_add(int fd, const char *what, const char *path,
		    uint64_t access, uint64_t handled);
static int	landlock_add_dir(int fd, const char *what, const char *path,
		    uint64_t access, uint64_t handled);
static int	seccomp_on(int *ncalls);

/*
 * A rule for path (an O_PATH descriptor: the inode it names) with what
 * of access the ruleset handles, and only file rights for a file.  A
 * path that doesn't exist adds nothing (logged with -v).  0, or -1 with
 * errno set.
 */
static int
landlock_add(int ruleset, const char *what, const char *path,
    uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr	 pb;
	struct stat				 st;
	int					 fd, e;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		log_debug("sandbox: %s %s: %s, no rule", what, path,
		    strerror(errno));
		return (0);
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		(void)close(fd);
		errno = e;
		return (-1);
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access & handled;
	if (!S_ISDIR(st.st_mode))
		pb.allowed_access &= SB_FILE_RIGHTS;
	pb.parent_fd = fd;
	if (pb.allowed_access != 0 && syscall(SYS_landlock_add_rule,
	    ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1) {
		e = errno;
		(void)close(fd);
		errno = e;
		return (-1);
	}
	log_debug("sandbox: %s %s: rights %#llx", what, path,
	    (unsigned long long)pb.allowed_access);
	(void)close(fd);
	return (0);
}

/*
 * path's directory; if path is a symbolic link (certbot's live/ files),
 * its target's directory too, where the renewed files appear.
 */
static int
landlock_add_dir(int ruleset, const char *what, const char *path,
    uint64_t access, uint64_t handled)
{
	char	 dir[PATH_MAX], real[PATH_MAX], *slash;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	slash[slash == dir ? 1 : 0] = '\0';
	if (landlock_add(ruleset, what, dir, access, handled) == -1)
		return (-1);
	if (realpath(path, real) == NULL || strcmp(real, path) == 0 ||
	    (slash = strrchr(real, '/')) == NULL)
		return (0);
	slash[slash == real ? 1 : 0] = '\0';
	if (strcmp(real, dir) == 0)
		return (0);
	return (landlock_add(ruleset, what, real, access, handled));
}

/*
 * The Landlock domain of sandbox_rules[] for conf.  0 with *abi the
 * kernel's ABI and *nrules the rules added; *abi 0 if the kernel has no
 * Landlock (nothing restricted, not an error); -1 with errno set on
 * error.
 */
static int
landlock_on(const struct conf *conf, int *abi, size_t *nrules)
{
	struct sb_ruleset_attr	 ra;
	char			 path[PATH_MAX];
	const char		*p, *ns;
	size_t			 i, asz;
	int			 fd, e;

	*nrules = 0;
	if ((*abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION)) < 1)
		*abi = 0;
#ifdef WKDD_TEST_HOOKS
	/* wkdd-test: an older kernel's ABI (0: none), for t_sandbox.sh. */
	if ((p = getenv("WKDD_TEST_LANDLOCK_ABI")) != NULL &&
	    strtol(p, NULL, 10) < *abi)
		*abi = (int)strtol(p, NULL, 10);
#endif
	if (*abi == 0)
		return (0);
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	asz = offsetof(struct sb_ruleset_attr, handled_access_net);
	if (*abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (*abi >= 3)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (*abi >= 4) {
		ra.handled_access_net = SB_NET_BIND_TCP | SB_NET_CONNECT_TCP;
		asz = offsetof(struct sb_ruleset_attr, scoped);
	}
	if (*abi >= 5)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (*abi >= 6) {
		ra.scoped = SB_SCOPE_SIGNAL;
		/* sd_notify to an abstract socket ("@..."): allowed. */
		if ((ns = getenv("NOTIFY_SOCKET")) == NULL || ns[0] != '@')
			ra.scoped |= SB_SCOPE_ABSTRACT_UNIX;
		asz = sizeof(ra);
	}
	if ((fd = syscall(SYS_landlock_create_ruleset, &ra, asz, 0)) == -1)
		return (-1);
	for (i = 0; i < sizeof(sandbox_rules) / sizeof(sandbox_rules[0]);
	    i++) {
		const struct sandbox_rule *r = &sandbox_rules[i];

		p = (const char *)conf + r->off;
		if (p[0] == '\0' || (r->where == SB_DIR && p[0] != '/'))
			continue;	/* Unset; access-log syslog or off. */
		switch (r->where) {
		case SB_LOCKFILE:
			if ((size_t)snprintf(path, sizeof(path),
			    "%s/lock.mdb", p) >= sizeof(path)) {
				errno = ENAMETOOLONG;
				goto fail;
			}
			p = path;
			/* FALLTHROUGH */
		case SB_SELF:
			if (landlock_add(fd, r->what, p, r->access,
			    ra.handled_access_fs) == -1)
				goto fail;
			break;
		case SB_DIR:
			if (landlock_add_dir(fd, r->what, p, r->access,
			    ra.handled_access_fs) == -1)
				goto fail;
			break;
		}
		(*nrules)++;
	}
	for (i = 0; i < sizeof(sandbox_fixed) / sizeof(sandbox_fixed[0]);
	    i++, (*nrules)++)
		if (landlock_add(fd, "sandbox", sandbox_fixed[i], SB_RW,
		    ra.handled_access_fs) == -1)
			goto fail;
#ifdef WKDD_SANITIZER
	/* LSan's leak check at exit reads /proc/self/{maps,task,...}. */
	(void)snprintf(path, sizeof(path), "/proc/%ld", (long)getpid());
	if (landlock_add(fd, "sanitizer", path, SB_RO,
	    ra.handled_access_fs) == -1)
		goto fail;
#endif
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1)
		goto fail;
	(void)close(fd);
	return (0);
fail:
	e = errno;
	(void)close(fd);
	errno = e;
	return (-1);
}

/*
 * The seccomp filter of sandbox_calls[], loaded.  0 with *ncalls the
 * calls allowed, or -1 with errno set.
 */
static int
seccomp_on(int *ncalls)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 nr, rc;

	*ncalls = 0;
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	for (i = 0; i < sizeof(sandbox_calls) / sizeof(sandbox_calls[0]);
	    i++) {
		/* A call this architecture doesn't have (open, stat): none. */
		if ((nr = seccomp_syscall_resolve_name(sandbox_calls[i])) ==
		    __NR_SCMP_ERROR || nr < 0)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0)
			goto fail;
		(*ncalls)++;
	}
	/*
	 * Threads, not processes: glibc's pthread_create() tries clone3()
	 * (whose flags, in memory, a filter can't see) and on ENOSYS falls
	 * back to clone(), allowed with CLONE_THREAD only.
	 */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0)) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD))) != 0)
		goto fail;
#ifndef WKDD_SANITIZER
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
	    0))) != 0)
		goto fail;
#else
	/* LSan's tracer: clone(CLONE_VM | CLONE_FS | ...), no CLONE_THREAD. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_VM,
	    CLONE_VM))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ,
	    CLONE_THREAD | CLONE_VM, 0))) != 0)
		goto fail;
#endif
	/* MHD's threads name themselves; no other prctl(2). */
#ifndef WKDD_SANITIZER
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME))) != 0)
		goto fail;
#else
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl),
	    0)) != 0)
		goto fail;
#endif
	/* http_start() pins each thread it starts: its own affinity only. */
#ifndef WKDD_SANITIZER
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(sched_setaffinity), 1, SCMP_A0(SCMP_CMP_EQ, 0))) != 0)
		goto fail;
	(*ncalls)++;
#endif
	/* syslog(3), sd_notify, the access log to /dev/log: AF_UNIX only. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX))) != 0)
		goto fail;
	*ncalls += 3;
	if ((rc = seccomp_load(ctx)) != 0)
		goto fail;
	seccomp_release(ctx);
	return (0);
fail:
	seccomp_release(ctx);
	errno = rc < 0 ? -rc : EINVAL;
	return (-1);
}

int
sandbox_apply(const struct conf *conf, char *err, size_t errsz)
{
	size_t	nrules;
	int	abi, ncalls;

	/* Always, root or not: the filter needs it, and so does Landlock. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return (conf_msg(err, errsz, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno)));
	if (strcmp(conf->sandbox, "no") == 0) {
		log_warnx("sandbox no: neither Landlock nor seccomp applied");
		return (0);
	}
	if (landlock_on(conf, &abi, &nrules) == -1)
		return (conf_msg(err, errsz, "sandbox: Landlock: %s",
		    strerror(errno)));
	if (abi == 0)
		log_warnx("sandbox: Landlock not available (kernel without "
		    "it, or not enabled in lsm=): files not restricted");
	else if (abi < SANDBOX_LANDLOCK_ABI)
		log_warnx("sandbox: Landlock ABI %d, older than %d: %s%s%s",
		    abi, SANDBOX_LANDLOCK_ABI,
		    abi < 3 ? "truncation, " : "",
		    abi < 4 ? "TCP bind and connect, " : "",
		    abi < 6 ? "signals and abstract sockets not restricted" :
		    "");
	if (seccomp_on(&ncalls) == -1)
		return (conf_msg(err, errsz, "sandbox: seccomp: %s",
		    strerror(errno)));
	if (abi > 0)
		log_info("sandbox: Landlock ABI %d (%zu rules), seccomp (%d "
		    "system calls)", abi, nrules, ncalls);
	else
		log_info("sandbox: seccomp (%d system calls)", ncalls);
	return (0);
}

#ifdef WKDD_TEST_HOOKS
/* One attempt, logged as "test-hook: WHAT: ok" or its error. */
static void
sandbox_try(const char *what, int rc)
{
	if (rc == -1)
		log_info("test-hook: %s: %s", what, strerror(errno));
	else
		log_info("test-hook: %s: ok", what);
}

static int
sandbox_open(const char *path, int flags)
{
	int	fd;

	if ((fd = open(path, flags | O_CLOEXEC, 0600)) == -1)
		return (-1);
	(void)close(fd);
	return (0);
}

void
sandbox_test_hook(const struct conf *conf, int last)
{
	char	path[PATH_MAX + 16];
	pid_t	pid;
	int	fd;

	if (last) {
		/* Not allowed at all: SIGSYS ends the process here. */
		log_info("test-hook: execve /bin/true");
		(void)execl("/bin/true", "true", (char *)NULL);
		log_warn("test-hook: execve /bin/true returned");
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/data.mdb", conf->store);
	sandbox_try("read data.mdb", sandbox_open(path, O_RDONLY));
	sandbox_try("write data.mdb", sandbox_open(path, O_WRONLY));
	/*
	 * Not lock.mdb: closing a descriptor of it would drop LMDB's
	 * fcntl(2) locks.  The readers registering there prove it writable.
	 */
	(void)snprintf(path, sizeof(path), "%s/new.mdb", conf->store);
	sandbox_try("create in store", sandbox_open(path,
	    O_WRONLY | O_CREAT | O_EXCL));
	sandbox_try("read tls-cert", sandbox_open(conf->tls_cert, O_RDONLY));
	sandbox_try("write tls-cert", sandbox_open(conf->tls_cert, O_WRONLY));
	sandbox_try("read /etc/passwd", sandbox_open("/etc/passwd",
	    O_RDONLY));
	(void)snprintf(path, sizeof(path), "/tmp/wkdd-hook.%ld",
	    (long)getpid());
	sandbox_try("create in /tmp", sandbox_open(path,
	    O_WRONLY | O_CREAT | O_EXCL));
	sandbox_try("socket AF_INET", (fd = socket(AF_INET, SOCK_STREAM, 0)));
	if (fd != -1)
		(void)close(fd);
	if ((pid = fork()) == 0)
		_exit(0);
	sandbox_try("fork", pid == -1 ? -1 : 0);
}
#endif
