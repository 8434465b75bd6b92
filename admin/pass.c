/*
 * pass.c: passphrases for protected secret keys, read once from a file
 * descriptor (--passphrase-fd) or asked for on the terminal with echo
 * off.  Never logged; pass_clear() wipes them.
 */

#include <sys/stat.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "keystore.h"
#include "wkdctl.h"

void
pass_init(struct pass *pp)
{
	memset(pp, 0, sizeof(*pp));
	pp->fd = -1;
}

int
pass_fd(struct pass *pp, const char *arg)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (arg[0] == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    v > 1024 || fcntl((int)v, F_GETFD) == -1) {
		warnx("--passphrase-fd %s: not an open file descriptor", arg);
		return (-1);
	}
	pp->fd = (int)v;
	return (0);
}

int
pass_avail(const struct pass *pp)
{
	if (pp == NULL)
		return (0);
	if (pp->state != 0)
		return (pp->state == 1);
	return (pp->fd != -1 || isatty(STDIN_FILENO));
}

/* Read one line (without its newline) from fd into buf. */
static int
pass_line(int fd, char *buf, size_t bufsz)
{
	size_t	 n = 0;
	ssize_t	 r;
	char	 c;

	for (;;) {
		if ((r = read(fd, &c, 1)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= bufsz)
			return (-1);
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (0);
}

const char *
pass_get(struct pass *pp, const char *what)
{
	struct termios	 t, saved;
	int		 fd, rc, echo_off = 0;

	if (pp == NULL || pp->state == -1)
		return (NULL);
	if (pp->state == 1)
		return (pp->buf);
	pp->state = -1;
	if (pp->fd != -1) {
		if (pass_line(pp->fd, pp->buf, sizeof(pp->buf)) == -1) {
			warnx("--passphrase-fd: cannot read a passphrase");
			explicit_bzero(pp->buf, sizeof(pp->buf));
			return (NULL);
		}
		pp->state = 1;
		return (pp->buf);
	}
	if (!isatty(STDIN_FILENO) ||
	    (fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return (NULL);
	if (tcgetattr(fd, &saved) == 0) {
		t = saved;
		t.c_lflag &= ~(ECHO | ECHONL);
		echo_off = tcsetattr(fd, TCSAFLUSH, &t) == 0;
	}
	dprintf(fd, "Passphrase for %s: ", what);
	rc = pass_line(fd, pp->buf, sizeof(pp->buf));
	dprintf(fd, "\n");
	if (echo_off)
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
	close(fd);
	if (rc == -1) {
		explicit_bzero(pp->buf, sizeof(pp->buf));
		return (NULL);
	}
	pp->state = 1;
	return (pp->buf);
}

void
pass_clear(struct pass *pp)
{
	explicit_bzero(pp->buf, sizeof(pp->buf));
	pp->state = 0;
}
