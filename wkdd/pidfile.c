/*
 * pidfile.c: the pidfile, written as root before the privilege drop and
 * removed at exit.
 *
 * Once wkdd is an unprivileged user it can't unlink a file in a directory
 * it can't write, such as /run.  Then a child forked before the drop stays
 * root for that one task: it closes every descriptor but its end of a
 * pipe (its standard ones go to /dev/null), frees what it inherited of
 * the keys, blocks every signal, and waits until the daemon's end closes
 * (at exit, or when the daemon dies any other way); then it removes the
 * pidfile if it still holds the daemon's pid, and exits.  It reads
 * nothing from the pipe and runs no other code.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wkdd.h"

static int	pidfile_keeper_fd = -1;	/* Our end of the keeper's pipe. */

static int	pidfile_user_can_unlink(const struct conf *);
static void	pidfile_keep(const char *, int, pid_t)
		    __attribute__((noreturn));

/*
 * Can conf's user write the pidfile's directory (owner, group or other
 * bits; root can)?  1 or 0.
 */
static int
pidfile_user_can_unlink(const struct conf *conf)
{
	struct passwd	*pw;
	struct stat	 st;
	char		 dir[PATH_MAX], *slash;
	gid_t		 groups[64];
	int		 i, n = 64;

	if (conf->user[0] == '\0' || geteuid() != 0)
		return (1);
	if ((pw = getpwnam(conf->user)) == NULL)
		return (0);
	(void)snprintf(dir, sizeof(dir), "%s", conf->pidfile);
	if ((slash = strrchr(dir, '/')) == NULL)
		return (0);
	slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &st) == -1 || (st.st_mode & S_ISVTX))
		return (0);
	if (st.st_uid == pw->pw_uid)
		return ((st.st_mode & (S_IWUSR | S_IXUSR)) ==
		    (S_IWUSR | S_IXUSR));
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		n = 0;
	for (i = 0; i < n; i++)
		if (groups[i] == st.st_gid)
			return ((st.st_mode & (S_IWGRP | S_IXGRP)) ==
			    (S_IWGRP | S_IXGRP));
	return ((st.st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH));
}

/* The keeper: wait for EOF on fd, remove path if it names pid. */
static void
pidfile_keep(const char *path, int fd, pid_t pid)
{
	sigset_t	 all;
	char		 buf[32], want[32];
	ssize_t		 n;
	int		 pfd;

	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, NULL);
	(void)prctl(PR_SET_NAME, "wkdd-pidfile", 0, 0, 0);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno != EINTR))
			break;
	}
	(void)snprintf(want, sizeof(want), "%ld\n", (long)pid);
	if ((pfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		n = read(pfd, buf, sizeof(buf) - 1);
		(void)close(pfd);
		if (n > 0 && (buf[n] = '\0', strcmp(buf, want) == 0))
			(void)unlink(path);
	}
	_exit(0);
}

int
pidfile_write(const struct conf *conf, void (*scrub)(void *), void *arg,
    char *err, size_t errsz)
{
	const char	*path = conf->pidfile;
	char		 buf[32];
	pid_t		 pid;
	int		 fd, n, p[2];

	if (path[0] == '\0')
		return (0);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1) {
		(void)snprintf(err, errsz, "pidfile %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, n) != n || close(fd) == -1) {
		(void)snprintf(err, errsz, "pidfile %s: %s", path,
		    strerror(errno));
		(void)unlink(path);
		return (-1);
	}
	if (pidfile_user_can_unlink(conf))
		return (0);

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		(void)snprintf(err, errsz, "pidfile %s: keeper: %s", path,
		    strerror(errno));
		(void)unlink(path);
		return (-1);
	}
	if (pid == 0) {
		pid = getppid();
		if (p[0] != 3 && dup2(p[0], 3) == -1)
			_exit(1);
		(void)close_range(4, ~0U, 0);
		/* Not the terminal's or a caller's pipe: it outlives them. */
		if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
			if (fd > 3)
				(void)close(fd);
		}
		if (scrub != NULL)
			scrub(arg);
		pidfile_keep(path, 3, pid);
	}
	(void)close(p[0]);
	pidfile_keeper_fd = p[1];
	return (0);
}

void
pidfile_remove(const struct conf *conf)
{
	if (conf->pidfile[0] == '\0')
		return;
	if (unlink(conf->pidfile) == -1 && !(pidfile_keeper_fd != -1 &&
	    (errno == EACCES || errno == EPERM)))
		log_warn("pidfile %s", conf->pidfile);
	if (pidfile_keeper_fd != -1) {
		(void)close(pidfile_keeper_fd);
		pidfile_keeper_fd = -1;
	}
}
