/*
 * Bearer-token authentication. Tokens are compared in constant time, and
 * every configured token is compared, so timing tells nothing of which
 * token came close.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define AUTH_TOKEN_MAX 256

struct auth_token {
	char		 token[AUTH_TOKEN_MAX];
	size_t		 len;
	enum auth_role	 role;
};

struct auth {
	struct auth_token	*tokens;
	int			 n;
};

struct auth *
auth_load(const char *path, char **cause)
{
	struct auth	*a;
	FILE		*fp;
	char		 line[1024], tok[AUTH_TOKEN_MAX + 1], role[32], extra[2];
	char		 msg[1200];
	int		 lineno = 0, f;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(msg, sizeof msg, "%s:0: cannot open: %s", path, strerror(errno));
		*cause = strdup(msg);
		return NULL;
	}
	if ((a = calloc(1, sizeof *a)) == NULL)
		goto oom;
	while (fgets(line, sizeof line, fp) != NULL) {
		lineno++;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		f = sscanf(p, "%256s %31s %1s", tok, role, extra);
		if (f != 2 || strlen(tok) >= AUTH_TOKEN_MAX || strlen(tok) < 16 ||
		    (strcmp(role, "decide") && strcmp(role, "admin"))) {
			snprintf(msg, sizeof msg, "%s:%d: expected \"TOKEN ROLE\" with a "
			    "token of 16-255 characters and ROLE decide or admin", path,
			    lineno);
			*cause = strdup(msg);
			goto fail;
		}
		void *nt = realloc(a->tokens, (size_t)(a->n + 1) * sizeof *a->tokens);
		if (nt == NULL)
			goto oom;
		a->tokens = nt;
		memset(&a->tokens[a->n], 0, sizeof a->tokens[a->n]);
		memcpy(a->tokens[a->n].token, tok, strlen(tok));
		a->tokens[a->n].len = strlen(tok);
		a->tokens[a->n].role = strcmp(role, "admin") ? AUTH_DECIDE : AUTH_ADMIN;
		a->n++;
	}
	fclose(fp);
	return a;
oom:
	*cause = strdup("out of memory");
fail:
	fclose(fp);
	auth_free(a);
	return NULL;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	free(a->tokens);
	free(a);
}

enum auth_role
auth_role(const struct auth *a, const char *header)
{
	char		 given[AUTH_TOKEN_MAX];
	size_t		 len;
	int		 role = AUTH_NONE;

	if (header == NULL || strncmp(header, "Bearer ", 7) != 0)
		return AUTH_NONE;
	header += 7;
	len = strlen(header);
	if (len == 0 || len >= AUTH_TOKEN_MAX)
		return AUTH_NONE;
	memset(given, 0, sizeof given);
	memcpy(given, header, len);
	for (int i = 0; i < a->n; i++) {
		unsigned char	 diff = (unsigned char)(a->tokens[i].len != len);

		for (size_t j = 0; j < AUTH_TOKEN_MAX; j++)
			diff |= (unsigned char)(a->tokens[i].token[j] ^ given[j]);
		/* Branch-free select of the matching token's role. */
		int match = -(int)(diff == 0);
		role = (role & ~match) | ((int)a->tokens[i].role & match);
	}
	return (enum auth_role)role;
}
