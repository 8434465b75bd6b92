/*
 * t_https: the domain checker's HTTPS client (admin/https.c) against a
 * TLS server in a child process that completes the handshake and then
 * never answers: https_get() must give up with an error after its
 * timeout, not wait for ever (a hostile or broken server must not hang
 * "wkdctl domain check" run from cron).  The same for a server that
 * accepts the connection and never starts TLS.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <err.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "keystore.h"
#include "wkdctl.h"

#include "tap.h"

static char	ca_path[] = "/tmp/t_https.XXXXXX";

/* A self-signed certificate for "stall.test" and its key. */
static void
make_cert(gnutls_x509_crt_t *crtp, gnutls_x509_privkey_t *keyp)
{
	gnutls_x509_crt_t	 crt;
	gnutls_x509_privkey_t	 key;
	unsigned char		 serial[] = { 1 };
	gnutls_datum_t		 pem;
	time_t			 now = time(NULL);
	int			 fd;

	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 60) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 3600) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    "stall.test", 10) < 0 ||
	    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    "stall.test", 10, GNUTLS_FSAN_SET) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(crt, 1, -1) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0)
		errx(1, "cannot make a certificate");
	if ((fd = mkstemp(ca_path)) == -1 ||
	    write(fd, pem.data, pem.size) != (ssize_t)pem.size ||
	    close(fd) == -1)
		err(1, "%s", ca_path);
	gnutls_free(pem.data);
	*crtp = crt;
	*keyp = key;
}

/* The child: one handshake, then read and never answer until EOF. */
static void
serve_stall(int lfd, gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t		 s;
	char				 buf[4096];
	int				 fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_key(cred, &crt, 1, key) < 0 ||
	    gnutls_init(&s, GNUTLS_SERVER) < 0 ||
	    gnutls_set_default_priority(s) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		_exit(1);
	gnutls_transport_set_int(s, fd);
	if (gnutls_handshake(s) < 0)
		_exit(1);
	while (gnutls_record_recv(s, buf, sizeof(buf)) > 0)
		continue;
	_exit(0);
}

/* The next check, failed: https_get() is stuck. */
static void
on_alarm(int sig)
{
	char	msg[96];
	int	n;

	(void)sig;
	n = snprintf(msg, sizeof(msg), "not ok %d - https_get() returned "
	    "(it hung)\n1..%d\n", tap_n + 1, tap_n + 1);
	if (n > 0 && (size_t)n < sizeof(msg))
		(void)write(STDOUT_FILENO, msg, n);
	_exit(1);
}

int
main(void)
{
	gnutls_x509_crt_t	 crt, peer = NULL;
	gnutls_x509_privkey_t	 key;
	struct sockaddr_in	 sin, mute;
	struct https_resp	 resp;
	socklen_t		 slen = sizeof(sin);
	char			 errbuf[256];
	unsigned		 verify;
	time_t			 t0;
	pid_t			 pid;
	int			 lfd, rc;

	if (gnutls_global_init() < 0)
		errx(1, "gnutls_global_init");
	make_cert(&crt, &key);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mute = sin;
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1)
		err(1, "listen");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0)
		serve_stall(lfd, crt, key);
	close(lfd);

	/* Three timeouts of https.c (10 s) and then some. */
	signal(SIGALRM, on_alarm);
	alarm(45);
	t0 = time(NULL);
	rc = https_get((struct sockaddr *)&sin, sizeof(sin), "stall.test",
	    "/", ca_path, &peer, &verify, &resp, errbuf, sizeof(errbuf));
	alarm(0);
	is_int(rc, -1, "a server that never answers: https_get() fails");
	ok(errbuf[0] != '\0', "with a reason (%s)", errbuf);
	ok(time(NULL) - t0 < 40, "within its timeout (%lld s)",
	    (long long)(time(NULL) - t0));
	is_int(verify, 0, "the handshake got through and verified");
	if (peer != NULL)
		gnutls_x509_crt_deinit(peer);
	https_resp_free(&resp);

	/* A listener nobody accepts on: TCP connects, TLS never starts. */
	slen = sizeof(sin);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&mute, sizeof(mute)) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1)
		err(1, "listen");
	alarm(45);
	t0 = time(NULL);
	peer = NULL;
	rc = https_get((struct sockaddr *)&sin, sizeof(sin), "stall.test",
	    "/", ca_path, &peer, &verify, &resp, errbuf, sizeof(errbuf));
	alarm(0);
	is_int(rc, -1, "no TLS handshake: https_get() fails");
	ok(time(NULL) - t0 < 40, "within its timeout (%lld s: %s)",
	    (long long)(time(NULL) - t0), errbuf);
	if (peer != NULL)
		gnutls_x509_crt_deinit(peer);
	https_resp_free(&resp);
	close(lfd);

	(void)kill(pid, SIGTERM);
	(void)waitpid(pid, NULL, 0);
	(void)unlink(ca_path);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	gnutls_global_deinit();
	return (done());
}
