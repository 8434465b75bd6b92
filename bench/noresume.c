/*
 * bench/noresume.c: an LD_PRELOAD shim for wrk (OpenSSL) that drops the
 * TLS session before each handshake, so that every new connection is a
 * full handshake.  wrk keeps the session of a closed connection (SSL_clear
 * leaves it on the SSL) and offers it again on the next one, which a
 * server with tickets or a session cache resumes: without this shim,
 * "Connection: close" measures resumption, not handshakes.
 *
 *	LD_PRELOAD=build/bench/noresume.so wrk ...
 */
#include <dlfcn.h>
#include <stddef.h>

typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

int	SSL_connect(SSL *);
int	SSL_in_before(const SSL *);
int	SSL_set_session(SSL *, SSL_SESSION *);

int
SSL_connect(SSL *s)
{
	static int	(*real)(SSL *);

	if (real == NULL &&
	    (*(void **)&real = dlsym(RTLD_NEXT, "SSL_connect")) == NULL)
		return (-1);
	/* wrk calls again while the handshake goes on: only before it. */
	if (SSL_in_before(s))
		(void)SSL_set_session(s, NULL);
	return (real(s));
}
