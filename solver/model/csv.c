/*
 * CSV reading for offers, scores, profiles and contact logs.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pacer/csv.h"
#include "pacer/str.h"

char *
csv_error(const struct csv *c, const char *field, const char *fmt, ...)
{
	char	*msg, *out;
	va_list	 ap;
	size_t	 n;

	va_start(ap, fmt);
	msg = str_vprintf(fmt, ap);
	va_end(ap);
	if (msg == NULL)
		return NULL;
	n = strlen(msg) + strlen(c->name) + (field ? strlen(field) : 0) + 64;
	if ((out = malloc(n)) != NULL) {
		if (field != NULL)
			snprintf(out, n, "%s:%ld: field %s: %s", c->name, c->line,
			    field, msg);
		else
			snprintf(out, n, "%s:%ld: %s", c->name, c->line, msg);
	}
	free(msg);
	return out;
}

/*
 * Read one physical line (or more, inside quotes) into c->buf; 1, 0 at EOF.
 * A quote opens a quoted field only at the start of a field, as csv_split
 * reads it: a stray quote inside a plain field must not swallow lines.
 */
static int
csv_read_record(struct csv *c)
{
	size_t	 len = 0;
	int	 quoted = 0, closed = 0, ch;

	for (;;) {
		ch = getc_unlocked(c->fp);
		if (ch == EOF) {
			if (len == 0)
				return 0;
			break;
		}
		if (len + 2 > c->cap) {
			size_t	 ncap = c->cap ? c->cap * 2 : 256;
			char	*nb = realloc(c->buf, ncap);

			if (nb == NULL)
				return -1;
			c->buf = nb;
			c->cap = ncap;
		}
		if (ch == '"') {
			if (quoted)
				quoted = 0, closed = 1;
			else if (closed)	/* "" inside quotes */
				quoted = 1, closed = 0;
			else if (len == 0 || c->buf[len - 1] == ',')
				quoted = 1;
		} else
			closed = 0;
		if (ch == '\n') {
			c->line++;
			if (!quoted)
				break;
		}
		c->buf[len++] = (char)ch;
	}
	/* The last line may lack its newline (a newline in quotes is counted). */
	if (ch == EOF && c->buf[len - 1] != '\n')
		c->line++;
	if (len > 0 && c->buf[len - 1] == '\r')
		len--;
	c->buf[len] = '\0';
	return 1;
}

/* Split c->buf into fields in place; 0 or -1 with *cause. */
static int
csv_split(struct csv *c, char **cause)
{
	char	*r = c->buf, *w = c->buf;

	c->nfields = 0;
	for (;;) {
		if (c->nfields >= CSV_MAX_FIELDS) {
			*cause = csv_error(c, NULL, "more than %d fields",
			    CSV_MAX_FIELDS);
			return -1;
		}
		c->field[c->nfields++] = w;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0') {
					*cause = csv_error(c, NULL, "unterminated quote");
					return -1;
				}
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else
					*w++ = *r++;
			}
			if (*r != ',' && *r != '\0') {
				*cause = csv_error(c, NULL, "text after a closing quote");
				return -1;
			}
		} else {
			while (*r != ',' && *r != '\0')
				*w++ = *r++;
		}
		if (*r == '\0') {
			*w = '\0';
			return 0;
		}
		*w++ = '\0';
		r++;
	}
}

int
csv_next(struct csv *c, char **cause)
{
	int	 rc;

	do {
		rc = csv_read_record(c);
		if (rc < 0) {
			*cause = csv_error(c, NULL, "out of memory");
			return -1;
		}
		if (rc == 0)
			return 0;
	} while (c->buf[0] == '\0');
	if (csv_split(c, cause) != 0)
		return -1;
	if (c->nheader > 0 && c->nfields != c->nheader) {
		*cause = csv_error(c, NULL, "%d fields, the header has %d",
		    c->nfields, c->nheader);
		return -1;
	}
	return 1;
}

struct csv *
csv_open_stream(FILE *fp, const char *name, char **cause)
{
	struct csv	*c;
	int		 rc;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		*cause = strdup("out of memory");
		return NULL;
	}
	c->fp = fp;
	c->name = name;
	rc = csv_next(c, cause);
	if (rc == 0) {
		*cause = csv_error(c, NULL, "empty file: a header line is needed");
		goto fail;
	}
	if (rc < 0)
		goto fail;
	/* Spreadsheets like to start files with a UTF-8 byte order mark. */
	if (!strncmp(c->field[0], "\xEF\xBB\xBF", 3))
		c->field[0] += 3;
	for (int i = 0; i < c->nfields; i++) {
		for (int j = 0; j < i; j++) {
			if (!strcmp(c->field[i], c->field[j])) {
				*cause = csv_error(c, NULL, "column \"%s\" appears "
				    "twice in the header", c->field[i]);
				goto fail;
			}
		}
		if ((c->header[i] = strdup(c->field[i])) == NULL) {
			*cause = strdup("out of memory");
			goto fail;
		}
		c->nheader = i + 1;
	}
	return c;
fail:
	csv_close(c);
	return NULL;
}

struct csv *
csv_open(const char *path, char **cause)
{
	FILE		*fp;
	struct csv	*c;
	char		 msg[1024];

	if (!strcmp(path, "-"))
		return csv_open_stream(stdin, "<stdin>", cause);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(msg, sizeof msg, "%s: cannot open: %s", path, strerror(errno));
		*cause = strdup(msg);
		return NULL;
	}
	if ((c = csv_open_stream(fp, path, cause)) == NULL) {
		fclose(fp);
		return NULL;
	}
	c->owns_fp = 1;
	return c;
}

void
csv_close(struct csv *c)
{
	if (c == NULL)
		return;
	if (c->owns_fp)
		fclose(c->fp);
	for (int i = 0; i < c->nheader; i++)
		free(c->header[i]);
	free(c->buf);
	free(c);
}

int
csv_column(const struct csv *c, const char *name)
{
	for (int i = 0; i < c->nheader; i++)
		if (!strcmp(c->header[i], name))
			return i;
	return -1;
}

int
csv_require(const struct csv *c, const char *const *want, int *idx, char **cause)
{
	for (int i = 0; want[i] != NULL; i++) {
		if ((idx[i] = csv_column(c, want[i])) < 0) {
			char	msg[512];

			snprintf(msg, sizeof msg, "%s:1: missing column \"%s\"", c->name,
			    want[i]);
			*cause = strdup(msg);
			return -1;
		}
	}
	return 0;
}

int
csv_double(const char *s, double *out)
{
	char	*end;

	/* strtod/strtoll would skip leading spaces; a field has none. */
	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(*out))
		return -1;
	return 0;
}

int
csv_long(const char *s, long long *out)
{
	char	*end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	return 0;
}
