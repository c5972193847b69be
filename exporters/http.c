/* The HTTP side of --listen: one libmicrohttpd thread serving GET /metrics (the text a render
 * callback makes, called on that thread), a short page at / and 404 elsewhere. The listening
 * socket is ours, bound before the daemon starts, so a port in use is said plainly. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "export.h"

struct oex_http {
	struct MHD_Daemon *d;
	oex_http_render_fn render;
	void *arg;
	unsigned port;
	char where[96]; /* "127.0.0.1:9464" as bound */
};

static const char index_page[] = "<html><head><title>offrx-export</title></head><body>\n"
				 "<h1>offrx-export</h1>\n"
				 "<p>An offrx receive engine's trace as Prometheus metrics: <a "
				 "href=\"/metrics\">/metrics</a>"
				 " (offrx-export(1) lists them).</p>\n"
				 "</body></html>\n";

/* Does the Accept header ask for OpenMetrics? Prometheus lists it first when it can parse it. */
static bool wants_openmetrics(struct MHD_Connection *conn)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	return a && strstr(a, "application/openmetrics-text");
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

#define LIT(s) (void *)(s), sizeof(s) - 1, MHD_RESPMEM_PERSISTENT

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct oex_http *h = cls;
	bool head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
	bool om;
	char *text;
	size_t len;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && !head)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
			     LIT("offrx-export serves GET /metrics\n"));
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", LIT(index_page));
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
			     LIT("not found: offrx-export serves /metrics\n"));
	om = wants_openmetrics(conn);
	if (h->render(h->arg, om, &text, &len))
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
			     LIT("offrx-export: out of memory\n"));
	return reply(conn, MHD_HTTP_OK,
		     om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
			: "text/plain; version=0.0.4; charset=utf-8",
		     text, len, MHD_RESPMEM_MUST_FREE);
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (every address) into host (NULL for every address) and
 * port. 0 or -EINVAL. */
static int split_hostport(const char *s, char *host, size_t hlen, char **hostp, char *port,
			  size_t plen)
{
	const char *colon;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* a bare IPv6 address wants brackets */
		n = (size_t)(colon - s);
	}
	if (n >= hlen || strlen(colon + 1) >= plen || !colon[1])
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	*hostp = n ? host : NULL;
	snprintf(port, plen, "%s", colon + 1);
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	return atol(port) > 65535 ? -EINVAL : 0;
}

/* A listening TCP socket on spec. The fd, or -1 with err said. */
static int listen_on(const char *spec, char *where, size_t wlen, unsigned *bound_port, char *err,
		     size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res, *ai;
	char host[256], *hostp, port[8];
	int fd = -1, e = 0, one = 1, rc;

	if (split_hostport(spec, host, sizeof(host), &hostp, port, sizeof(port))) {
		snprintf(err, errlen,
			 "--listen %s: give HOST:PORT, like 127.0.0.1:9464, [::1]:9464 or :9464 "
			 "(every address); PORT 0 picks a free one",
			 spec);
		return -1;
	}
	rc = getaddrinfo(hostp, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "--listen %s: cannot resolve '%s': %s", spec,
			 hostp ? hostp : "", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 64))
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (e == EADDRINUSE)
			snprintf(
				err, errlen,
				"--listen %s: the port is taken (another program listens there: "
				"ss -ltnp 'sport = :%s' names it); pick another port, or 0 for any "
				"free one",
				spec, port);
		else
			snprintf(err, errlen, "--listen %s: cannot listen there: %s", spec,
				 strerror(e));
		return -1;
	}

	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	char h[64], p[8];
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) ||
	    getnameinfo((struct sockaddr *)&sa, sl, h, sizeof(h), p, sizeof(p),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(err, errlen, "--listen %s: cannot read the bound address: %s", spec,
			 strerror(errno));
		close(fd);
		return -1;
	}
	*bound_port = (unsigned)atoi(p);
	oex_fmt_endpoint(where, wlen, h, *bound_port);
	return fd;
}

struct oex_http *oex_http_start(const char *spec, oex_http_render_fn render, void *arg, char *err,
				size_t errlen)
{
	struct oex_http *h = calloc(1, sizeof(*h));
	int fd;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fd = listen_on(spec, h->where, sizeof(h->where), &h->port, err, errlen);
	if (fd < 0) {
		free(h);
		return NULL;
	}
	h->render = render;
	h->arg = arg;
	/* One thread polls and answers: a scrape a second needs no more, and the render holds
	 * the writer's lock only to copy its tables. */
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
				on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
				10u, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "--listen %s: libmicrohttpd could not start its thread",
			 spec);
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

const char *oex_http_where(const struct oex_http *h)
{
	return h->where;
}

void oex_http_stop(struct oex_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d); /* closes the listening socket too */
	free(h);
}
