/*
 * Bearer tokens with roles (server.tokens_file).
 */
#ifndef PACERD_AUTH_H
#define PACERD_AUTH_H

enum auth_role {
	AUTH_NONE = -1,		/* no or unknown token */
	AUTH_DECIDE = 0,	/* decide, batch, cancel, customer read */
	AUTH_ADMIN = 1,		/* everything */
};

struct auth;

/* auth.c */
/* Read "TOKEN ROLE" lines; NULL with *cause "file:line: message" (caller frees). */
struct auth	*auth_load(const char *path, char **cause);
/* Free; accepts NULL. */
void		 auth_free(struct auth *);
/* The role of an Authorization header value ("Bearer TOKEN"), in constant time. */
enum auth_role	 auth_role(const struct auth *, const char *header);

#endif /* PACERD_AUTH_H */
