/*
 * Bearer-token authentication. Tokens are compared in constant time, and
 * every configured token is compared, so timing tells nothing of which
 * token came close.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pacerd.h"
#include "pacer/str.h"

#define AUTH_TOKEN_MAX 256
#define AUTH_MODE_REFUSED 0037	/* group write or exec, any bit for others */
#define AUTH_DISTINCT_MIN 8	/* fewer different characters is a weak token */

/*
 * Parts of the placeholders conf/tokens ships ("decide-token-change-me"):
 * a token holding one of them was copied from an example, not generated.
 */
static const char *const auth_placeholders[] = {
	"change-me", "changeme", "change_me", "replace-me", "replaceme",
	"example", "placeholder", "secret", "password", NULL
};

struct auth_token {
	char		 token[AUTH_TOKEN_MAX];
	size_t		 len;
	enum auth_role	 role;
	char		 name[AUTH_NAME_MAX];	/* who holds it; the role if unnamed */
};

struct auth {
	struct auth_token	*tokens;
	int			 n;
};

/*
 * Why a token is too weak to guard the API (a static string), or NULL: it
 * holds a placeholder word (case-insensitive) or repeats a handful of
 * characters ("aaaaaaaaaaaaaaaa", "abababab...").
 */
static const char *
auth_weak_token(const char *tok)
{
	unsigned char	 seen[256];
	int		 distinct = 0;

	for (int i = 0; auth_placeholders[i] != NULL; i++) {
		size_t	 n = strlen(auth_placeholders[i]);

		for (const char *p = tok; *p != '\0'; p++)
			if (strncasecmp(p, auth_placeholders[i], n) == 0)
				return "an example or placeholder token (generate one, "
				    "e.g. openssl rand -hex 24)";
	}
	memset(seen, 0, sizeof seen);
	for (const unsigned char *p = (const unsigned char *)tok; *p; p++)
		if (!seen[*p]++)
			distinct++;
	if (distinct < AUTH_DISTINCT_MIN)
		return "a weak token (fewer than 8 different characters)";
	return NULL;
}

/*
 * Whether the open tokens file may be trusted: a regular file that others
 * cannot read and neither group nor others can write (0600 and 0640 pass,
 * 0644 and 0666 do not); 0, or -1 with msg filled.
 */
static int
auth_check_mode(FILE *fp, const char *path, char *msg, size_t len)
{
	struct stat	 sb;

	if (fstat(fileno(fp), &sb) != 0) {
		snprintf(msg, len, "%s:0: cannot stat: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(msg, len, "%s:0: not a regular file", path);
		return -1;
	}
	if ((sb.st_mode & AUTH_MODE_REFUSED) != 0) {
		snprintf(msg, len, "%s:0: refused: tokens file mode %04o lets "
		    "others read or write it (chmod 600, or 640)", path,
		    (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

struct auth *
auth_load(const char *path, char **cause)
{
	struct auth	*a;
	FILE		*fp;
	char		 line[1024], tok[AUTH_TOKEN_MAX + 1], role[32], extra[2];
	char		 name[AUTH_NAME_MAX + 1];	/* one more: too long is refused */
	char		 msg[1200];
	const char	*weak;
	int		 lineno = 0, f;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(msg, sizeof msg, "%s:0: cannot open: %s", path, strerror(errno));
		*cause = strdup(msg);
		return NULL;
	}
	if ((a = calloc(1, sizeof *a)) == NULL)
		goto oom;
	if (auth_check_mode(fp, path, msg, sizeof msg) != 0) {
		*cause = strdup(msg);
		goto fail;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		lineno++;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		name[0] = '\0';
		f = sscanf(p, "%256s %31s %64s %1s", tok, role, name, extra);
		if ((f != 2 && f != 3) || strlen(tok) >= AUTH_TOKEN_MAX ||
		    strlen(tok) < 16 ||
		    (strcmp(role, "decide") && strcmp(role, "admin")) ||
		    (f == 3 && !str_valid_id(name, AUTH_NAME_MAX - 1))) {
			snprintf(msg, sizeof msg, "%s:%d: expected \"TOKEN ROLE [NAME]\" "
			    "with a token of 16-255 characters, ROLE decide or admin "
			    "and NAME 1-%d of [A-Za-z0-9_.:@-]", path, lineno,
			    AUTH_NAME_MAX - 1);
			*cause = strdup(msg);
			goto fail;
		}
		if ((weak = auth_weak_token(tok)) != NULL) {
			snprintf(msg, sizeof msg, "%s:%d: refused: %s", path, lineno,
			    weak);
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
		/* Both fit: a name was checked to 63 bytes, a role is short. */
		memcpy(a->tokens[a->n].name, f == 3 ? name : role,
		    strlen(f == 3 ? name : role) + 1);
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

/*
 * The index of the token an Authorization header value ("Bearer TOKEN")
 * carries, or -1; every token is compared in full (constant time).
 */
static int
auth_find(const struct auth *a, const char *header)
{
	char		 given[AUTH_TOKEN_MAX];
	size_t		 len;
	int		 found = -1;

	if (header == NULL || strncmp(header, "Bearer ", 7) != 0)
		return -1;
	header += 7;
	len = strlen(header);
	if (len == 0 || len >= AUTH_TOKEN_MAX)
		return -1;
	memset(given, 0, sizeof given);
	memcpy(given, header, len);
	for (int i = 0; i < a->n; i++) {
		unsigned char	 diff = (unsigned char)(a->tokens[i].len != len);

		for (size_t j = 0; j < AUTH_TOKEN_MAX; j++)
			diff |= (unsigned char)(a->tokens[i].token[j] ^ given[j]);
		/* Branch-free select of the matching token. */
		int match = -(int)(diff == 0);
		found = (found & ~match) | (i & match);
	}
	return found;
}

enum auth_role
auth_role(const struct auth *a, const char *header)
{
	int	 i = auth_find(a, header);

	return i < 0 ? AUTH_NONE : a->tokens[i].role;
}

const char *
auth_name(const struct auth *a, const char *header)
{
	int	 i = a != NULL ? auth_find(a, header) : -1;

	return i < 0 ? NULL : a->tokens[i].name;
}
