/*
 * The route table: every path pacerd serves, the method each takes, the
 * role its caller needs and its handler, like conf.c's table of keys. The
 * only file that knows every handler; http.c hands each complete request
 * here (routes_dispatch) and knows nothing of what it asks for.
 *
 * A path is matched whole, or, for a template ("/v1/customers/{id}"), as
 * its prefix followed by the parameter (checked by the handler). What a
 * request gets when no route takes it:
 * - a method pacerd never serves: 501;
 * - a path of no route: 404 (503 while draining, for a /v1 path);
 * - a route's path with another method: 405 naming the methods it takes;
 * - a caller without a token or with a wrong one: 401; with a token whose
 *   role may not call the route: 403.
 * The handlers of /v1 routes are not called while pacerd drains (503).
 */
#include <stdio.h>
#include <string.h>

#include <http_parser.h>

#include "pacerd.h"
#include "pacer/keys.h"
#include "openapi.h"		/* openapi_json: conf/share/openapi.json */

/* Who may call a route. */
enum route_role {
	ROUTE_PUBLIC,		/* no token needed */
	ROUTE_DECIDE,		/* a decide or an admin token */
	ROUTE_ADMIN,		/* an admin token */
};

typedef void	route_fn(struct pacerd *, struct http_request *,
		    const char *param);

struct route {
	int		 path;		/* index into routes_paths */
	enum http_method method;
	enum route_role	 role;
	route_fn	*handle;
};

/*
 * Each path once, as the OpenAPI document names it (metrics count requests
 * by it); a template's parameter is "{...}" at its end.
 */
static const char *const routes_paths[ROUTES_NPATHS] = {
	"/healthz", "/readyz", "/metrics", "/v1/openapi.json",
	"/v1/decide", "/v1/decide/batch", "/v1/cancel",
	"/v1/customers/{id}", "/v1/admin/reload", "/v1/optimize",
	"/v1/optimize/{run_id}",
};

static route_fn	routes_healthz, routes_readyz, routes_metrics, routes_openapi;
static route_fn	routes_decide, routes_batch, routes_cancel;
static route_fn	routes_customer_get, routes_customer_put, routes_customer_delete;
static route_fn	routes_reload, routes_optimize_start, routes_optimize_status;

static const struct route routes[] = {
	{ 0, HTTP_GET, ROUTE_PUBLIC, routes_healthz },
	{ 1, HTTP_GET, ROUTE_PUBLIC, routes_readyz },
	{ 2, HTTP_GET, ROUTE_PUBLIC, routes_metrics },
	{ 3, HTTP_GET, ROUTE_PUBLIC, routes_openapi },
	{ 4, HTTP_POST, ROUTE_DECIDE, routes_decide },
	{ 5, HTTP_POST, ROUTE_DECIDE, routes_batch },
	{ 6, HTTP_POST, ROUTE_DECIDE, routes_cancel },
	{ 7, HTTP_GET, ROUTE_DECIDE, routes_customer_get },
	{ 7, HTTP_PUT, ROUTE_ADMIN, routes_customer_put },
	{ 7, HTTP_DELETE, ROUTE_ADMIN, routes_customer_delete },
	{ 8, HTTP_POST, ROUTE_ADMIN, routes_reload },
	{ 9, HTTP_POST, ROUTE_ADMIN, routes_optimize_start },
	{ 10, HTTP_GET, ROUTE_ADMIN, routes_optimize_status },
};
#define ROUTES_N	(int)(sizeof routes / sizeof routes[0])

/* Methods pacerd serves on some route (others are answered 501). */
static const enum http_method routes_methods[] = {
	HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_HEAD, HTTP_OPTIONS,
	HTTP_PATCH,
};

const char *
routes_path(int i)
{
	return i >= 0 && i < ROUTES_NPATHS ? routes_paths[i] : NULL;
}

/*
 * The path index path[0..len) matches, with *param pointing at a
 * template's parameter (NULL for a whole path); -1 for none.
 */
static int
routes_match(const char *path, size_t len, const char **param)
{
	for (int i = 0; i < ROUTES_NPATHS; i++) {
		const char	*t = routes_paths[i], *brace = strchr(t, '{');
		size_t		 n = brace != NULL ? (size_t)(brace - t) : strlen(t);

		*param = NULL;
		if (brace == NULL && len == n && !memcmp(path, t, n))
			return i;
		if (brace != NULL && len >= n && !memcmp(path, t, n)) {
			*param = path + n;
			return i;
		}
	}
	return -1;
}

int
routes_of(const char *uri)
{
	const char	*param;
	int		 i = routes_match(uri, strcspn(uri, "?#"), &param);

	return i >= 0 ? i : ROUTES_UNKNOWN;
}

/* Whether the caller may call a route of role; answers 401/403 if not. */
static int
routes_authorize(struct pacerd *d, struct http_request *req,
    enum route_role role)
{
	const struct auth	*a = d->rules->auth;
	const char		*h;
	enum auth_role		 got;

	if (a == NULL || role == ROUTE_PUBLIC)
		return 1;
	h = http_header(req, "Authorization");
	got = auth_role(a, h);
	if (got == AUTH_NONE) {
		http_error(d, req, 401, h ? "unknown token" :
		    "missing \"Authorization: Bearer TOKEN\"");
		return 0;
	}
	if (role == ROUTE_ADMIN && got != AUTH_ADMIN) {
		http_error(d, req, 403, "this token's role may not do this");
		return 0;
	}
	return 1;
}

/* 405: the methods path index p takes, as "GET, PUT or DELETE". */
static void
routes_wrong_method(struct pacerd *d, struct http_request *req,
    const char *path, int p)
{
	char	 list[64] = "";
	size_t	 off = 0;
	int	 n = 0, seen = 0;

	for (int i = 0; i < ROUTES_N; i++)
		n += routes[i].path == p;
	for (int i = 0; i < ROUTES_N && off < sizeof list; i++) {
		int	 w;

		if (routes[i].path != p)
			continue;
		seen++;
		w = snprintf(list + off, sizeof list - off, "%s%s",
		    seen == 1 ? "" : seen == n ? " or " : ", ",
		    http_method_str(routes[i].method));
		if (w < 0)
			break;
		off += (size_t)w;
	}
	http_error(d, req, 405, "%s takes %s", path, list);
}

void
routes_dispatch(struct pacerd *d, struct http_request *req)
{
	const char	*uri = http_target(req), *param;
	unsigned	 method = http_method_of(req);
	char		 path[HTTP_PATH_MAX], arg[HTTP_PATH_MAX];
	size_t		 n = strcspn(uri, "?#"), k;
	int		 p, served = 0;

	http_set_route(req, routes_of(uri));
	for (k = 0; k < sizeof routes_methods / sizeof routes_methods[0]; k++)
		served |= method == (unsigned)routes_methods[k];
	if (!served) {
		http_error(d, req, 501, "method %s is not supported",
		    http_method_str((enum http_method)method));
		return;
	}
	if (n >= sizeof path) {
		http_error(d, req, 414, "path too long");
		return;
	}
	memcpy(path, uri, n);
	path[n] = '\0';
	p = routes_match(path, n, &param);
	if (d->draining && !strncmp(path, "/v1/", 4)) {
		http_close_after(req);
		http_error(d, req, 503, "shutting down");
		return;
	}
	if (p < 0) {
		http_error(d, req, 404, "no such path: %.200s", path);
		return;
	}
	for (int i = 0; i < ROUTES_N; i++) {
		const struct route *r = &routes[i];

		if (r->path != p || (unsigned)r->method != method)
			continue;
		if (!routes_authorize(d, req, r->role))
			return;
		/* The parameter outlives nothing: copy it out of path. */
		snprintf(arg, sizeof arg, "%s", param != NULL ? param : "");
		r->handle(d, req, arg);
		return;
	}
	routes_wrong_method(d, req, path, p);
}

const char *
routes_token(struct pacerd *d, const struct http_request *req)
{
	if (d->rules->auth == NULL)
		return NULL;
	return auth_name(d->rules->auth, http_header(req, "Authorization"));
}

const char *
routes_caller(struct pacerd *d, const struct http_request *req)
{
	const char	*name = routes_token(d, req);

	if (d->rules->auth == NULL)
		return "open";
	return name != NULL ? name : "unknown";
}

/* GET /healthz: the process is alive. */
static void
routes_healthz(struct pacerd *d, struct http_request *req, const char *param)
{
	(void)param;
	http_send_text(d, req, 200, "{\"status\":\"ok\"}", 15, "application/json");
}

/* GET /readyz: Redis reachable and config loaded. */
static void
routes_readyz(struct pacerd *d, struct http_request *req, const char *param)
{
	(void)param;
	if (d->draining)
		http_error(d, req, 503, "draining");
	else if (!store_ready(d->store))
		http_error(d, req, 503, "store unavailable");
	else
		http_send_text(d, req, 200, "{\"status\":\"ready\"}", 18,
		    "application/json");
}

static void
routes_metrics(struct pacerd *d, struct http_request *req, const char *param)
{
	(void)param;
	metrics_handle(d, req);
}

/* GET /v1/openapi.json: public, like the document it serves. */
static void
routes_openapi(struct pacerd *d, struct http_request *req, const char *param)
{
	(void)param;
	http_send_text(d, req, 200, (const char *)openapi_json, OPENAPI_JSON_LEN,
	    "application/json");
}

static void
routes_decide(struct pacerd *d, struct http_request *req, const char *param)
{
	(void)param;
	decide_handle(d, req);
}

static void
routes_batch(struct pacerd *d, struct http_request *req, const char *param)
{
	(void)param;
	decide_batch_handle(d, req);
}

static void
routes_cancel(struct pacerd *d, struct http_request *req, const char *param)
{
	(void)param;
	decide_cancel_handle(d, req);
}

/* Whether id is a customer id; answers 400 if not. */
static int
routes_customer_id(struct pacerd *d, struct http_request *req, const char *id)
{
	if (keys_valid_customer(id))
		return 1;
	http_error(d, req, 400, "customer id must be 1-128 bytes of "
	    "[A-Za-z0-9_.:@-]");
	return 0;
}

static void
routes_customer_get(struct pacerd *d, struct http_request *req, const char *id)
{
	if (routes_customer_id(d, req, id))
		customer_get(d, req, id);
}

static void
routes_customer_put(struct pacerd *d, struct http_request *req, const char *id)
{
	if (routes_customer_id(d, req, id))
		customer_put(d, req, id);
}

static void
routes_customer_delete(struct pacerd *d, struct http_request *req,
    const char *id)
{
	if (routes_customer_id(d, req, id))
		customer_delete(d, req, id);
}

/* POST /v1/admin/reload: the same reload as SIGHUP, by the caller. */
static void
routes_reload(struct pacerd *d, struct http_request *req, const char *param)
{
	char	*cause = NULL;

	(void)param;
	if (pacerd_reload_by(d, routes_caller(d, req), &cause) != 0) {
		http_error(d, req, 400, "reload failed: %s", cause);
		free(cause);
		return;
	}
	http_send_text(d, req, 200, "{\"reloaded\":true}", 17, "application/json");
}

static void
routes_optimize_start(struct pacerd *d, struct http_request *req,
    const char *param)
{
	(void)param;
	optimize_job_start_http(d, req);
}

static void
routes_optimize_status(struct pacerd *d, struct http_request *req,
    const char *run_id)
{
	optimize_job_status_http(d, req, run_id);
}
