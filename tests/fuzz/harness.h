/*
 * The fuzz targets' daemon: the real HTTP layer (daemon/http.c, included
 * by harness.c to reach its connections) and the real handlers, around
 * tests/fuzz/fuzz.conf.in and a Redis that is never there, so every store
 * call fails at once and nothing forks (optimizer runs are stubbed).
 */
#ifndef PACER_FUZZ_HARNESS_H
#define PACER_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

struct pacerd;

/* The daemon, set up on the first call (exits on a broken set-up). */
struct pacerd	*fuzz_daemon(void);
/*
 * Open a connection (a socketpair) and send it data in pieces of split
 * bytes (0: at once), running the event loop after each; then shut the
 * client's side and run the loop until the connection is gone. Answers are
 * read and dropped; an answer that does not start "HTTP/1.1 " aborts.
 */
void		 fuzz_http_feed(const uint8_t *data, size_t size, size_t split);
/* One request: method, target, and body as Content-Length (borrowed). */
void		 fuzz_http_request(const char *method, const char *target,
		     const uint8_t *body, size_t len);
/*
 * http_query over a request whose URL is url (NUL-terminated): each name,
 * into a buffer of each length from 1 to 24 bytes.
 */
void		 fuzz_http_query(const char *url, const char *const *names);

#endif /* PACER_FUZZ_HARNESS_H */
