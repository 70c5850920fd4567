/*
 * A small, fast CSV reader for pacer's input files (SPEC section 4):
 * comma-separated, optional double quotes ("" inside quotes is a quote),
 * a header line, LF or CRLF line ends. Errors name file, line and field.
 */
#ifndef PACER_CSV_H
#define PACER_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_FIELDS 32

struct csv {
	FILE		*fp;
	const char	*name;		/* file name for messages (borrowed) */
	char		*buf;		/* current record */
	size_t		 cap;
	long		 line;		/* line number of the current record */
	int		 nfields;
	char		*field[CSV_MAX_FIELDS];	/* point into buf */
	char		*header[CSV_MAX_FIELDS];	/* header names (owned) */
	int		 nheader;
	int		 owns_fp;
};

/* csv.c */
/*
 * Open path (or "-" for stdin) and read its header line. Returns NULL with
 * *cause set (caller frees). The result is freed with csv_close.
 */
struct csv	*csv_open(const char *path, char **cause);
/* Same, over an open stream that stays the caller's; name is for messages. */
struct csv	*csv_open_stream(FILE *fp, const char *name, char **cause);
/* Close and free; accepts NULL. */
void		 csv_close(struct csv *);
/*
 * Read the next record into csv->field. Returns 1 for a record, 0 at the
 * end, -1 on a malformed line (*cause set, caller frees). Empty lines are
 * skipped. Field pointers stay valid until the next call.
 */
int		 csv_next(struct csv *, char **cause);
/* Column index of name in the header, or -1. */
int		 csv_column(const struct csv *, const char *name);
/*
 * Check the header holds every name in want (NULL-terminated); fills idx
 * with column numbers. Returns 0, or -1 naming the missing column.
 */
int		 csv_require(const struct csv *, const char *const *want, int *idx,
		    char **cause);
/* Make "file:line: field NAME: message" (caller frees). */
char		*csv_error(const struct csv *, const char *field, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Strict number parsers: whole field must be a number; 0 or -1. */
int		 csv_double(const char *s, double *out);
int		 csv_long(const char *s, long long *out);

#endif /* PACER_CSV_H */
