/*
 * spawn.c: running a helper program (an ACME client) as wkdctl does: no
 * shell, stdin /dev/null, a time limit (then SIGTERM, and SIGKILL), and
 * the end of what it printed kept, to be shown if it fails.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

extern char **environ;

/* Append n bytes, keeping only the last SPAWN_OUT_MAX. */
static void
spawn_out_add(struct spawn_out *o, const char *p, size_t n)
{
	size_t	 drop;

	if (n >= SPAWN_OUT_MAX) {
		p += n - SPAWN_OUT_MAX;
		n = SPAWN_OUT_MAX;
		o->len = 0;
		o->cut = 1;
	}
	if (o->len + n > SPAWN_OUT_MAX) {
		drop = o->len + n - SPAWN_OUT_MAX;
		memmove(o->buf, o->buf + drop, o->len - drop);
		o->len -= drop;
		o->cut = 1;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Print the client's output to stderr, each line indented and labelled. */
void
spawn_out_print(const struct spawn_out *o, const char *label)
{
	const char	*p, *nl;

	if (o->cut)
		fprintf(stderr, "  %s: ...\n", label);
	for (p = o->buf; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (nl > p)
			fprintf(stderr, "  %s: %.*s\n", label, (int)(nl - p),
			    p);
		if (*nl == '\0')
			break;
	}
}

static long
spawn_ms_left(const struct timespec *deadline)
{
	struct timespec	 now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return ((deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000);
}

/* Wait for pid at most ms milliseconds; 0 and *status if it ended. */
static int
spawn_reap(pid_t pid, int *status, long ms)
{
	pid_t	 r;

	for (;;) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			return (0);
		if (r == -1 && errno != EINTR)
			return (0);
		if (ms <= 0)
			return (-1);
		(void)poll(NULL, 0, 100);
		ms -= 100;
	}
}

/*
 * Run argv (no shell) with environment envp, stdin /dev/null, stdout and
 * stderr into *o, for at
 * most timeout seconds (then SIGTERM, and SIGKILL 5 s later).  Returns
 * the exit status, 128 + signal if killed, or -1 if it could not run
 * (warned).
 */
static int
spawn_argv(char *const argv[], char *const envp[], unsigned timeout,
    struct spawn_out *o)
{
	posix_spawn_file_actions_t	 fa;
	struct timespec			 deadline;
	struct pollfd			 pfd;
	char				 buf[4096];
	ssize_t				 n;
	pid_t				 pid;
	long				 ms;
	int				 fds[2], status = 0, rc, timedout = 0;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		warn("pipe");
		return (-1);
	}
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		errno = rc;
		warn("posix_spawn_file_actions_init");
		goto closefds;
	}
	if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDONLY, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, fds[1], 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, fds[1], 2)) != 0) {
		errno = rc;
		warn("posix_spawn_file_actions");
		goto destroy;
	}
	if ((rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp)) != 0) {
		errno = rc;
		warn("%s", argv[0]);
		goto destroy;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);

	(void)clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		if ((ms = spawn_ms_left(&deadline)) <= 0) {
			timedout = 1;
			break;
		}
		if ((rc = poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			warn("poll");
			timedout = 1;
			break;
		}
		if (rc == 0)
			continue;
		if ((n = read(fds[0], buf, sizeof(buf))) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (n == 0)
			break;
		spawn_out_add(o, buf, (size_t)n);
	}
	close(fds[0]);
	if (timedout) {
		warnx("%s: no result after %u seconds: stopped", argv[0],
		    timeout);
		(void)kill(pid, SIGTERM);
		if (spawn_reap(pid, &status, 5000) == -1) {
			(void)kill(pid, SIGKILL);
			(void)spawn_reap(pid, &status, 5000);
		}
		return (128 + SIGTERM);
	}
	/* Output closed: the client is ending (or closed it itself). */
	if (spawn_reap(pid, &status, (long)timeout * 1000) == -1) {
		(void)kill(pid, SIGKILL);
		(void)spawn_reap(pid, &status, 5000);
		return (128 + SIGKILL);
	}
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (-1);
destroy:
	posix_spawn_file_actions_destroy(&fa);
closefds:
	close(fds[0]);
	close(fds[1]);
	return (-1);
}

/*
 * spawn_argv() on a copy of argv (exec wants it writable), in our
 * environment plus env1 ("NAME=value") if not NULL.
 */
int
spawn_run(const char *const argv[], const char *env1, unsigned timeout,
    struct spawn_out *o)
{
	char	**v, **e = NULL;
	size_t	 i, n, ne;
	int	 rc = -1;

	for (n = 0; argv[n] != NULL; n++)
		continue;
	for (ne = 0; environ[ne] != NULL; ne++)
		continue;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL ||
	    (e = calloc(ne + 2, sizeof(*e))) == NULL) {
		warn(NULL);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((v[i] = strdup(argv[i])) == NULL) {
			warn(NULL);
			goto out;
		}
	/* Borrowed: the strings of environ, and env1 (copied). */
	memcpy(e, environ, ne * sizeof(*e));
	if (env1 != NULL && (e[ne] = strdup(env1)) == NULL) {
		warn(NULL);
		goto out;
	}
	rc = spawn_argv(v, e, timeout, o);
out:
	if (v != NULL)
		for (i = 0; i < n; i++)
			free(v[i]);
	free(v);
	if (e != NULL)
		free(e[ne]);
	free(e);
	return (rc);
}
