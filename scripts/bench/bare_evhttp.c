/*
 * The ceiling of the HTTP layer on this machine: an evhttp server that
 * answers every request with a fixed JSON body and touches no store.
 * Built and run by scripts/bench.sh as a reference; not part of pacer.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static const char body[] = "{\"allow\":true,\"reason\":\"ok\",\"send_id\":\"x\"}";

/* Answer every request the same way. */
static void
bare_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	(void)arg;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evbuffer_add(out, body, sizeof body - 1);
	evhttp_send_reply(req, 200, "OK", NULL);
}

int
main(int argc, char **argv)
{
	struct event_base	*base = event_base_new();
	struct evhttp		*http = evhttp_new(base);

	if (argc != 2 || evhttp_bind_socket(http, "127.0.0.1",
	    (ev_uint16_t)atoi(argv[1])) != 0)
		return 1;
	evhttp_set_gencb(http, bare_cb, NULL);
	event_base_dispatch(base);
	return 0;
}
