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
#define AUTH_NAME_MAX	64	/* a token's name, with its NUL */

/* Read "TOKEN ROLE [NAME]" lines; NULL with *cause "file:line: message" (caller frees). */
struct auth	*auth_load(const char *path, char **cause);
/* Free; accepts NULL. */
void		 auth_free(struct auth *);
/* The role of an Authorization header value ("Bearer TOKEN"), in constant time. */
enum auth_role	 auth_role(const struct auth *, const char *header);
/*
 * The name of the token an Authorization header value carries (the third
 * column of its line, else its role; borrowed), or NULL: no such token, or
 * no tokens file (a may be NULL).
 */
const char	*auth_name(const struct auth *, const char *header);

#endif /* PACERD_AUTH_H */
