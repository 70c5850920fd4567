/*
 * HTTP/1.1 on raw libevent events: accept with an evconnlistener, one
 * persistent EV_READ event per connection, requests parsed by http-parser,
 * answers written straight to the socket. Also body limits, the connection
 * cap, and the one function that answers errors; what a request asks for is
 * routes.c's business (routes_dispatch).
 *
 * Why not evhttp: it spends about 10 µs of CPU per request on this machine
 * (four epoll_ctl calls, an ioctl and many small allocations per request);
 * this layer under half of that (30,600 user-space instructions per request
 * against 5,200). In the steady state a request is one read() and one
 * writev(), with no epoll_ctl and no allocation: every buffer belongs to
 * the connection and is reused.
 *
 * A connection answers its requests strictly in order: once a request is
 * complete, parsing stops until it is answered (pipelined bytes wait in the
 * input buffer), so a request that waits on Redis holds back the next one.
 *
 * Deadlines, none of them refreshed by the bytes that trickle in (a client
 * sending one byte a second is dropped like one sending nothing):
 * - a request head must be complete HTTP_HEAD_TIMEOUT_MS (10 s) after the
 *   request's first byte, or after the accept for a new connection;
 * - its body HTTP_BODY_TIMEOUT_MS (30 s) after the end of the head;
 *   either one missed is answered 408 and the connection closed;
 * - a kept-alive connection may idle HTTP_IDLE_TIMEOUT_MS (60 s) after its
 *   last answer before the next request's first byte;
 * - an answer must be taken by the client within HTTP_WRITE_TIMEOUT_MS
 *   (30 s) of its first byte.
 * Past server.max_connections, a new connection first takes the slot of the
 * slowest request in progress, if it has been at it HTTP_EVICT_AFTER_MS
 * (100 ms) or more (that one is answered 408 and closed); otherwise it gets a
 * 503 written at once, without reading a byte of it, and is closed. An
 * accept error (EMFILE...) pauses the listener HTTP_ACCEPT_PAUSE_MIN_MS,
 * doubling up to HTTP_ACCEPT_PAUSE_MAX_MS, instead of spinning the loop.
 *
 * With [server] tls_cert and tls_key the listener speaks TLS only (there
 * is no plain listener: bearer tokens never travel in clear). The same
 * state machine runs over SSL_read/SSL_write on the connection's socket:
 * the handshake happens in HTTP_CONN_READ under the head deadline (a client
 * that never finishes it is dropped like a slow head), a read that needs
 * the socket writable waits on EV_WRITE (tls_read_on_write), and bytes
 * OpenSSL decrypted but we had no room for are fetched by activating
 * EV_READ by hand, since the socket will not signal them again. A plain
 * HTTP request to the TLS port is answered a plain 400 and closed. An
 * answer goes out as one TLS record where it fits: head and body are
 * gathered in the output buffer, then written with one SSL_write.
 * Renegotiation is off (tls.c), so a write never waits for input.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>	/* events live in their connection */
#include <event2/listener.h>
#include <event2/util.h>
#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "pacerd.h"
#include "pacer/clock.h"
#include "pacer/str.h"

#define HTTP_HEAD_TIMEOUT_MS	10000	/* first byte (or accept) to end of head */
#define HTTP_BODY_TIMEOUT_MS	30000	/* end of head to end of body */
#define HTTP_IDLE_TIMEOUT_MS	60000	/* last answer to the next request */
#define HTTP_WRITE_TIMEOUT_MS	30000	/* an answer's first byte to its last */
#define HTTP_LINGER_MS		2000	/* draining input after a closing answer */
#define HTTP_EVICT_AFTER_MS	100	/* at the cap, a request this slow yields */
#define HTTP_ACCEPT_PAUSE_MIN_MS 100	/* listener paused after an accept error */
#define HTTP_ACCEPT_PAUSE_MAX_MS 1000
#define HTTP_ACCEPT_LOG_MS	10000	/* at most one warn line per this */
#define HTTP_REFUSED_MAX	256	/* refused sockets drained at once, at most */
#define HTTP_INPUT_SIZE	8192	/* per-connection input buffer */
#define HTTP_HEAD_MAX	16384	/* URL plus header names and values, bytes */
#define HTTP_HEADERS_MAX 64	/* header fields in one request */
#define HTTP_KEEP_BUFFER 65536	/* larger body or output buffers are freed after use */

/* Where a connection is; every state says what its events are doing. */
enum http_conn_state {
	HTTP_CONN_READ,		/* EV_READ on; input is parsed as it comes */
	HTTP_CONN_HANDLE,	/* a request is with its handler; later input is
				 * buffered, not parsed (EV_READ stays on to see
				 * more pipelined bytes or EOF) */
	HTTP_CONN_WRITE,	/* an answer is partly written; EV_WRITE sends the
				 * rest, then parsing resumes */
	HTTP_CONN_LINGER,	/* answered with close: our side is shut down and
				 * input is discarded until EOF or HTTP_LINGER_MS,
				 * so the client reads the answer, not a reset */
	HTTP_CONN_ORPHAN,	/* socket closed while a handler holds the request:
				 * its answer is dropped and buries the connection */
	HTTP_CONN_CLOSED	/* on the dead list until the reaper frees it */
};

/*
 * Which deadline a connection in HTTP_CONN_READ is under; the slow ones
 * (head, body) are also on the server's slow list, oldest first.
 */
enum http_wait {
	HTTP_WAIT_IDLE,		/* between requests: HTTP_IDLE_TIMEOUT_MS */
	HTTP_WAIT_HEAD,		/* a head under way: HTTP_HEAD_TIMEOUT_MS */
	HTTP_WAIT_BODY		/* a body under way: HTTP_BODY_TIMEOUT_MS */
};

/* Which piece of the request head http-parser is handing us. */
enum http_piece { HTTP_PIECE_URL, HTTP_PIECE_NAME, HTTP_PIECE_VALUE };

/* One request; lives in its connection and is reused for the next one. */
struct http_request {
	struct http_conn	*conn;
	unsigned		 method;	/* enum http_method */
	int			 route;		/* routes_of, -1: not routed */
	int			 keep_alive;	/* the client keeps the connection */
	int			 close;		/* we close after answering */
	int			 http10;	/* HTTP/1.0 */
	enum http_piece		 piece;
	/* URL, then each header's name and value, NUL-terminated. */
	char			*head;
	size_t			 headlen, headcap;
	struct {
		uint32_t	 name, value;	/* offsets in head */
	}			 header[HTTP_HEADERS_MAX];
	int			 nheader;
	char			*body;
	size_t			 bodylen, bodycap;
	int64_t			 start_us;	/* first byte, for the access log */
};

/* One client connection. */
struct http_conn {
	struct http_server	*srv;
	struct http_conn	*prev, *next;
	int			 fd;
	enum http_conn_state	 state;
	int			 processing;	/* http_conn_process on the stack */
	int			 reading;	/* ev_read added */
	int			 writing;	/* ev_write added */
	int			 peer_eof;	/* the client shut its side */
	int			 partial;	/* a request's first byte was parsed,
						 * its last not yet */
	int			 refuse;	/* status a parser callback refused with */
	enum http_wait		 wait;
	int64_t			 since_ms;	/* start of the wait, the write or
						 * the linger (http_clock_ms) */
	struct http_conn	*slow_prev, *slow_next; /* on srv's slow list */
	int			 slow;		/* on it */
	struct event		 ev_read, ev_write;
	http_parser		 parser;
	struct http_request	 req;
	char			*out;		/* what the socket did not take yet */
	size_t			 outoff, outlen, outcap;
	SSL			*ssl;		/* NULL: plain HTTP */
	int			 handshaking;	/* the TLS handshake is under way */
	int			 tls_read_on_write; /* SSL_read waits for EV_WRITE */
	int			 tls_dead;	/* a TLS error: no close_notify */
	struct sockaddr_storage	 peer;		/* the client, for the access log */
	socklen_t		 peerlen;
	size_t			 inoff, inlen;	/* unparsed input: in[inoff, inlen) */
	char			 in[HTTP_INPUT_SIZE];
};

/* A socket refused past the cap: drained until EOF, then closed. */
struct http_refused {
	struct http_server	*srv;
	struct http_refused	*prev, *next;
	struct event		*ev;		/* EV_READ on the socket */
	int64_t			 deadline_ms;	/* closed then, drained or not */
};

/* The server: its listener, its connections and the deadline sweep. */
struct http_server {
	struct pacerd		*d;
	struct evconnlistener	*listener;
	struct event		*sweep;
	struct http_conn	*conns;		/* open connections and orphans */
	struct http_conn	*dead;		/* closed, freed by reap */
	struct http_conn	*slow_head, *slow_tail; /* heads and bodies under
						 * way, oldest first */
	struct http_refused	*refused;	/* refused sockets draining */
	int			 nrefused;
	struct event		*reap;
	struct event		*accept_resume;	/* ends an accept pause */
	int			 accept_pause_ms; /* last pause, 0: none */
	int64_t			 accept_logged_ms; /* last warn line */
	uint64_t		 accept_errors;	/* since the last warn line */
	int			 nconn;		/* admitted connections */
	int			 inflight;	/* requests waiting on the store */
	time_t			 date_sec;
	char			 date[48];	/* "Date: ...\r\n" of date_sec */
	SSL_CTX			*tls;		/* the listener's (a reference);
						 * NULL: plain HTTP */
	FILE			*access;	/* access log, NULL: none */
	struct pacerd_rules	*access_rules;	/* the rules it was opened for
						 * (a reference) */
};

static void http_conn_process(struct http_conn *);
static void http_conn_refuse(struct http_conn *, enum http_errno);

/* Seconds on the loop's cached clock (no system call). */
static time_t
http_now(const struct http_server *srv)
{
	struct timeval	 tv;

	event_base_gettimeofday_cached(srv->d->base, &tv);
	return tv.tv_sec;
}

/* Take a connection off the slow list, if it is on it. */
static void
http_slow_unlink(struct http_conn *c)
{
	struct http_server	*srv = c->srv;

	if (!c->slow)
		return;
	if (c->slow_prev != NULL)
		c->slow_prev->slow_next = c->slow_next;
	else
		srv->slow_head = c->slow_next;
	if (c->slow_next != NULL)
		c->slow_next->slow_prev = c->slow_prev;
	else
		srv->slow_tail = c->slow_prev;
	c->slow_prev = c->slow_next = NULL;
	c->slow = 0;
}

/*
 * Start a wait now. A head or a body goes to the tail of the slow list,
 * which stays sorted by since_ms because now never goes back.
 */
static void
http_conn_wait(struct http_conn *c, enum http_wait wait)
{
	struct http_server	*srv = c->srv;

	http_slow_unlink(c);
	c->wait = wait;
	c->since_ms = clock_mono_ms();
	if (wait == HTTP_WAIT_IDLE)
		return;
	c->slow_prev = srv->slow_tail;
	if (srv->slow_tail != NULL)
		srv->slow_tail->slow_next = c;
	else
		srv->slow_head = c;
	srv->slow_tail = c;
	c->slow = 1;
}

/* Free a connection's memory. */
static void
http_conn_free(struct http_conn *c)
{
	free(c->req.head);
	free(c->req.body);
	free(c->out);
	free(c);
}

/*
 * Move a closed connection from the live list to the dead one, which the
 * reaper frees once the loop is back at its top: functions up the stack
 * may still look at the connection, never after that.
 */
static void
http_conn_bury(struct http_conn *c)
{
	struct http_server	*srv = c->srv;

	http_slow_unlink(c);
	c->state = HTTP_CONN_CLOSED;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = srv->dead;
	srv->dead = c;
	event_active(srv->reap, EV_TIMEOUT, 0);
}

/* Event: free the connections closed during the last turn of the loop. */
static void
http_reap_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_server	*srv = arg;

	(void)fd;
	(void)ev;
	while (srv->dead != NULL) {
		struct http_conn *c = srv->dead;

		srv->dead = c->next;
		http_conn_free(c);
	}
}

/*
 * Close the socket. A connection whose request is with a handler becomes an
 * orphan (the handler's answer buries it); any other is buried now.
 */
static void
http_conn_close(struct http_conn *c)
{
	http_slow_unlink(c);
	if (c->fd >= 0) {
		event_del(&c->ev_read);
		event_del(&c->ev_write);
		SSL_free(c->ssl);
		c->ssl = NULL;
		close(c->fd);
		c->fd = -1;
		c->reading = c->writing = 0;
		c->srv->nconn--;
	}
	if (c->state == HTTP_CONN_HANDLE || c->state == HTTP_CONN_ORPHAN) {
		c->state = HTTP_CONN_ORPHAN;
		return;
	}
	http_conn_bury(c);
}

/*
 * After a read or write returned -1: 1 when the connection failed (it is
 * then closed), 0 when the socket is only not ready (the level-triggered
 * event fires again).
 */
static int
http_conn_failed(struct http_conn *c)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	http_conn_close(c);
	return 1;
}

/*
 * After an SSL call returned rc: -1 with errno EAGAIN when it only waits
 * for the socket (a read waiting to write sets tls_read_on_write and
 * EV_WRITE), 0 at the client's close, -1 with another errno on failure.
 */
static int
http_tls_result(struct http_conn *c, int rc, int reading)
{
	int	 saved = errno;

	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (reading && !c->writing) {
			event_add(&c->ev_write, NULL);
			c->writing = 1;
		}
		c->tls_read_on_write |= reading;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:	/* close_notify, or EOF (tls.c) */
		return 0;
	case SSL_ERROR_SYSCALL:
		c->tls_dead = 1;
		errno = saved != 0 && saved != EAGAIN ? saved : EPROTO;
		return -1;
	default:
		c->tls_dead = 1;
		errno = EPROTO;
		return -1;
	}
}

/* read() the socket, through TLS when it speaks it; as read() answers. */
static ssize_t
http_conn_recv(struct http_conn *c, char *buf, size_t len)
{
	int	 n;

	/* Lingering input is discarded: no need to decrypt it. */
	if (c->ssl == NULL || c->state == HTTP_CONN_LINGER)
		return read(c->fd, buf, len);
	ERR_clear_error();
	c->tls_read_on_write = 0;
	if ((n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0)
		return n;
	return http_tls_result(c, n, 1);
}

/* write() to the socket, through TLS when it speaks it; as write() answers. */
static ssize_t
http_conn_write(struct http_conn *c, const char *buf, size_t len)
{
	int	 n;

	if (c->ssl == NULL)
		return write(c->fd, buf, len);
	ERR_clear_error();
	if ((n = SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0)
		return n;
	if (http_tls_result(c, n, 0) == 0)
		errno = EPIPE;
	return -1;
}

/*
 * OpenSSL may hold decrypted bytes we had no room for; the socket will not
 * say so again, so run the read callback once more by hand.
 */
static void
http_conn_tls_pending(struct http_conn *c)
{
	if (c->ssl != NULL && c->reading && !c->handshaking &&
	    SSL_pending(c->ssl) > 0)
		event_active(&c->ev_read, EV_READ, 0);
}

/* Make room for len more bytes in a buffer of at most max; 0 or -1. */
static int
http_grow(char **buf, size_t *cap, size_t used, size_t len, size_t max)
{
	size_t	 want = *cap ? *cap : 1024;
	char	*p;

	if (used + len <= *cap)
		return 0;
	if (used + len > max)
		return -1;
	while (want < used + len)
		want *= 2;
	if (want > max)
		want = max;
	if ((p = realloc(*buf, want)) == NULL)
		return -1;
	*buf = p;
	*cap = want;
	return 0;
}

/*
 * Write iov now and keep what the socket does not take for EV_WRITE (after
 * what already waits, so answers keep their order). 0, or -1 when the
 * connection failed and was closed.
 */
static int
http_conn_send(struct http_conn *c, const struct iovec *iov, int iovcnt)
{
	ssize_t	 n = 0;
	size_t	 done;

	/* TLS: gather, then one SSL_write (one record, not one per piece). */
	if (c->outoff == c->outlen && c->ssl == NULL) {
		c->outoff = c->outlen = 0;
		if ((n = writev(c->fd, iov, iovcnt)) < 0) {
			if (http_conn_failed(c))
				return -1;
			n = 0;
		}
	}
	done = (size_t)n;
	for (int i = 0; i < iovcnt; i++) {
		size_t	 skip = done < iov[i].iov_len ? done : iov[i].iov_len;
		size_t	 rest = iov[i].iov_len - skip;

		done -= skip;
		if (rest == 0)
			continue;
		if (c->outoff > 0) {
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		if (http_grow(&c->out, &c->outcap, c->outlen, rest, SIZE_MAX / 2) != 0) {
			http_conn_close(c);
			return -1;
		}
		memcpy(c->out + c->outlen, (const char *)iov[i].iov_base + skip, rest);
		c->outlen += rest;
	}
	while (c->ssl != NULL && c->outoff < c->outlen) {
		if ((n = http_conn_write(c, c->out + c->outoff,
		    c->outlen - c->outoff)) < 0) {
			if (http_conn_failed(c))
				return -1;
			break;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outoff < c->outlen && !c->writing) {
		event_add(&c->ev_write, NULL);
		c->writing = 1;
	}
	return 0;
}

/*
 * Answer closing the connection: shut our side, then discard what the
 * client still sends until it closes too (closing with unread input would
 * reset the connection and could destroy the answer before it is read).
 */
static void
http_conn_linger(struct http_conn *c)
{
	c->state = HTTP_CONN_LINGER;
	c->since_ms = clock_mono_ms();
	/* TLS says it ends (best effort: what follows is discarded anyway). */
	if (c->ssl != NULL && !c->handshaking && !c->tls_dead && !c->peer_eof) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
	}
	if (c->peer_eof || shutdown(c->fd, SHUT_WR) != 0) {
		http_conn_close(c);
		return;
	}
	if (!c->reading) {
		event_add(&c->ev_read, NULL);
		c->reading = 1;
	}
}

/* The answer to the current request is on its way: next request or close. */
static void
http_conn_answered(struct http_conn *c)
{
	struct http_request	*req = &c->req;

	if (req->bodycap > HTTP_KEEP_BUFFER) {
		free(req->body);
		req->body = NULL;
		req->bodycap = 0;
	}
	if (req->close || !req->keep_alive) {
		http_conn_linger(c);
		return;
	}
	c->state = HTTP_CONN_READ;
	http_conn_wait(c, HTTP_WAIT_IDLE);	/* idle from now, not from the request */
	if (!c->reading && !c->peer_eof) {
		event_add(&c->ev_read, NULL);
		c->reading = 1;
	}
	http_conn_tls_pending(c);
	if (!c->processing)
		http_conn_process(c);
}

/* Refresh the cached Date header once a second. */
static const char *
http_date(struct http_server *srv)
{
	time_t		 now = http_now(srv);
	struct tm	 tm;

	if (now != srv->date_sec && gmtime_r(&now, &tm) != NULL) {
		strftime(srv->date, sizeof srv->date,
		    "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		srv->date_sec = now;
	}
	return srv->date;
}

/* The stable code of each status when the message names nothing finer. */
static const struct {
	int		 status;
	const char	*code;
} http_status_codes[] = {
	{ 400, "bad_request" }, { 401, "unauthorized" }, { 403, "forbidden" },
	{ 404, "not_found" }, { 405, "method_not_allowed" }, { 408, "timeout" },
	{ 409, "conflict" }, { 411, "length_required" }, { 413, "too_large" },
	{ 414, "uri_too_long" }, { 415, "unsupported_media_type" },
	{ 417, "expectation_failed" }, { 431, "headers_too_large" },
	{ 500, "internal" }, { 501, "not_implemented" },
	{ 503, "unavailable" }, { 505, "http_version" },
};

void
http_error_code(int status, const char *msg, char *code, size_t len)
{
	size_t	 n = strspn(msg, "abcdefghijklmnopqrstuvwxyz_");

	/*
	 * Messages name what is wrong first: "unknown field ...", "FIELD:
	 * unknown FIELD ...", "FIELD: ..." (decide_parse and the handlers
	 * keep that form), so the code follows the message's head.
	 */
	if (status == 400 && strncmp(msg, "unknown field", 13) == 0) {
		snprintf(code, len, "unknown_field");
		return;
	}
	if (status == 400 && (strstr(msg, "JSON") != NULL ||
	    strncmp(msg, "body must be", 12) == 0 || strstr(msg, "json") != NULL) &&
	    (n == 0 || (msg[n] != ':' && msg[n] != '.' && msg[n] != '['))) {
		snprintf(code, len, "bad_json");
		return;
	}
	if (status == 400 && n > 0 && n < 32 && (msg[n] == ':' || msg[n] == '.' ||
	    msg[n] == '[')) {
		if (strncmp(msg + n, ": unknown ", 10) == 0)
			snprintf(code, len, "unknown_%.*s", (int)n, msg);
		else
			snprintf(code, len, "bad_%.*s", (int)n, msg);
		return;
	}
	if (status == 503 && strncmp(msg, "store", 5) == 0) {
		snprintf(code, len, "store_unavailable");
		return;
	}
	if (status == 503 && strcmp(msg, "draining") == 0) {
		snprintf(code, len, "draining");
		return;
	}
	for (size_t i = 0; i < sizeof http_status_codes / sizeof http_status_codes[0];
	    i++)
		if (http_status_codes[i].status == status) {
			snprintf(code, len, "%s", http_status_codes[i].code);
			return;
		}
	snprintf(code, len, "%s", status >= 500 ? "internal" : "bad_request");
}

/*
 * (Re)open the access log the live rules name (server.access_log) and hold
 * those rules, so a reload (SIGHUP after logrotate) reopens it. 0, or -1
 * with *cause (caller frees) "file:line: ..." when cause is not NULL;
 * without it (a reload) a failure keeps the old log and says so.
 */
static int
http_access_open(struct http_server *srv, char **cause)
{
	struct pacerd		*d = srv->d;
	const struct conf	*conf = d->rules->conf;
	const char		*path = conf->server.access_log;
	FILE			*fp = NULL;
	char			 msg[1024];

	pacerd_rules_unref(srv->access_rules);
	srv->access_rules = pacerd_rules_ref(d);
	if (path != NULL && strcmp(path, "-") == 0)
		fp = stderr;
	else if (path != NULL && (fp = fopen(path, "ae")) == NULL) {
		snprintf(msg, sizeof msg, "%s:%d: access_log: cannot open %s: %s",
		    conf->path, conf_key_line(conf, "server", "access_log"), path,
		    strerror(errno));
		if (cause != NULL) {
			*cause = strdup(msg);
			return -1;
		}
		log_warn("cannot open the access log; the old one stays",
		    "error=\"%s\"", msg);
		return 0;
	}
	/* One line, one write: another process may append to the file too. */
	if (fp != NULL && fp != stderr)
		setvbuf(fp, NULL, _IOLBF, 0);
	if (srv->access != NULL && srv->access != stderr)
		fclose(srv->access);
	srv->access = fp;
	return 0;
}

/* Write one access log line: fmt's key=value pairs, escaped as logfmt. */
static void __attribute__((format(printf, 2, 3)))
http_access_write(FILE *fp, const char *fmt, ...)
{
	struct timespec	 ts;
	va_list		 ap;
	char		*line;

	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	line = log_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	    LOG_INFO, "request", fmt, ap);
	va_end(ap);
	if (line != NULL)
		fprintf(fp, "%s\n", line);
	free(line);
}

/*
 * The access log line of an answer: the client, the request line's method
 * and path (never the query), status, body bytes and the time from the
 * request's first byte.
 */
static void
http_access_log(struct http_conn *c, int status, size_t len)
{
	struct http_request	*req = &c->req;
	char			 host[NI_MAXHOST] = "-", serv[NI_MAXSERV] = "-";
	char			 path[HTTP_PATH_MAX] = "", remote[sizeof host + sizeof serv + 3];
	size_t			 n = req->head != NULL ? strcspn(req->head, "?#") : 0;
	int64_t			 took = clock_mono_us() - req->start_us;
	const char		*name;

	if (c->peerlen > 0)
		(void)getnameinfo((const struct sockaddr *)&c->peer, c->peerlen,
		    host, sizeof host, serv, sizeof serv,
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(remote, sizeof remote, c->peer.ss_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", host, serv);
	snprintf(path, sizeof path, "%.*s", (int)(n < sizeof path ? n :
	    sizeof path - 1), req->head != NULL ? req->head : "");
	/* Who: the token's name when it is a known one (never the token). */
	name = routes_token(c->srv->d, req);
	http_access_write(c->srv->access, "remote=%s method=%s path=%s status=%d "
	    "bytes=%zu duration_ms=%.3f tls=%s token=%s", remote,
	    http_method_str((enum http_method)req->method), path, status, len,
	    req->start_us > 0 ? (double)took / 1000.0 : 0.0,
	    c->ssl != NULL ? "true" : "false", name != NULL ? name : "-");
}

static void	http_error_v(struct pacerd *, struct http_request *, int,
		    const char *, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));

/*
 * Send the answer to req: status, content type, extra header lines (each
 * ending in CRLF, or NULL) and the body (borrowed). Drops it when the client
 * has gone.
 */
static void
http_reply(struct http_request *req, int status, const char *content_type,
    const char *extra, const char *body, size_t len)
{
	struct http_conn	*c = req->conn;
	char			 head[1024];
	struct iovec		 iov[2];
	struct str_buf		 b;
	int			 n, closing;

	metrics_http_request(c->srv->d->metrics, req->route, req->method, status);
	if (c->srv->access_rules != c->srv->d->rules)
		(void)http_access_open(c->srv, NULL);
	if (c->srv->access != NULL)
		http_access_log(c, status, req->method == HTTP_HEAD ? 0 : len);
	if (c->state == HTTP_CONN_ORPHAN) {
		http_conn_bury(c);
		return;
	}
	closing = req->close || !req->keep_alive;
	/* Every answer: no format to parse. */
	str_buf_init(&b, head, sizeof head);
	str_buf_lit(&b, "HTTP/1.1 ");
	str_buf_int(&b, status);
	str_buf_lit(&b, " ");
	str_buf_cat(&b, http_status_str((enum http_status)status));
	str_buf_lit(&b, "\r\n");
	str_buf_cat(&b, http_date(c->srv));
	str_buf_lit(&b, "Content-Type: ");
	str_buf_cat(&b, content_type);
	str_buf_lit(&b, "\r\nContent-Length: ");
	str_buf_int(&b, (long long)len);
	str_buf_lit(&b, "\r\n");
	str_buf_cat(&b, closing ? "Connection: close\r\n" : req->http10 ?
	    "Connection: keep-alive\r\n" : "");
	str_buf_cat(&b, extra ? extra : "");
	str_buf_lit(&b, "\r\n");
	if ((n = str_buf_end(&b)) < 0) {
		/* Only a huge extra header could do this; send the essentials. */
		n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status,
		    http_status_str((enum http_status)status), content_type, len);
		req->close = 1;
	}
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)body;	/* writev does not write it */
	iov[1].iov_len = req->method == HTTP_HEAD ? 0 : len;
	c->state = HTTP_CONN_WRITE;
	c->since_ms = clock_mono_ms();
	if (http_conn_send(c, iov, 2) != 0)
		return;
	if (c->outoff == c->outlen)
		http_conn_answered(c);
}

void
http_send_text(struct pacerd *d, struct http_request *req, int status,
    const char *body, size_t len, const char *content_type)
{
	(void)d;
	http_reply(req, status, content_type, NULL, body, len);
}

void
http_json(struct pacerd *d, struct http_request *req, int status, json_t *o)
{
	char	*text = json_dumps(o, JSON_COMPACT);

	if (text == NULL) {
		http_error(d, req, 500, "out of memory");
		return;
	}
	http_send_text(d, req, status, text, strlen(text), "application/json");
	free(text);
}

void
http_error(struct pacerd *d, struct http_request *req, int status,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	http_error_v(d, req, status, NULL, fmt, ap);
	va_end(ap);
}

void
http_error_coded(struct pacerd *d, struct http_request *req, int status,
    const char *code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	http_error_v(d, req, status, code, fmt, ap);
	va_end(ap);
}

/* The one error writer: the message, its code (NULL: derived), the status. */
static void
http_error_v(struct pacerd *d, struct http_request *req, int status,
    const char *given, const char *fmt, va_list ap)
{
	char	 msg[1024];
	json_t	*o;
	char	*text;
	char	 allowed[64], extra[96] = "", code[HTTP_CODE_MAX];
	const char *allow = NULL;

	vsnprintf(msg, sizeof msg, fmt, ap);
	/* A 405's message starts with what the path takes: "PATH takes GET". */
	if (status == 405 && (allow = strstr(msg, " takes ")) != NULL) {
		snprintf(allowed, sizeof allowed, "%s", allow + 7);
		for (char *p = allowed; *p; p++)
			if (*p == ' ' && strncmp(p, " or ", 4) == 0) {
				memmove(p + 1, p + 3, strlen(p + 3) + 1);
				*p = ',';
			}
		allow = allowed;
	}
	metrics_http_error(d->metrics, status);
	log_debug("request refused", "status=%d error=\"%s\"", status, msg);
	if (status == 401)
		snprintf(extra, sizeof extra, "WWW-Authenticate: Bearer\r\n");
	if (status == 405 && allow != NULL)
		snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
	if (given != NULL)
		snprintf(code, sizeof code, "%s", given);
	else
		http_error_code(status, msg, code, sizeof code);
	o = json_pack("{s:s,s:s}", "error", msg, "code", code);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL)
		http_reply(req, status, "application/json", extra,
		    "{\"error\":\"out of memory\"}", 25);
	else
		http_reply(req, status, "application/json", extra, text, strlen(text));
	free(text);
}

/* Answer 413 for a body of len bytes (at least len when chunked). */
static void
http_body_refuse(struct pacerd *d, struct http_request *req, size_t len,
    int at_least, int batch)
{
	http_error(d, req, 413, "body of %s%zu bytes is over the limit of %zu "
	    "(server.max_body_bytes)%s", at_least ? "at least " : "", len,
	    d->rules->conf->server.max_body_bytes, batch ?
	    "; a batch holds at most 1000 requests" : "");
}

json_t *
http_body_json(struct pacerd *d, struct http_request *req, int batch)
{
	size_t		 len = req->bodylen;
	json_error_t	 err;
	json_t		*o;

	/* The reader refuses larger bodies; a reload may have lowered it. */
	if (len > d->rules->conf->server.max_body_bytes) {
		http_body_refuse(d, req, len, 0, batch);
		return NULL;
	}
	if (len == 0) {
		http_error(d, req, 400, "empty body: a JSON object is needed");
		return NULL;
	}
	o = json_loadb(req->body, len, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL) {
		http_error(d, req, 400, "malformed JSON at line %d column %d: %s",
		    err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		http_error(d, req, 400, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

const char *
http_target(const struct http_request *req)
{
	return req->head;
}

unsigned
http_method_of(const struct http_request *req)
{
	return req->method;
}

void
http_set_route(struct http_request *req, int route)
{
	req->route = route;
}

void
http_close_after(struct http_request *req)
{
	req->close = 1;
}

const char *
http_header(const struct http_request *req, const char *name)
{
	for (int i = 0; i < req->nheader; i++)
		if (strcasecmp(req->head + req->header[i].name, name) == 0)
			return req->head + req->header[i].value;
	return NULL;
}

/* Value of one hex digit, or -1. */
static int
http_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

const char *
http_query(const struct http_request *req, const char *name, char *buf,
    size_t len)
{
	const char	*q = strchr(req->head, '?');
	size_t		 namelen = strlen(name);

	if (q == NULL || len == 0)
		return NULL;
	for (q++; *q != '\0' && *q != '#'; q += strcspn(q, "&#"), q += *q == '&') {
		size_t	 n = 0;

		if (strncmp(q, name, namelen) != 0 || q[namelen] != '=')
			continue;
		for (q += namelen + 1; *q != '\0' && *q != '&' && *q != '#'; q++) {
			char	 ch = *q;

			if (ch == '+')
				ch = ' ';
			else if (ch == '%' && http_hex(q[1]) >= 0 && http_hex(q[2]) >= 0) {
				ch = (char)(http_hex(q[1]) * 16 + http_hex(q[2]));
				q += 2;
			}
			if (n + 1 >= len)
				return NULL;
			buf[n++] = ch;
		}
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

/* http-parser: a new request starts; reset the per-request storage. */
static int
http_on_message_begin(http_parser *p)
{
	struct http_conn	*c = p->data;
	struct http_request	*req = &c->req;

	req->headlen = 0;
	req->nheader = 0;
	req->piece = HTTP_PIECE_URL;
	req->bodylen = 0;
	req->close = 0;
	req->method = HTTP_GET;		/* until the head says */
	req->route = -1;
	req->http10 = 0;
	req->start_us = c->srv->access != NULL ? clock_mono_us() : 0;
	c->partial = 1;
	/* A new connection's head is timed from the accept. */
	if (c->wait == HTTP_WAIT_IDLE)
		http_conn_wait(c, HTTP_WAIT_HEAD);
	return 0;
}

/*
 * Append a piece of the head. http-parser hands each URL, name and value in
 * order, possibly split in several calls; a new kind of piece ends the one
 * before with a NUL. Room for one more byte is always kept, so the last
 * piece can be ended too. 0, or -1 after setting the status to refuse with.
 */
static int
http_head_add(struct http_conn *c, enum http_piece piece, const char *at,
    size_t len)
{
	struct http_request	*req = &c->req;
	int			 starts = piece != req->piece;

	if (http_grow(&req->head, &req->headcap, req->headlen, len + 2,
	    HTTP_HEAD_MAX) != 0) {
		c->refuse = piece == HTTP_PIECE_URL ? 414 : 431;
		return -1;
	}
	if (starts) {
		req->head[req->headlen++] = '\0';
		if (piece == HTTP_PIECE_NAME) {
			if (req->nheader == HTTP_HEADERS_MAX) {
				c->refuse = 431;
				return -1;
			}
			req->header[req->nheader].name = (uint32_t)req->headlen;
			req->header[req->nheader++].value = (uint32_t)req->headlen - 1;
		} else
			req->header[req->nheader - 1].value = (uint32_t)req->headlen;
	}
	req->piece = piece;
	memcpy(req->head + req->headlen, at, len);
	req->headlen += len;
	return 0;
}

/* http-parser: part of the URL. */
static int
http_on_url(http_parser *p, const char *at, size_t len)
{
	return http_head_add(p->data, HTTP_PIECE_URL, at, len);
}

/*
 * http-parser: part of a header name. Trailer fields after a chunked body
 * are skipped: the head was complete before the body.
 */
static int
http_on_header_field(http_parser *p, const char *at, size_t len)
{
	if (p->flags & F_TRAILING)
		return 0;
	return http_head_add(p->data, HTTP_PIECE_NAME, at, len);
}

/* http-parser: part of a header value (trailers skipped, as names). */
static int
http_on_header_value(http_parser *p, const char *at, size_t len)
{
	if (p->flags & F_TRAILING)
		return 0;
	return http_head_add(p->data, HTTP_PIECE_VALUE, at, len);
}

/*
 * http-parser: the head is complete. Refuse what will not be served before
 * reading a body (over the connection cap, body over the limit), and
 * answer "100 Continue" to a client that waits for it.
 */
static int
http_on_headers_complete(http_parser *p)
{
	struct http_conn	*c = p->data;
	struct http_request	*req = &c->req;
	struct pacerd		*d = c->srv->d;
	const char		*expect;

	/* End the last piece (its room is kept); a name alone has value "". */
	if (req->head == NULL) {
		c->refuse = 400;
		return -1;
	}
	req->head[req->headlen] = '\0';
	req->method = p->method;
	req->http10 = p->http_major == 1 && p->http_minor == 0;
	http_conn_wait(c, HTTP_WAIT_BODY);
	if ((p->flags & F_CONTENTLENGTH) &&
	    p->content_length > d->rules->conf->server.max_body_bytes) {
		c->refuse = 413;
		return -1;
	}
	if ((expect = http_header(req, "Expect")) != NULL &&
	    strcasecmp(expect, "100-continue") == 0 && !req->http10 &&
	    ((p->flags & F_CHUNKED) || p->content_length > 0)) {
		static const char	 cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		struct iovec		 iov = { (void *)(uintptr_t)cont, sizeof cont - 1 };

		if (http_conn_send(c, &iov, 1) != 0)
			return -1;
	}
	return 0;
}

/* http-parser: part of the body (de-chunked). */
static int
http_on_body(http_parser *p, const char *at, size_t len)
{
	struct http_conn	*c = p->data;
	struct http_request	*req = &c->req;
	size_t			 max = c->srv->d->rules->conf->server.max_body_bytes;

	if (http_grow(&req->body, &req->bodycap, req->bodylen, len, max) != 0) {
		c->refuse = req->bodylen + len > max ? 413 : 500;
		req->bodylen += len;
		return -1;
	}
	memcpy(req->body + req->bodylen, at, len);
	req->bodylen += len;
	return 0;
}

/* http-parser: the request is complete; pause so it is handled alone. */
static int
http_on_message_complete(http_parser *p)
{
	struct http_conn	*c = p->data;

	c->req.keep_alive = http_should_keep_alive(p);
	c->partial = 0;
	http_slow_unlink(c);
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings http_settings = {
	.on_message_begin = http_on_message_begin,
	.on_url = http_on_url,
	.on_header_field = http_on_header_field,
	.on_header_value = http_on_header_value,
	.on_headers_complete = http_on_headers_complete,
	.on_body = http_on_body,
	.on_message_complete = http_on_message_complete,
};

/* Answer a request the parser or a callback refused, and close. */
static void
http_conn_refuse(struct http_conn *c, enum http_errno err)
{
	struct pacerd		*d = c->srv->d;
	struct http_request	*req = &c->req;
	int			 batch, in_body = c->wait == HTTP_WAIT_BODY;

	http_slow_unlink(c);
	c->state = HTTP_CONN_HANDLE;
	req->close = 1;
	switch (err == HPE_HEADER_OVERFLOW ? 431 : c->refuse) {
	case 408:
		if (in_body)
			http_error(d, req, 408, "request body not complete within "
			    "%d s of its head", HTTP_BODY_TIMEOUT_MS / 1000);
		else
			http_error(d, req, 408, "request head not complete within "
			    "%d s", HTTP_HEAD_TIMEOUT_MS / 1000);
		break;
	case 413:
		/* The head is complete: a 413 comes after headers_complete. */
		batch = strncmp(req->head, "/v1/decide/batch", 16) == 0 &&
		    strchr("?#", req->head[16]) != NULL;
		if (c->parser.flags & F_CONTENTLENGTH)
			http_body_refuse(d, req, (size_t)c->parser.content_length, 0,
			    batch);
		else
			http_body_refuse(d, req, req->bodylen, 1, batch);
		break;
	case 414:
		http_error(d, req, 414, "URI too long");
		break;
	case 431:
		http_error(d, req, 431, "request header fields too large (at most "
		    "%d fields, %d bytes)", HTTP_HEADERS_MAX, HTTP_HEAD_MAX);
		break;
	case 500:
		http_error(d, req, 500, "out of memory");
		break;
	default:
		http_error(d, req, 400, "malformed HTTP request: %s",
		    http_errno_description(err));
		break;
	}
}

/*
 * Parse buffered input and hand each complete request to its handler, one
 * at a time; stop when a request waits for its answer.
 */
static void
http_conn_process(struct http_conn *c)
{
	struct pacerd	*d = c->srv->d;

	c->processing = 1;
	while (c->state == HTTP_CONN_READ && c->inoff < c->inlen) {
		size_t		 n;
		enum http_errno	 err;

		n = http_parser_execute(&c->parser, &http_settings, c->in + c->inoff,
		    c->inlen - c->inoff);
		c->inoff += n;
		if (c->state != HTTP_CONN_READ)
			break;		/* a failed "100 Continue" closed it */
		err = HTTP_PARSER_ERRNO(&c->parser);
		if (err == HPE_PAUSED) {
			http_parser_pause(&c->parser, 0);
			c->state = HTTP_CONN_HANDLE;
			/* Bytes after an upgrade request are not HTTP. */
			if (c->parser.upgrade)
				c->req.close = 1;
			routes_dispatch(d, &c->req);
		} else if (err != HPE_OK)
			http_conn_refuse(c, err);
	}
	if (c->inoff == c->inlen)
		c->inoff = c->inlen = 0;
	/* The client shut its side and nothing complete is left to answer. */
	if (c->state == HTTP_CONN_READ && c->peer_eof)
		http_conn_close(c);
	c->processing = 0;
}

/*
 * A client spoke plain HTTP to the TLS port: answer it in plain text (it
 * would understand nothing else) and close.
 */
static void
http_conn_tls_refuse(struct http_conn *c)
{
	static const char	 body[] = "{\"error\":\"this port speaks HTTPS only "
	    "(server.tls_cert is set)\",\"code\":\"tls_required\"}";
	char			 msg[512];
	int			 n;

	n = snprintf(msg, sizeof msg, "HTTP/1.1 400 Bad Request\r\n%s"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", http_date(c->srv), sizeof body - 1,
	    body);
	metrics_http_error(c->srv->d->metrics, 400);
	(void)send(c->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	http_slow_unlink(c);
	http_conn_linger(c);
}

/*
 * Go on with the TLS handshake; 0 once done, 1 while it waits for the
 * socket, -1 when it failed (the connection is then closed).
 */
static int
http_conn_handshake(struct http_conn *c)
{
	int	 rc;

	ERR_clear_error();
	c->tls_read_on_write = 0;
	if ((rc = SSL_do_handshake(c->ssl)) == 1) {
		c->handshaking = 0;
		return 0;
	}
	if (http_tls_result(c, rc, 1) < 0 && errno == EAGAIN)
		return 1;
	c->tls_dead = 1;
	if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_HTTP_REQUEST) {
		ERR_clear_error();
		c->handshaking = 0;
		http_conn_tls_refuse(c);
		return -1;
	}
	log_debug("TLS handshake failed", "error=\"%s\"",
	    ERR_reason_error_string(ERR_peek_error()) ?
	    ERR_reason_error_string(ERR_peek_error()) : "closed");
	ERR_clear_error();
	http_conn_close(c);
	return -1;
}

/* EV_READ: take what the socket has. */
static void
http_conn_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_conn	*c = arg;
	ssize_t			 n;

	(void)fd;
	(void)ev;
	if (c->handshaking && http_conn_handshake(c) != 0)
		return;
	if (c->state == HTTP_CONN_LINGER)
		c->inoff = c->inlen = 0;	/* discard */
	else if (c->inoff > 0) {
		memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
		c->inlen -= c->inoff;
		c->inoff = 0;
	}
	if (c->inlen == sizeof c->in) {
		/* Pipelined requests fill the buffer: wait for the answer. */
		event_del(&c->ev_read);
		c->reading = 0;
		return;
	}
	if ((n = http_conn_recv(c, c->in + c->inlen, sizeof c->in - c->inlen)) < 0) {
		http_conn_failed(c);
		return;
	}
	if (n == 0) {
		c->peer_eof = 1;
		event_del(&c->ev_read);
		c->reading = 0;
		if (c->state == HTTP_CONN_LINGER)
			http_conn_close(c);
		else if (c->state == HTTP_CONN_READ)
			http_conn_process(c);
		return;
	}
	if (c->state == HTTP_CONN_LINGER)
		return;
	/* No deadline moves here: bytes that trickle in buy no time. */
	c->inlen += (size_t)n;
	if (c->state == HTTP_CONN_READ)
		http_conn_process(c);
	if (c->fd >= 0)
		http_conn_tls_pending(c);
}

/* EV_WRITE: send the rest of an answer; resume parsing once it is out. */
static void
http_conn_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_conn	*c = arg;
	ssize_t			 n;

	(void)ev;
	if (c->tls_read_on_write) {
		/* A TLS read (or the handshake) waited for this. */
		http_conn_read_cb(fd, EV_READ, c);
		if (c->fd < 0)
			return;
	}
	if (c->outoff < c->outlen) {
		if ((n = http_conn_write(c, c->out + c->outoff,
		    c->outlen - c->outoff)) < 0) {
			http_conn_failed(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff < c->outlen || c->tls_read_on_write)
		return;
	c->outoff = c->outlen = 0;
	event_del(&c->ev_write);
	c->writing = 0;
	if (c->outcap > HTTP_KEEP_BUFFER) {
		free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
	if (c->state == HTTP_CONN_WRITE)
		http_conn_answered(c);
}

/* Close a refused socket and forget it. */
static void
http_refused_close(struct http_refused *r)
{
	struct http_server	*srv = r->srv;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		srv->refused = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	close(event_get_fd(r->ev));
	event_free(r->ev);
	free(r);
	srv->nrefused--;
}

/*
 * Event on a refused socket: discard what the client sends until it
 * closes, for HTTP_LINGER_MS in all (closing at once with unread input
 * would reset the connection, and could destroy the 503 before it is read).
 */
static void
http_refused_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_refused	*r = arg;
	char			 scratch[4096];
	ssize_t			 n = -1;
	int64_t			 left = r->deadline_ms - clock_mono_ms();

	if (ev & EV_READ)
		n = recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
	if ((ev & EV_READ) && left > 0 && (n > 0 || (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))) {
		struct timeval	 tv = { (time_t)(left / 1000),
			(suseconds_t)(left % 1000) * 1000 };

		event_add(r->ev, &tv);
		return;
	}
	http_refused_close(r);
}

/*
 * Refuse a connection past server.max_connections: write a 503 at once,
 * without reading a byte of the request, shut our side and drain (or
 * close at once when HTTP_REFUSED_MAX sockets already drain).
 */
static void
http_refuse_busy(struct http_server *srv, evutil_socket_t fd)
{
	struct pacerd		*d = srv->d;
	struct http_refused	*r = NULL;
	char			 body[160], msg[512];
	int			 blen, n;
	struct timeval		 tv = { HTTP_LINGER_MS / 1000,
		(HTTP_LINGER_MS % 1000) * 1000 };

	/* A TLS client could not read a plain 503: no handshake, no answer. */
	if (srv->tls != NULL) {
		metrics_http_error(d->metrics, 503);
		close(fd);
		return;
	}
	blen = snprintf(body, sizeof body, "{\"error\":\"too many connections "
	    "(server.max_connections = %d)\",\"code\":\"too_many_connections\"}",
	    d->rules->conf->server.max_connections);
	n = snprintf(msg, sizeof msg, "HTTP/1.1 503 Service Unavailable\r\n%s"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n"
	    "Retry-After: 1\r\nConnection: close\r\n\r\n%s", http_date(srv),
	    blen, body);
	metrics_http_error(d->metrics, 503);
	/* A fresh socket's buffer takes this whole; if not, the client is gone. */
	(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (srv->nrefused >= HTTP_REFUSED_MAX || shutdown(fd, SHUT_WR) != 0 ||
	    (r = calloc(1, sizeof *r)) == NULL ||
	    (r->ev = event_new(d->base, fd, EV_READ, http_refused_cb, r)) == NULL) {
		free(r);
		close(fd);
		return;
	}
	r->srv = srv;
	r->deadline_ms = clock_mono_ms() + HTTP_LINGER_MS;
	r->next = srv->refused;
	if (srv->refused != NULL)
		srv->refused->prev = r;
	srv->refused = r;
	srv->nrefused++;
	event_add(r->ev, &tv);
}

/*
 * Past the cap: close the slowest request under way, if it has been at it
 * HTTP_EVICT_AFTER_MS, so that its slot goes to a new connection; 0 when
 * one went, -1 when none is that slow. A request begun gets a 408.
 */
static int
http_evict_slowest(struct http_server *srv)
{
#define HTTP_EVICTED_BODY "{\"error\":\"request too slow: its slot went to " \
	    "a new connection\",\"code\":\"request_timeout\"}"
	static const char	 late[] = "HTTP/1.1 408 Request Timeout\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n" HTTP_EVICTED_BODY;
	struct http_conn	*c = srv->slow_head;
	char			 msg[sizeof late + 8];
	int			 n;

	if (c == NULL || clock_mono_ms() - c->since_ms < HTTP_EVICT_AFTER_MS)
		return -1;
	metrics_http_error(srv->d->metrics, 408);
	if (c->partial && c->outoff == c->outlen) {
		n = snprintf(msg, sizeof msg, late,
		    (int)sizeof HTTP_EVICTED_BODY - 1);
		if (c->ssl == NULL)
			(void)send(c->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			(void)http_conn_write(c, msg, (size_t)n);	/* best effort */
	}
	http_conn_close(c);
	return 0;
}

/*
 * The TLS context for a new connection, NULL for plain HTTP: the live
 * rules' (a reload brings new certificates), or the one the listener
 * started with when a reload turned TLS off (that needs a restart).
 */
static SSL_CTX *
http_tls_ctx(struct http_server *srv)
{
	SSL_CTX	*live = srv->d->rules->tls;

	if (srv->tls != NULL && live != NULL && live != srv->tls &&
	    SSL_CTX_up_ref(live) == 1) {
		SSL_CTX_free(srv->tls);
		srv->tls = live;
	}
	return srv->tls;
}

/*
 * A new connection: admit it (taking a slow request's slot at the cap) or
 * refuse it without reading, and start reading (a TLS one, its handshake).
 */
static void
http_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct http_server	*srv = arg;
	struct pacerd		*d = srv->d;
	struct http_conn	*c;
	int			 one = 1;

	(void)l;
	srv->accept_pause_ms = 0;
	if (srv->nconn >= d->rules->conf->server.max_connections &&
	    http_evict_slowest(srv) != 0) {
		http_refuse_busy(srv, fd);
		return;
	}
	/* The input buffer needs no clearing. */
	if ((c = malloc(sizeof *c)) == NULL) {
		close(fd);
		return;
	}
	memset(c, 0, offsetof(struct http_conn, in));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->srv = srv;
	c->fd = fd;
	if (sa != NULL && salen > 0 && (size_t)salen <= sizeof c->peer) {
		memcpy(&c->peer, sa, (size_t)salen);
		c->peerlen = (socklen_t)salen;
	}
	if (http_tls_ctx(srv) != NULL) {
		if ((c->ssl = SSL_new(srv->tls)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1) {
			ERR_clear_error();
			SSL_free(c->ssl);
			free(c);
			close(fd);
			return;
		}
		SSL_set_accept_state(c->ssl);
		c->handshaking = 1;
	}
	c->state = HTTP_CONN_READ;
	c->req.conn = c;
	c->req.method = HTTP_GET;
	srv->nconn++;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	event_assign(&c->ev_read, d->base, fd, EV_READ | EV_PERSIST,
	    http_conn_read_cb, c);
	event_assign(&c->ev_write, d->base, fd, EV_WRITE | EV_PERSIST,
	    http_conn_write_cb, c);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	/* A new connection owes its first head from now. */
	http_conn_wait(c, HTTP_WAIT_HEAD);
	event_add(&c->ev_read, NULL);
	c->reading = 1;
}

/*
 * accept() failed (out of descriptors, most likely): the connection stays
 * in the backlog and the listener would fire again at once, so pause it,
 * longer each time in a row, and say so at most every HTTP_ACCEPT_LOG_MS.
 */
static void
http_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct http_server	*srv = arg;
	int			 err = EVUTIL_SOCKET_ERROR();
	int64_t			 now = clock_mono_ms();
	struct timeval		 tv;

	srv->accept_errors++;
	srv->accept_pause_ms = srv->accept_pause_ms == 0 ?
	    HTTP_ACCEPT_PAUSE_MIN_MS : srv->accept_pause_ms * 2;
	if (srv->accept_pause_ms > HTTP_ACCEPT_PAUSE_MAX_MS)
		srv->accept_pause_ms = HTTP_ACCEPT_PAUSE_MAX_MS;
	evconnlistener_disable(l);
	tv.tv_sec = srv->accept_pause_ms / 1000;
	tv.tv_usec = (srv->accept_pause_ms % 1000) * 1000;
	evtimer_add(srv->accept_resume, &tv);
	if (srv->accept_logged_ms == 0 ||
	    now - srv->accept_logged_ms >= HTTP_ACCEPT_LOG_MS) {
		log_warn("accept failed, listener paused", "error=\"%s\" "
		    "pause_ms=%d failures=%llu connections=%d",
		    evutil_socket_error_to_string(err), srv->accept_pause_ms,
		    (unsigned long long)srv->accept_errors, srv->nconn);
		srv->accept_logged_ms = now;
		srv->accept_errors = 0;
	}
}

/* Timer: an accept pause is over. */
static void
http_accept_resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_server	*srv = arg;

	(void)fd;
	(void)ev;
	if (srv->listener != NULL)
		evconnlistener_enable(srv->listener);
}

/* Timer: enforce the deadlines (see the top of the file). */
static void
http_sweep_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_server	*srv = arg;
	struct http_conn	*c, *next;
	int64_t			 now = clock_mono_ms(), limit;

	(void)fd;
	(void)ev;
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		switch (c->state) {
		case HTTP_CONN_READ:
			limit = c->wait == HTTP_WAIT_IDLE ? HTTP_IDLE_TIMEOUT_MS :
			    c->wait == HTTP_WAIT_HEAD ? HTTP_HEAD_TIMEOUT_MS :
			    HTTP_BODY_TIMEOUT_MS;
			if (now - c->since_ms < limit)
				break;
			if (c->wait == HTTP_WAIT_IDLE)
				http_conn_close(c);
			else if (!c->partial) {
				/* Not a byte of a request: nothing to answer. */
				metrics_http_error(srv->d->metrics, 408);
				http_conn_close(c);
			} else {
				c->refuse = 408;
				http_conn_refuse(c, HPE_OK);
			}
			break;
		case HTTP_CONN_WRITE:
			if (now - c->since_ms >= HTTP_WRITE_TIMEOUT_MS)
				http_conn_close(c);
			break;
		case HTTP_CONN_LINGER:
			if (now - c->since_ms >= HTTP_LINGER_MS)
				http_conn_close(c);
			break;
		default:
			break;
		}
	}
}

/*
 * Every connection needs a descriptor: raise the soft limit towards
 * server.max_connections plus a margin (the store, the listener, logs,
 * refused sockets draining), as far as the hard limit lets it.
 */
static void
http_raise_nofile(const struct conf *c)
{
	struct rlimit	 rl;
	rlim_t		 want = (rlim_t)c->server.max_connections + 128 +
	    HTTP_REFUSED_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want :
	    rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_warn("descriptor limit below server.max_connections; accept "
		    "will fail first", "nofile=%llu max_connections=%d",
		    (unsigned long long)rl.rlim_cur, c->server.max_connections);
}

int
http_start(struct pacerd *d, char **cause)
{
	const struct conf	*c = d->rules->conf;
	struct http_server	*srv;
	struct evutil_addrinfo	 hints, *ai = NULL, *a;
	char			 port[16], msg[512];
	struct timeval		 sweep_tv = { 1, 0 };

	if ((srv = calloc(1, sizeof *srv)) == NULL) {
		*cause = strdup("out of memory");
		return -1;
	}
	srv->d = d;
	d->http = srv;
	if (d->rules->tls != NULL && SSL_CTX_up_ref(d->rules->tls) == 1)
		srv->tls = d->rules->tls;
	if (http_access_open(srv, cause) != 0)
		return -1;
	http_raise_nofile(c);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(port, sizeof port, "%d", c->server.listen_port);
	if (evutil_getaddrinfo(c->server.listen_host, port, &hints, &ai) == 0) {
		for (a = ai; a != NULL && srv->listener == NULL; a = a->ai_next)
			srv->listener = evconnlistener_new_bind(d->base, http_accept_cb,
			    srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
			    LEV_OPT_REUSEABLE, -1, a->ai_addr, (int)a->ai_addrlen);
		evutil_freeaddrinfo(ai);
	}
	if (srv->listener == NULL) {
		snprintf(msg, sizeof msg, "cannot listen on %s:%d", c->server.listen_host,
		    c->server.listen_port);
		*cause = strdup(msg);
		return -1;
	}
	evconnlistener_set_error_cb(srv->listener, http_accept_error_cb);
	if ((srv->reap = event_new(d->base, -1, 0, http_reap_cb, srv)) == NULL ||
	    (srv->accept_resume = evtimer_new(d->base, http_accept_resume_cb,
	    srv)) == NULL ||
	    (srv->sweep = event_new(d->base, -1, EV_PERSIST, http_sweep_cb,
	    srv)) == NULL || event_add(srv->sweep, &sweep_tv) != 0) {
		*cause = strdup("out of memory");
		return -1;
	}
	return 0;
}

void
http_stop_accepting(struct pacerd *d)
{
	if (d->http != NULL && d->http->listener != NULL) {
		evconnlistener_free(d->http->listener);
		d->http->listener = NULL;
	}
}

void
http_free(struct pacerd *d)
{
	struct http_server	*srv = d->http;

	if (srv == NULL)
		return;
	http_stop_accepting(d);
	if (srv->sweep != NULL)
		event_free(srv->sweep);
	if (srv->accept_resume != NULL)
		event_free(srv->accept_resume);
	while (srv->refused != NULL)
		http_refused_close(srv->refused);
	/* Nothing answers requests any more: orphans go too. */
	while (srv->conns != NULL) {
		http_conn_close(srv->conns);
		if (srv->conns != NULL && srv->conns->state == HTTP_CONN_ORPHAN)
			http_conn_bury(srv->conns);
	}
	http_reap_cb(-1, 0, srv);
	if (srv->reap != NULL)
		event_free(srv->reap);
	SSL_CTX_free(srv->tls);
	if (srv->access != NULL && srv->access != stderr)
		fclose(srv->access);
	pacerd_rules_unref(srv->access_rules);
	free(srv);
	d->http = NULL;
}

int
http_connections(const struct pacerd *d)
{
	return d->http != NULL ? d->http->nconn : 0;
}

void
http_hold(struct pacerd *d)
{
	d->http->inflight++;
}

void
http_release(struct pacerd *d)
{
	d->http->inflight--;
}

int
http_inflight(const struct pacerd *d)
{
	return d->http != NULL ? d->http->inflight : 0;
}
