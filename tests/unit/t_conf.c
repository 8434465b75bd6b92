/*
 * t_conf: wkdd.conf parsing, every directive and every error path, each
 * error checked down to its "file:line: message".
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "conf.h"

static char	dir[] = "/tmp/t_conf.XXXXXX";
static char	path[PATH_MAX];

/* Writes text to the test file and parses it. */
static int
parse(const char *text, struct conf **confp, char *err, size_t errsz)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
	return (conf_parse(path, confp, err, errsz));
}

static void	t_tlsrpt_conf(void);

/* text must fail with "PATH:line: msg" (msg a prefix of the message). */
static void
bad(const char *text, int line, const char *msg)
{
	struct conf	*conf = (struct conf *)1;
	char		 err[512], want[PATH_MAX + 600];
	int		 rc;

	rc = parse(text, &conf, err, sizeof(err));
	if (line > 0)
		(void)snprintf(want, sizeof(want), "%s:%d: %s", path, line,
		    msg);
	else
		(void)snprintf(want, sizeof(want), "%s: %s", path, msg);
	ok(rc == -1 && conf == NULL &&
	    strncmp(err, want, strlen(want)) == 0,
	    "refused: %s", msg);
	if (rc != -1 || strncmp(err, want, strlen(want)) != 0)
		printf("#   got rc %d \"%s\"\n#   want \"%s...\"\n", rc, err,
		    want);
	if (rc == 0)
		conf_free(conf);
}

static int
port_of(const struct conf_listen *l)
{
	if (l->ss.ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)
		    (const void *)&l->ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)
	    (const void *)&l->ss)->sin6_port));
}

static void
t_defaults(void)
{
	struct conf	*conf = NULL;
	char		 err[512];

	is_int(parse("", &conf, err, sizeof(err)), 0, "empty file parses");
	if (conf == NULL)
		return;
	is_str(conf->path, path, "path kept");
	is_str(conf->store, WKDD_STORE, "default store");
	is_int(conf->store_size, 0, "default store-size");
	is_str(conf->tls_cert, "/etc/wkdd/cert.pem", "default tls-cert");
	is_str(conf->tls_key, "/etc/wkdd/key.pem", "default tls-key");
	is_str(conf->user, "", "default user: none");
	is_str(conf->www, "", "default www: none");
	is_int(conf->max_conns, 4096, "default max-connections");
	is_int(conf->max_conns_per_ip, 32, "default max-connections-per-ip");
	is_int(conf->timeout, 30, "default timeout");
	is_int(conf->request_timeout, 10, "default request-timeout");
	is_int(conf->keepalive_timeout, 5, "default keepalive-timeout");
	is_int(conf->limit_rate, 120, "default limit-rate");
	is_int(conf->limit_burst, 600, "default limit-burst");
	is_int(conf->limit_net_rate, 480, "default limit-net-rate");
	is_int(conf->limit_net_burst, 2400, "default limit-net-burst");
	is_int(conf->limit_miss_cost, 4, "default limit-miss-cost");
	is_int(conf->nlisten, 2, "default: two listeners");
	is_int(conf->listen[0].ss.ss_family, AF_INET, "default 0.0.0.0");
	is_int(conf->listen[1].ss.ss_family, AF_INET6, "default [::]");
	is_int(port_of(&conf->listen[0]), 443, "default port 443");
	is_str(conf->tls_dir, "", "default tls-dir: none");
	is_str(conf->tls_ticket_key, "", "default tls-ticket-key: none");
	is_int(conf->nlisten_http, 0, "default: no listen-http");
	is_str(conf->acme_webroot, "", "default acme-webroot: none");
	is_str(conf->acme_client, "none", "default acme-client none");
	is_str(conf->acme_server,
	    "https://acme-v02.api.letsencrypt.org/directory",
	    "default acme-server: Let's Encrypt");
	is_str(conf->acme_email, "", "default acme-email: none");
	is_str(conf->acme_ca, "letsencrypt.org", "default acme-ca");
	is_str(conf->service_name, "", "default service-name: none");
	is_int(conf->nservice_address, 0, "default service-address: none");
	is_str(conf->tlsrpt_rua, "", "default tlsrpt-rua: none");
	is_str(conf->pidfile, "", "default pidfile: none");
	is_int(conf->nmetrics_listen, 0, "default metrics-listen: none");
	is_str(conf->metrics_remote, "off", "default metrics-remote off");
	is_str(conf->metrics_domains, "off", "default metrics-domains off");
	is_str(conf->access_log, "syslog", "default access-log syslog");
	is_str(conf->access_log_address, "full",
	    "default access-log-address full");
	conf_free(conf);
}

/* metrics-listen, metrics-*, access-log*. */
static void
t_metrics(void)
{
	struct conf	*conf = NULL;
	char		 err[512];

	is_int(parse("metrics-listen 127.0.0.1:9101\n"
	    "metrics-listen [::1]:0\n"
	    "metrics-domains on\n"
	    "access-log /var/log/wkdd/access.log\n"
	    "access-log-address truncate\n", &conf, err, sizeof(err)), 0,
	    "metrics and access-log directives parse");
	if (conf != NULL) {
		is_int(conf->nmetrics_listen, 2, "two metrics-listen");
		is_int(port_of(&conf->metrics_listen[0]), 9101,
		    "metrics-listen port");
		is_str(conf->metrics_listen[1].text, "[::1]:0",
		    "metrics-listen v6 text");
		is_str(conf->metrics_domains, "on", "metrics-domains on");
		is_str(conf->access_log, "/var/log/wkdd/access.log",
		    "access-log file");
		is_str(conf->access_log_address, "truncate",
		    "access-log-address truncate");
		conf_free(conf);
	}
	is_int(parse("metrics-listen 127.1.2.3:9101\naccess-log off\n",
	    &conf, err, sizeof(err)), 0, "127/8 is loopback; access-log off");
	if (conf != NULL) {
		is_str(conf->access_log, "off", "access-log off");
		conf_free(conf);
	}
	is_int(parse("metrics-listen 192.0.2.1:9101\nmetrics-remote on\n",
	    &conf, err, sizeof(err)), 0, "metrics-remote on: any address");
	conf_free(conf);
	conf = NULL;
	bad("metrics-listen 192.0.2.1:9101\n", 0,
	    "metrics-listen 192.0.2.1:9101: not a loopback address "
	    "(metrics-remote on allows it)");
	bad("metrics-listen [::]:9101\n", 0,
	    "metrics-listen [::]:9101: not a loopback address");
	bad("listen 127.0.0.1:8443\nmetrics-listen 127.0.0.1:8443\n", 0,
	    "metrics-listen 127.0.0.1:8443: also a listen or listen-http "
	    "address");
	bad("metrics-listen 127.0.0.1:80\nlisten-http 127.0.0.1:80\n", 0,
	    "metrics-listen 127.0.0.1:80: also a listen or listen-http "
	    "address");
	is_int(parse("listen 127.0.0.1:0\nmetrics-listen 127.0.0.1:0\n",
	    &conf, err, sizeof(err)), 0, "port 0 twice: the kernel picks two");
	conf_free(conf);
	conf = NULL;
	bad("metrics-listen 127.0.0.1:1\nmetrics-listen 127.0.0.1:2\n"
	    "metrics-listen 127.0.0.1:3\nmetrics-listen 127.0.0.1:4\n"
	    "metrics-listen 127.0.0.1:5\n", 5,
	    "metrics-listen: more than 4 addresses");
	bad("metrics-listen 127.0.0.1:1\nmetrics-listen 127.0.0.1:1\n", 2,
	    "metrics-listen: 127.0.0.1:1 given twice");
	bad("metrics-domains yes\n", 1,
	    "metrics-domains: \"yes\" is not one of: on off");
	bad("access-log access.log\n", 1,
	    "access-log: \"access.log\" is not syslog, off or an absolute "
	    "path");
	bad("access-log-address /24\n", 1,
	    "access-log-address: \"/24\" is not one of: full truncate off");
}

static void
t_service(void)
{
	struct conf	*conf = NULL;
	char		 err[512];

	is_int(parse(
	    "tls-dir /etc/letsencrypt\n"
	    "tls-ticket-key /etc/wkdd/ticket.key\n"
	    "listen-http 127.0.0.1:80\n"
	    "listen-http [::1]:0\n"
	    "acme-webroot /var/www/acme\n"
	    "acme-client certbot\n"
	    "acme-server https://localhost:14000/dir\n"
	    "acme-email hostmaster@Example.ORG\n"
	    "acme-ca LetsEncrypt.org.\n"
	    "service-name WKD.Example.net\n"
	    "service-address 192.0.2.1\n"
	    "service-address 2001:db8::1\n"
	    "tlsrpt-rua mailto:tlsrpt@example.net,https://r.example/x\n"
	    "pidfile /run/wkdd.pid\n", &conf, err, sizeof(err)), 0,
	    "service directives parse");
	if (conf == NULL) {
		printf("# %s\n", err);
		return;
	}
	is_str(conf->tls_dir, "/etc/letsencrypt", "tls-dir");
	is_str(conf->tls_ticket_key, "/etc/wkdd/ticket.key", "tls-ticket-key");
	is_int(conf->nlisten_http, 2, "two listen-http");
	is_int(port_of(&conf->listen_http[0]), 80, "listen-http port 80");
	is_str(conf->listen_http[1].text, "[::1]:0", "listen-http v6 text");
	is_int(conf->listen_http[1].ss.ss_family, AF_INET6,
	    "listen-http v6 family");
	is_int(conf->nlisten, 2, "listen keeps its defaults");
	is_str(conf->acme_webroot, "/var/www/acme", "acme-webroot");
	is_str(conf->acme_client, "certbot", "acme-client");
	is_str(conf->acme_server, "https://localhost:14000/dir",
	    "acme-server");
	is_str(conf->acme_email, "hostmaster@Example.ORG", "acme-email");
	is_str(conf->acme_ca, "letsencrypt.org", "acme-ca lowered, no dot");
	is_str(conf->service_name, "wkd.example.net", "service-name lowered");
	is_int(conf->nservice_address, 2, "two service-address");
	is_str(conf->service_address[0], "192.0.2.1", "service-address v4");
	is_str(conf->service_address[1], "2001:db8::1",
	    "service-address v6");
	is_str(conf->tlsrpt_rua, "mailto:tlsrpt@example.net,"
	    "https://r.example/x", "tlsrpt-rua");
	is_str(conf->pidfile, "/run/wkdd.pid", "pidfile");
	conf_free(conf);

	is_int(parse("acme-client uacme\nacme-client none\n", &conf, err,
	    sizeof(err)), -1, "acme-client given twice refused");
	is_int(parse("acme-client uacme\n", &conf, err, sizeof(err)), 0,
	    "acme-client uacme");
	if (conf != NULL)
		is_str(conf->acme_client, "uacme", "uacme kept");
	conf_free(conf);

	bad("tls-dir etc\n", 1, "tls-dir: \"etc\" is not an absolute path");
	bad("tls-ticket-key k\n", 1,
	    "tls-ticket-key: \"k\" is not an absolute path");
	bad("acme-webroot www\n", 1, "acme-webroot: \"www\" is not an");
	bad("pidfile wkdd.pid\n", 1, "pidfile: \"wkdd.pid\" is not an");
	bad("listen-http 127.0.0.1\n", 1,
	    "listen-http: 127.0.0.1: want address:port");
	bad("listen-http 1.2.3.4:80\nlisten-http 1.2.3.4:80\n", 2,
	    "listen-http: 1.2.3.4:80 given twice");
	bad("listen 1.2.3.4:80\nlisten-http 1.2.3.4:80\n", 2,
	    "listen-http: 1.2.3.4:80 is also a listen address");
	bad("listen-http 1.2.3.4:80\nlisten 1.2.3.4:80\n", 2,
	    "listen: 1.2.3.4:80 is also a listen-http address");
	is_int(parse("listen 127.0.0.1:0\nlisten-http 127.0.0.1:0\n", &conf,
	    err, sizeof(err)), 0, "port 0 in listen and listen-http");
	conf_free(conf);
	bad("acme-client lego\n", 1, "acme-client: \"lego\" is not one of: "
	    "certbot uacme none");
	bad("acme-client certbo\n", 1, "acme-client: \"certbo\" is not");
	bad("acme-server http://x/dir\n", 1, "acme-server: \"http://x/dir\" "
	    "is not an https:// URL");
	bad("acme-server https://\n", 1, "acme-server: \"https://\" is not");
	bad("acme-server https://x/\"a\"\n", 1, "acme-server: ");
	bad("acme-email root\n", 1, "acme-email: \"root\" is not a mail "
	    "address");
	bad("acme-email @example.org\n", 1, "acme-email: \"@example.org\"");
	bad("acme-email a@b@c\n", 1, "acme-email: \"a@b@c\" is not");
	bad("acme-email a@-x.org\n", 1, "acme-email: \"a@-x.org\" is not");
	bad("acme-ca letsencrypt..org\n", 1, "acme-ca: \"letsencrypt..org\" "
	    "is not a host name");
	bad("acme-ca a_b.org\n", 1, "acme-ca: \"a_b.org\" is not");
	bad("service-name x-.example\n", 1, "service-name: \"x-.example\"");
	bad("service-name .\n", 1, "service-name: \".\" is not a host name");
	bad("service-name aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaa.example\n", 1, "service-name: \"aaaa");
	bad("service-address example.org\n", 1, "service-address: "
	    "\"example.org\" is not a numeric IPv4 or IPv6 address");
	bad("service-address 192.0.2.1:80\n", 1, "service-address: "
	    "\"192.0.2.1:80\" is not");
	bad("service-address [::1]\n", 1, "service-address: \"[::1]\"");
	bad("service-address ::1\nservice-address ::1\n", 2,
	    "service-address: ::1 given twice");
	bad("service-address 10.0.0.1\nservice-address 10.0.0.2\n"
	    "service-address 10.0.0.3\nservice-address 10.0.0.4\n"
	    "service-address 10.0.0.5\nservice-address 10.0.0.6\n"
	    "service-address 10.0.0.7\nservice-address 10.0.0.8\n"
	    "service-address 10.0.0.9\n", 9,
	    "service-address: more than 8 values");
	bad("tlsrpt-rua tlsrpt@example.net\n", 1, "tlsrpt-rua: "
	    "\"tlsrpt@example.net\" is not a list of mailto: or https:// URIs");
	bad("tlsrpt-rua mailto:x@y,\n", 1, "tlsrpt-rua: \"mailto:x@y,\"");
	bad("tlsrpt-rua mailto:nobody\n", 1, "tlsrpt-rua: \"mailto:nobody\"");
	bad("tlsrpt-rua mailto:a@b;v=x\n", 1, "tlsrpt-rua: ");
	bad("tlsrpt-rua http://r.example/\n", 1, "tlsrpt-rua: ");
	bad("tlsrpt-spool spool\n", 1, "tlsrpt-spool: \"spool\" is not an "
	    "absolute path");
	bad("tlsrpt-spool-max 0\n", 1, "tlsrpt-spool-max: \"0\" is not a "
	    "number from 1 to 1000000");
	bad("tlsrpt-max-size 1K\n", 1, "tlsrpt-max-size: \"1K\" is not a "
	    "size from 4096 to 67108864");
	bad("tlsrpt-max-size 65M\n", 1, "tlsrpt-max-size: \"65M\"");
	t_tlsrpt_conf();
}

/* The TLS report directives and their defaults. */
static void
t_tlsrpt_conf(void)
{
	struct conf	*conf = NULL;
	char		 err[512];

	is_int(parse("store /a\n", &conf, err, sizeof(err)), 0,
	    "no tlsrpt directives");
	if (conf != NULL) {
		ok(conf->tlsrpt_spool[0] == '\0' &&
		    conf->tlsrpt_spool_max == 1000 &&
		    conf->tlsrpt_max_size == 1024 * 1024 &&
		    conf->tlsrpt_rate == 120,
		    "tlsrpt defaults: no spool, 1000 files, 1M, 120 a minute");
		conf_free(conf);
	}
	conf = NULL;
	is_int(parse("tlsrpt-spool /var/spool/wkdd/tlsrpt\n"
	    "tlsrpt-spool-max 7\ntlsrpt-max-size 4096\n", &conf, err,
	    sizeof(err)), 0, "tlsrpt directives parse");
	if (conf != NULL) {
		ok(strcmp(conf->tlsrpt_spool, "/var/spool/wkdd/tlsrpt") == 0 &&
		    conf->tlsrpt_spool_max == 7 &&
		    conf->tlsrpt_max_size == 4096, "tlsrpt values read");
		conf_free(conf);
	}
}

static void
t_all(void)
{
	struct conf		*conf = NULL;
	struct sockaddr_in6	*sin6;
	char			 err[512], buf[64];

	is_int(parse(
	    "# comment\n"
	    "\n"
	    "   \t\n"
	    "listen 127.0.0.1:8443\n"
	    "listen\t[::1]:0   # trailing comment\n"
	    "listen 0.0.0.0:65535\r\n"
	    "store /var/lib/x\n"
	    "store-size 64M\n"
	    "tls-cert /c.pem\n"
	    "tls-key /k.pem\n"
	    "user _wkdd\n"
	    "www /usr/share/wkdd/www\n"
	    "max-connections 100000\n"
	    "max-connections-per-ip 1\n"
	    "timeout 3600", &conf, err, sizeof(err)), 0,
	    "every directive parses");
	if (conf == NULL) {
		printf("# %s\n", err);
		return;
	}
	is_int(conf->nlisten, 3, "three listeners");
	is_str(conf->listen[0].text, "127.0.0.1:8443", "listen text kept");
	is_int(port_of(&conf->listen[0]), 8443, "port 8443");
	is_int(conf->listen[0].sslen, sizeof(struct sockaddr_in),
	    "v4 sslen");
	is_str(conf->listen[1].text, "[::1]:0", "v6 text kept");
	is_int(conf->listen[1].ss.ss_family, AF_INET6, "v6 family");
	is_int(conf->listen[1].sslen, sizeof(struct sockaddr_in6),
	    "v6 sslen");
	sin6 = (struct sockaddr_in6 *)(void *)&conf->listen[1].ss;
	inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	is_str(buf, "::1", "v6 address");
	is_int(port_of(&conf->listen[1]), 0, "port 0");
	is_int(port_of(&conf->listen[2]), 65535, "port 65535 (CRLF line)");
	is_str(conf->store, "/var/lib/x", "store");
	is_int(conf->store_size, 64 << 20, "store-size 64M");
	is_str(conf->tls_cert, "/c.pem", "tls-cert");
	is_str(conf->tls_key, "/k.pem", "tls-key");
	is_str(conf->user, "_wkdd", "user");
	is_str(conf->www, "/usr/share/wkdd/www", "www");
	is_int(conf->max_conns, 100000, "max-connections");
	is_int(conf->max_conns_per_ip, 1, "max-connections-per-ip");
	is_int(conf->timeout, 3600, "timeout, last line without LF");
	conf_free(conf);

	is_int(parse("store-size 2G\n", &conf, err, sizeof(err)), 0,
	    "store-size 2G");
	if (conf != NULL)
		is_int(conf->store_size, 2ULL << 30, "2G in bytes");
	conf_free(conf);
	is_int(parse("store-size 1048576\n", &conf, err, sizeof(err)), 0,
	    "store-size in bytes");
	if (conf != NULL)
		is_int(conf->store_size, 1 << 20, "1048576 bytes");
	conf_free(conf);
	is_int(parse("store-size 0\nstore-size2 1\n", &conf, err,
	    sizeof(err)), -1, "near-miss keyword refused");
}

static void
t_dump(void)
{
	struct conf	*conf = NULL;
	char		 err[512], *buf = NULL;
	size_t		 len = 0;
	FILE		*fp;

	if (parse("listen [::1]:8443\nuser nobody\nservice-address ::1\n"
	    "listen-http 127.0.0.1:0\n", &conf, err,
	    sizeof(err)) != 0) {
		ok(0, "dump: parse");
		return;
	}
	if ((fp = open_memstream(&buf, &len)) == NULL)
		exit(1);
	is_int(conf_dump(conf, fp), 0, "conf_dump");
	fclose(fp);
	ok(strstr(buf, "listen [::1]:8443\n") != NULL, "dump: listen");
	ok(strstr(buf, "user nobody\n") != NULL, "dump: user");
	ok(strstr(buf, "timeout 30\n") != NULL, "dump: default timeout");
	ok(strstr(buf, "store " WKDD_STORE "\n") != NULL, "dump: store");
	ok(strstr(buf, "www") == NULL, "dump: unset www omitted");
	ok(strstr(buf, "acme-ca letsencrypt.org\n") != NULL,
	    "dump: default acme-ca");
	ok(strstr(buf, "service-address ::1\n") != NULL,
	    "dump: service-address");
	ok(strstr(buf, "listen-http 127.0.0.1:0\n") != NULL,
	    "dump: listen-http");
	ok(strstr(buf, "tls-dir") == NULL, "dump: unset tls-dir omitted");
	free(buf);
	conf_free(conf);
}

static void
t_errors(void)
{
	struct conf	*conf = (struct conf *)1;
	char		 err[512], big[70 * 1024], *text;
	size_t		 i;
	int		 rc;

	bad("store /a\nbogus 1\n", 2, "unknown directive \"bogus\"");
	bad("\n\nstore\n", 3, "store: missing value");
	bad("store /a b\n", 1, "store: unexpected \"b\" after value");
	bad("store /a\nstore /b\n", 2, "store: given twice");
	bad("store relative/path\n", 1, "store: \"relative/path\" is not "
	    "an absolute path");
	bad("tls-cert c.pem\n", 1, "tls-cert: \"c.pem\" is not an absolute");
	bad("tls-key k.pem\n", 1, "tls-key: \"k.pem\" is not an absolute");
	bad("www www\n", 1, "www: \"www\" is not an absolute");
	bad("user -root\n", 1, "user: bad name \"-root\"");
	bad("user a/b\n", 1, "user: bad name \"a/b\"");
	bad("user aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaa\n", 1, "user: bad name");
	bad("timeout 0\n", 1, "timeout: \"0\" is not a number from 1 to 3600");
	bad("timeout 3601\n", 1, "timeout: \"3601\" is not a number");
	bad("timeout -1\n", 1, "timeout: \"-1\" is not a number");
	bad("timeout +1\n", 1, "timeout: \"+1\" is not a number");
	bad("timeout 1x\n", 1, "timeout: \"1x\" is not a number");
	bad("timeout 99999999999999999999999\n", 1, "timeout: \"9");
	bad("max-connections 0\n", 1, "max-connections: \"0\" is not");
	bad("max-connections-per-ip 100001\n", 1,
	    "max-connections-per-ip: \"100001\" is not");
	bad("store-size 1K\n", 1, "store-size: \"1K\" is not 0 or a size");
	bad("store-size 2048G\n", 1, "store-size: \"2048G\" is not");
	bad("store-size 1T\n", 1, "store-size: \"1T\" is not");
	bad("store-size 16777216PP\n", 1, "store-size: \"16777216PP\"");
	bad("store-size 99999999999999999999G\n", 1, "store-size: ");
	bad("listen 127.0.0.1\n", 1, "listen: 127.0.0.1: want address:port");
	bad("listen localhost:80\n", 1, "listen: bad IPv4 address "
	    "\"localhost\"");
	bad("listen ::1:80\n", 1, "listen: bad IPv4 address \"::1\"");
	bad("listen [::1:80\n", 1, "listen: [::1:80: want [address]:port");
	bad("listen [::1]80\n", 1, "listen: [::1]80: want");
	bad("listen [x]:80\n", 1, "listen: bad IPv6 address \"x\"");
	bad("listen []:80\n", 1, "listen: bad address");
	bad("listen :80\n", 1, "listen: bad address");
	bad("listen 1.2.3.4:65536\n", 1, "listen: bad port \"65536\"");
	bad("listen 1.2.3.4:\n", 1, "listen: bad port \"\"");
	bad("listen 1.2.3.4:-1\n", 1, "listen: bad port \"-1\"");
	bad("listen 1.2.3.4:80\nlisten 1.2.3.4:80\n", 2,
	    "listen: 1.2.3.4:80 given twice");
	bad("listen [::1]:80000000000000000000000000000000000000000000000000"
	    "00000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000\n", 1, "listen: address too long");

	bad("store /a\r b\n", 1, "control character in line");
	bad("\nstore /a\x7f\n", 2, "control character in line");
	bad("store /a\x1b[31m\n", 1, "control character in line");

	/* 17 listeners. */
	text = calloc(1, 17 * 32);
	for (i = 0; i < 17; i++)
		(void)snprintf(text + strlen(text), 32,
		    "listen 127.0.0.1:%zu\n", 1000 + i);
	bad(text, 17, "listen: more than 16 addresses");
	free(text);

	/* Line over 1024 bytes. */
	memset(big, 'x', 2000);
	memcpy(big, "store /", 7);
	big[2000] = '\0';
	bad(big, 1, "line longer than 1024 bytes");

	/* File over 64 KiB. */
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad(big, 0, "file bigger than 65536 bytes");

	/* Embedded NUL (written with fwrite: fputs stops at NUL). */
	rc = conf_parse_buf("mem", "store /a\n\0x", 11, &conf, err,
	    sizeof(err));
	ok(rc == -1 && conf == NULL &&
	    strcmp(err, "mem: NUL byte in file") == 0, "NUL byte refused");

	/* Missing file, directory. */
	rc = conf_parse("/nonexistent/wkdd.conf", &conf, err, sizeof(err));
	is_str(err, "/nonexistent/wkdd.conf: No such file or directory",
	    "missing file");
	ok(rc == -1 && conf == NULL, "missing file: -1, NULL");
	rc = conf_parse(dir, &conf, err, sizeof(err));
	ok(rc == -1 && strstr(err, ": not a regular file") != NULL,
	    "directory refused");

	/* Tiny error buffer: truncated, NUL-terminated, no overflow. */
	rc = conf_parse_buf("mem", "bogus\n", 6, &conf, err, 5);
	ok(rc == -1 && strcmp(err, "mem:") == 0, "error truncated");
	rc = conf_parse_buf("mem", "bogus\n", 6, &conf, NULL, 0);
	ok(rc == -1, "no error buffer");
}

/*
 * conf_valid_host() and conf_valid_rua(), and that the parser agrees with
 * them: a value either validator refuses is refused in wkdd.conf too.
 */
static void
t_valid(void)
{
	static const struct {
		const char	*v;
		const char	*out;	/* NULL: refused. */
	} hosts[] = {
		{ "example.org", "example.org" },
		{ "WKD.Example.NET.", "wkd.example.net" },
		{ "a-b.c0", "a-b.c0" },
		{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
		{ "", NULL },
		{ ".", NULL },
		{ "a..b", NULL },
		{ ".a.b", NULL },
		{ "-a.b", NULL },
		{ "a-.b", NULL },
		{ "a_b.org", NULL },
		{ "a*.b", NULL },
		{ "*.b", NULL },
		{ "a b", NULL },
		{ "a/b", NULL },
		{ "a:80", NULL },
		{ "\xff.example", NULL },
	};
	static const struct {
		const char	*v;
		int		 good;
	} ruas[] = {
		{ "mailto:tlsrpt@example.net", 1 },
		{ "https://r.example/x", 1 },
		{ "https://r", 1 },
		{ "mailto:a@b,https://r.example/x", 1 },
		{ "mailto:a@b,mailto:c@d,https://e", 1 },
		{ "mailto:@", 1 },
		{ "", 0 },
		{ "mailto:", 0 },
		{ "mailto:nobody", 0 },
		{ "https://", 0 },
		{ "http://r.example/", 0 },
		{ "tlsrpt@example.net", 0 },
		{ "MAILTO:a@b", 0 },
		{ "mailto:a@b,", 0 },
		{ ",mailto:a@b", 0 },
		{ "mailto:a@b,,https://r", 0 },
		{ "mailto:a@b,nobody", 0 },
		{ "mailto:a@b,https://", 0 },
		{ "mailto:a@b;v=x", 0 },
		{ "mailto:a\"@b", 0 },
		{ "mailto:a\\@b", 0 },
		{ "mailto:a@b\xc3\xbc", 0 },
		{ "mailto:a@b\x7f", 0 },
	};
	struct conf	*conf;
	char		 err[CONF_ERR_MAX], out[KS_DOMAIN_MAX], text[1200];
	char		 name[CONF_HOST_MAX + 2], rua[CONF_RUA_MAX + 1];
	size_t		 i;
	int		 rc, prc;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		out[0] = '\0';
		rc = conf_valid_host(hosts[i].v, out, sizeof(out), err,
		    sizeof(err));
		is_int(rc, hosts[i].out != NULL ? 0 : -1, "host \"%s\" %s",
		    hosts[i].v, hosts[i].out != NULL ? "valid" : "refused");
		if (hosts[i].out != NULL)
			is_str(out, hosts[i].out, "host \"%s\" normalised",
			    hosts[i].v);
		else
			ok(strstr(err, "is not a host name") != NULL,
			    "host \"%s\": message", hosts[i].v);
		(void)snprintf(text, sizeof(text), "service-name %s\n",
		    hosts[i].v);
		prc = parse(text, &conf, err, sizeof(err));
		ok(prc == rc || (hosts[i].v[0] == '\0' && prc == -1),
		    "service-name \"%s\": the parser agrees", hosts[i].v);
		if (prc == 0 && conf != NULL && hosts[i].out != NULL)
			is_str(conf->service_name, hosts[i].out,
			    "service-name \"%s\" stored normalised",
			    hosts[i].v);
		conf_free(conf);
	}
	is_int(conf_valid_host("Example.org", NULL, 0, NULL, 0), 0,
	    "host: out and err may be NULL");
	is_int(conf_valid_host("a..b", NULL, 0, NULL, 0), -1,
	    "host: refused without err");
	is_int(conf_valid_host("example.org", out, 11, err, sizeof(err)), -1,
	    "host: out too small");
	is_int(conf_valid_host("a..b", NULL, 0, err, 4), -1,
	    "host: small err");
	is_str(err, "\"a.", "host: err truncated, NUL-terminated");

	/* Lengths: labels up to 63 bytes, names up to 253. */
	memset(name, 'a', sizeof(name));
	name[63] = '\0';
	is_int(conf_valid_host(name, NULL, 0, NULL, 0), 0, "63-byte label");
	name[63] = 'a';
	name[64] = '\0';
	is_int(conf_valid_host(name, NULL, 0, NULL, 0), -1, "64-byte label");
	for (i = 0; i < CONF_HOST_MAX; i += 2)
		name[i] = 'a', name[i + 1] = '.';
	name[CONF_HOST_MAX] = '\0';	/* "a.a. ... a": 253 bytes. */
	is_int(conf_valid_host(name, out, sizeof(out), NULL, 0), 0,
	    "253-byte name");
	name[CONF_HOST_MAX] = '.';
	name[CONF_HOST_MAX + 1] = '\0';
	is_int(conf_valid_host(name, out, sizeof(out), NULL, 0), 0,
	    "253 bytes and a trailing dot");
	is_int((int)strlen(out), CONF_HOST_MAX, "trailing dot dropped");
	name[CONF_HOST_MAX] = 'a';
	is_int(conf_valid_host(name, NULL, 0, err, sizeof(err)), -1,
	    "254-byte name refused");
	is_int(parse("acme-email a@b\xc3\xbc" "cher.example\n", &conf, err,
	    sizeof(err)), -1, "acme-email: ASCII only");
	is_int(parse("acme-email a@xn--bcher-kva.example\n", &conf, err,
	    sizeof(err)), 0, "acme-email: an A-label domain");
	conf_free(conf);

	for (i = 0; i < sizeof(ruas) / sizeof(ruas[0]); i++) {
		rc = conf_valid_rua(ruas[i].v, err, sizeof(err));
		is_int(rc, ruas[i].good ? 0 : -1, "rua \"%s\" %s", ruas[i].v,
		    ruas[i].good ? "valid" : "refused");
		if (!ruas[i].good)
			ok(strstr(err, "is not a list of mailto: or https:// "
			    "URIs") != NULL, "rua \"%s\": message", ruas[i].v);
		(void)snprintf(text, sizeof(text), "tlsrpt-rua %s\n",
		    ruas[i].v);
		prc = parse(text, &conf, err, sizeof(err));
		is_int(prc, rc, "tlsrpt-rua \"%s\": the parser agrees",
		    ruas[i].v);
		if (prc == 0 && conf != NULL)
			ok(strcmp(conf->tlsrpt_rua, ruas[i].v) == 0,
			    "tlsrpt-rua \"%s\" kept", ruas[i].v);
		conf_free(conf);
	}
	/* The longest that fits, and one byte more. */
	memset(rua, 'x', sizeof(rua));
	memcpy(rua, "https://", 8);
	rua[CONF_RUA_MAX - 1] = '\0';
	is_int(conf_valid_rua(rua, err, sizeof(err)), 0, "rua of 255 bytes");
	(void)snprintf(text, sizeof(text), "tlsrpt-rua %s\n", rua);
	is_int(parse(text, &conf, err, sizeof(err)), 0,
	    "tlsrpt-rua of 255 bytes");
	conf_free(conf);
	rua[CONF_RUA_MAX - 1] = 'x';
	rua[CONF_RUA_MAX] = '\0';
	is_int(conf_valid_rua(rua, err, sizeof(err)), -1,
	    "rua of 256 bytes refused");
	is_str(err, "longer than 255 bytes", "rua: length message");
	(void)snprintf(text, sizeof(text), "tlsrpt-rua %s\n", rua);
	bad(text, 1, "tlsrpt-rua: longer than 255 bytes");
	is_int(conf_valid_rua("nobody", NULL, 0), -1, "rua: no err buffer");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	(void)snprintf(path, sizeof(path), "%s/wkdd.conf", dir);
	t_defaults();
	t_all();
	t_service();
	t_metrics();
	t_dump();
	t_errors();
	t_valid();
	(void)unlink(path);
	(void)rmdir(dir);
	return (done());
}
