/*
 * HTTP on libevent's evhttp: routing, authentication, body limits, the
 * connection cap, and the one function that answers errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "pacerd.h"
#include "auth.h"
#include "optimize_job.h"

#define HTTP_CONN_BUCKETS 4096
#define HTTP_IDLE_TIMEOUT 60	/* seconds a keep-alive connection may idle */

/* Open connections, so the daemon can cap them (evhttp 2.1 cannot). */
struct http_conn {
	struct evhttp_connection *evcon;
	struct pacerd		*d;
	struct http_conn	*next;
};

struct http_conns {
	struct http_conn	*bucket[HTTP_CONN_BUCKETS];
};

/* Bucket of a connection pointer. */
static unsigned
http_conn_hash(const struct evhttp_connection *evcon)
{
	uintptr_t	 p = (uintptr_t)evcon;

	return (unsigned)((p >> 4) ^ (p >> 16)) % HTTP_CONN_BUCKETS;
}

/* A tracked connection closed. */
static void
http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct pacerd		*d = arg;
	struct http_conns	*set = d->conns;
	struct http_conn	**pp = &set->bucket[http_conn_hash(evcon)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->evcon == evcon) {
			struct http_conn *c = *pp;

			*pp = c->next;
			free(c);
			d->nconn--;
			return;
		}
	}
}

/* Track the request's connection; 0, or -1 when over the cap. */
static int
http_conn_admit(struct pacerd *d, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct http_conns	*set = d->conns;
	struct http_conn	*c;
	unsigned		 h;

	if (evcon == NULL)
		return 0;
	h = http_conn_hash(evcon);
	for (c = set->bucket[h]; c != NULL; c = c->next)
		if (c->evcon == evcon)
			return 0;
	if (d->nconn >= d->rules->conf->server.max_connections)
		return -1;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -1;
	c->evcon = evcon;
	c->d = d;
	c->next = set->bucket[h];
	set->bucket[h] = c;
	d->nconn++;
	evhttp_connection_set_closecb(evcon, http_conn_closed, d);
	return 0;
}

void
http_send_text(struct pacerd *d, struct evhttp_request *req, int status,
    const char *body, size_t len, const char *content_type)
{
	struct evbuffer	*buf = evhttp_request_get_output_buffer(req);
	const char	*phrase;

	(void)d;
	switch (status) {
	case 200: phrase = "OK"; break;
	case 202: phrase = "Accepted"; break;
	case 409: phrase = "Conflict"; break;
	case 414: phrase = "URI Too Long"; break;
	case 500: phrase = "Internal Server Error"; break;
	case 400: phrase = "Bad Request"; break;
	case 401: phrase = "Unauthorized"; break;
	case 403: phrase = "Forbidden"; break;
	case 404: phrase = "Not Found"; break;
	case 405: phrase = "Method Not Allowed"; break;
	case 413: phrase = "Payload Too Large"; break;
	case 503: phrase = "Service Unavailable"; break;
	default: phrase = "Error"; break;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    content_type);
	evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, phrase, NULL);
}

void
http_json(struct pacerd *d, struct evhttp_request *req, int status, json_t *o)
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
http_error(struct pacerd *d, struct evhttp_request *req, int status,
    const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;
	json_t	*o;
	char	*text;
	char	 allowed[64];
	const char *allow = NULL;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
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
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
	if (status == 405 && allow != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    allow);
	o = json_pack("{s:s}", "error", msg);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL)
		http_send_text(d, req, status, "{\"error\":\"out of memory\"}", 25,
		    "application/json");
	else
		http_send_text(d, req, status, text, strlen(text), "application/json");
	free(text);
}

json_t *
http_body_json(struct pacerd *d, struct evhttp_request *req, int batch)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in);
	size_t		 max = d->rules->conf->server.max_body_bytes;
	json_error_t	 err;
	json_t		*o;
	const char	*data;

	if (len > max) {
		http_error(d, req, 413, "body of %zu bytes is over the limit of %zu "
		    "(server.max_body_bytes)%s", len, max, batch ?
		    "; a batch holds at most 1000 requests" : "");
		return NULL;
	}
	if (len == 0) {
		http_error(d, req, 400, "empty body: a JSON object is needed");
		return NULL;
	}
	data = (const char *)evbuffer_pullup(in, -1);
	o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
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

/* GET /healthz: the process is alive. */
static void
http_healthz(struct pacerd *d, struct evhttp_request *req)
{
	http_send_text(d, req, 200, "{\"status\":\"ok\"}", 15, "application/json");
}

/* GET /readyz: Redis reachable and config loaded. */
static void
http_readyz(struct pacerd *d, struct evhttp_request *req)
{
	if (d->draining)
		http_error(d, req, 503, "draining");
	else if (!store_ready(d->store))
		http_error(d, req, 503, "store unavailable");
	else
		http_send_text(d, req, 200, "{\"status\":\"ready\"}", 18,
		    "application/json");
}

/* POST /v1/admin/reload */
static void
http_reload(struct pacerd *d, struct evhttp_request *req)
{
	char	*cause = NULL;

	if (pacerd_reload(d, &cause) != 0) {
		metrics_reload(d->metrics, 0);
		log_warn("reload failed, the running config stays", "error=\"%s\"",
		    cause);
		http_error(d, req, 400, "reload failed: %s", cause);
		free(cause);
		return;
	}
	metrics_reload(d->metrics, 1);
	optimize_job_reschedule(d);
	log_info("config reloaded", "file=%s", d->conf_path);
	http_send_text(d, req, 200, "{\"reloaded\":true}", 17, "application/json");
}

/* Whether the caller may go on; answers 401/403 otherwise. */
static int
http_authorize(struct pacerd *d, struct evhttp_request *req, int need_admin)
{
	const struct auth	*a = d->rules->auth;
	const char		*h;
	enum auth_role		 role;

	if (a == NULL)
		return 1;
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	role = auth_role(a, h);
	if (role == AUTH_NONE) {
		http_error(d, req, 401, h ? "unknown token" :
		    "missing \"Authorization: Bearer TOKEN\"");
		return 0;
	}
	if (need_admin && role != AUTH_ADMIN) {
		http_error(d, req, 403, "this token's role may not do this");
		return 0;
	}
	return 1;
}

/* Route one request. */
static void
http_dispatch(struct evhttp_request *req, void *arg)
{
	struct pacerd	*d = arg;
	const char	*uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	char		 path[512];
	size_t		 n;

	if (http_conn_admit(d, req) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection",
		    "close");
		http_error(d, req, 503, "too many connections (server.max_connections "
		    "= %d)", d->rules->conf->server.max_connections);
		return;
	}
	n = strcspn(uri, "?#");
	if (n >= sizeof path) {
		http_error(d, req, 414, "path too long");
		return;
	}
	memcpy(path, uri, n);
	path[n] = '\0';

	if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz") ||
	    !strcmp(path, "/metrics")) {
		if (m != EVHTTP_REQ_GET) {
			http_error(d, req, 405, "%s takes GET", path);
			return;
		}
		if (path[1] == 'h')
			http_healthz(d, req);
		else if (path[1] == 'r')
			http_readyz(d, req);
		else
			metrics_handle(d, req);
		return;
	}
	if (strncmp(path, "/v1/", 4) != 0) {
		http_error(d, req, 404, "no such path: %.200s", path);
		return;
	}
	if (d->draining) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection",
		    "close");
		http_error(d, req, 503, "shutting down");
		return;
	}
	if (!strcmp(path, "/v1/decide") || !strcmp(path, "/v1/decide/batch") ||
	    !strcmp(path, "/v1/cancel")) {
		if (m != EVHTTP_REQ_POST) {
			http_error(d, req, 405, "%s takes POST", path);
			return;
		}
		if (!http_authorize(d, req, 0))
			return;
		if (!strcmp(path, "/v1/decide"))
			decide_handle(d, req);
		else if (!strcmp(path, "/v1/cancel"))
			decide_cancel_handle(d, req);
		else
			decide_batch_handle(d, req);
		return;
	}
	if (!strncmp(path, "/v1/customers/", 14)) {
		const char *id = path + 14;

		if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_PUT &&
		    m != EVHTTP_REQ_DELETE) {
			http_error(d, req, 405, "%s takes GET, PUT or DELETE", path);
			return;
		}
		if (!http_authorize(d, req, m != EVHTTP_REQ_GET))
			return;
		if (!keys_valid_customer(id)) {
			http_error(d, req, 400, "customer id must be 1-128 bytes of "
			    "[A-Za-z0-9_.:@-]");
			return;
		}
		if (m == EVHTTP_REQ_GET)
			customer_get(d, req, id);
		else if (m == EVHTTP_REQ_PUT)
			customer_put(d, req, id);
		else
			customer_delete(d, req, id);
		return;
	}
	if (!strcmp(path, "/v1/admin/reload")) {
		if (m != EVHTTP_REQ_POST) {
			http_error(d, req, 405, "%s takes POST", path);
			return;
		}
		if (http_authorize(d, req, 1))
			http_reload(d, req);
		return;
	}
	if (!strcmp(path, "/v1/optimize") || !strncmp(path, "/v1/optimize/", 13)) {
		int	 is_start = path[12] == '\0';

		if (m != (is_start ? EVHTTP_REQ_POST : EVHTTP_REQ_GET)) {
			http_error(d, req, 405, "%s takes %s", path,
			    is_start ? "POST" : "GET");
			return;
		}
		if (!http_authorize(d, req, 1))
			return;
		if (is_start)
			optimize_job_start_http(d, req);
		else
			optimize_job_status_http(d, req, path + 13);
		return;
	}
	http_error(d, req, 404, "no such path: %.200s", path);
}

int
http_start(struct pacerd *d, char **cause)
{
	const struct conf	*c = d->rules->conf;
	char			 msg[512];

	if ((d->conns = calloc(1, sizeof(struct http_conns))) == NULL ||
	    (d->http = evhttp_new(d->base)) == NULL) {
		*cause = strdup("out of memory");
		return -1;
	}
	/*
	 * Bodies over max_body_bytes but under 16 times it get a JSON 413
	 * from us; larger ones evhttp refuses on its own, without reading.
	 */
	evhttp_set_max_body_size(d->http, (ev_ssize_t)c->server.max_body_bytes * 16);
	evhttp_set_max_headers_size(d->http, 16384);
	evhttp_set_timeout(d->http, HTTP_IDLE_TIMEOUT);
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(d->http, http_dispatch, d);
	d->bound = evhttp_bind_socket_with_handle(d->http, c->server.listen_host,
	    (ev_uint16_t)c->server.listen_port);
	if (d->bound == NULL) {
		snprintf(msg, sizeof msg, "cannot listen on %s:%d", c->server.listen_host,
		    c->server.listen_port);
		*cause = strdup(msg);
		return -1;
	}
	return 0;
}

void
http_stop_accepting(struct pacerd *d)
{
	/* Freeing evhttp would close live connections; unbind the listener. */
	if (d->bound != NULL)
		evhttp_del_accept_socket(d->http, d->bound);
	d->bound = NULL;
}
