/*
 * scores.csv (customer,offer,propensity) read fast into compressed rows:
 * millions of lines a second, propensities as float32, customers numbered
 * in order of first appearance. The file is read in large blocks and split
 * in place; a line holding a quote goes through the full CSV rules.
 *
 * A large file is read in parts, one thread each: the parts are cut at
 * line starts where the customer changes, each part interns its own
 * customers, and the parts join in file order (a customer first seen in a
 * later part numbered after the earlier parts' ones), so the result is the
 * one reading alone gives, errors included: the first in the file, with
 * its line number over the whole file.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pacer/csv.h"
#include "pacer/keys.h"
#include "pacer/mem.h"
#include "pacer/offers.h"
#include "pacer/slot.h"

#include "cmd.h"
#include "pacer/str.h"

#define SCORES_BLOCK	(8 << 20)	/* bytes read at a time */
#define SCORES_LINE_MAX	(64 << 10)	/* longest accepted line */
#define SCORES_PART_MIN	(32 << 20)	/* bytes: a smaller file, one part */
#define SCORES_PARTS_MAX 8		/* threads reading one file */

void
cmd_scores_drop_rows(struct cmd_scores *s)
{
	free(s->start);
	free(s->offer);
	free(s->prop);
	s->start = NULL;
	s->offer = NULL;
	s->prop = NULL;
}

void
cmd_scores_free(struct cmd_scores *s)
{
	if (s == NULL)
		return;
	intern_free(&s->ids);
	cmd_scores_drop_rows(s);
	memset(s, 0, sizeof *s);
}

/* Reader state while parsing. */
struct scores_reader {
	const char		*path;
	const struct offers	*offers;
	struct intern		 offer_ids;	/* offer name -> index */
	struct cmd_scores	*out;
	uint32_t		*cust;		/* customer of each pair */
	int64_t			 cap;
	long			 line;
	int			 nheader;
	int			 col[3];	/* customer, offer, propensity */
	int			 last_customer;
	size_t			 last_len;	/* its id's bytes */
	char			 skip_id[KEYS_CUSTOMER_MAX + 1]; /* the last
						   line's, another process's */
	size_t			 skip_len;	/* 0: none */
	int			 sorted;	/* rows grouped by customer so far */
	uint32_t		*offer_seen;	/* last customer per offer + 1 */
	size_t			*offer_len;	/* name lengths */
	int			 last_offer;
	int			 slot_lo, slot_hi; /* customers kept: slot in
						      [lo, hi) (pacer optimize
						      over several processes) */
	/* The part of the file this reader reads: [from, to) of fd. */
	int			 fd;
	off_t			 from, to, total;
	int			 part;		/* its number, 0 first */
	atomic_llong		*done;		/* bytes read, all parts */
	atomic_int		*failed;	/* first part that failed, or
						   SCORES_PARTS_MAX */
	char			*cause;		/* the error, after
						   "file:line: " when
						   cause_line > 0 */
	long			 cause_line;	/* in this part */
};

/* Set the reader's error "field F: message" at its line. */
static void
scores_fail(struct scores_reader *r, const char *field, const char *msg,
    const char *value, size_t n)
{
	if (r->cause != NULL)
		return;
	if (n > 80)
		n = 80;
	r->cause_line = r->line;
	if (field != NULL && value != NULL)
		r->cause = str_printf("field %s: %s \"%.*s\"", field, msg, (int)n,
		    value);
	else if (field != NULL)
		r->cause = str_printf("field %s: %s", field, msg);
	else
		r->cause = strdup(msg);
}

/* The reader's error as the caller gets it; line_base: lines before it. */
static char *
scores_cause(const struct scores_reader *r, long line_base)
{
	if (r->cause == NULL)
		return strdup("out of memory");
	if (r->cause_line <= 0)
		return strdup(r->cause);
	return str_printf("%s:%ld: %s", r->path, line_base + r->cause_line,
	    r->cause);
}

/* Parse a propensity in [0,1]: "0.1234" fast, anything else via strtod. */
static int
scores_propensity(const char *s, size_t n, float *out)
{
	uint64_t	 ip = 0, fp = 0, scale = 1;
	size_t		 i = 0;
	double		 v;
	char		 tmp[64];

	while (i < n && s[i] >= '0' && s[i] <= '9' && i < 9)
		ip = ip * 10 + (uint64_t)(s[i++] - '0');
	if (i > 0 && i < n && s[i] == '.') {
		size_t	 j = ++i;

		while (i < n && s[i] >= '0' && s[i] <= '9' && i - j < 15) {
			fp = fp * 10 + (uint64_t)(s[i++] - '0');
			scale *= 10;
		}
	}
	if (i == n && i > 0) {
		v = (double)ip + (double)fp / (double)scale;
	} else {
		if (n == 0 || n >= sizeof tmp)
			return -1;
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (csv_double(tmp, &v) != 0)
			return -1;
	}
	if (!(v >= 0.0 && v <= 1.0))
		return -2;
	*out = (float)v;
	return 0;
}

/*
 * Split a line that holds quotes by the CSV rules, in place (unquoted text
 * never grows); fills f/len; returns the field count or -1.
 */
static int
scores_split_quoted(char *line, size_t n, char **f, size_t *len, int max)
{
	char	*r = line, *end = line + n, *w = line;
	int	 nf = 0;

	for (;;) {
		char	*start = w;

		if (nf >= max)
			return -1;
		if (r < end && *r == '"') {
			r++;
			for (;;) {
				if (r >= end)
					return -1;
				if (*r == '"' && r + 1 < end && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else
					*w++ = *r++;
			}
			if (r < end && *r != ',')
				return -1;
		} else {
			while (r < end && *r != ',')
				*w++ = *r++;
		}
		f[nf] = start;
		len[nf++] = (size_t)(w - start);
		if (r >= end)
			return nf;
		w++;	/* keep a byte between fields */
		r++;
	}
}

/* Split the header line and find the columns; 0 or -1. */
static int
scores_header(struct scores_reader *r, char *line, size_t n)
{
	static const char *const want[] = { "customer", "offer", "propensity" };
	char	*f[CSV_MAX_FIELDS];
	size_t	 len[CSV_MAX_FIELDS];
	int	 nf = scores_split_quoted(line, n, f, len, CSV_MAX_FIELDS);

	if (nf < 0) {
		scores_fail(r, NULL, "malformed header line", NULL, 0);
		return -1;
	}
	r->nheader = nf;
	for (int k = 0; k < 3; k++) {
		r->col[k] = -1;
		for (int i = 0; i < nf; i++)
			if (len[i] == strlen(want[k]) && !memcmp(f[i], want[k], len[i]))
				r->col[k] = i;
		if (r->col[k] < 0) {
			r->cause = str_printf("missing column \"%s\"", want[k]);
			r->cause_line = 1;
			return -1;
		}
	}
	return 0;
}

/*
 * Split a data line into f and len (the fields point into line): by the
 * full CSV rules when it holds a quote, at every comma otherwise. The
 * number of fields, or -1 with r->cause set.
 */
static int
scores_fields(struct scores_reader *r, char *line, size_t n, char **f,
    size_t *len)
{
	char	*q = line, *end = line + n;
	int	 nf = 0;

	if (memchr(line, '"', n) != NULL) {
		if ((nf = scores_split_quoted(line, n, f, len, CSV_MAX_FIELDS)) < 0)
			scores_fail(r, NULL, "malformed quoted field", NULL, 0);
		return nf;
	}
	for (;;) {
		char	*comma = memchr(q, ',', (size_t)(end - q));

		if (nf >= CSV_MAX_FIELDS) {
			scores_fail(r, NULL, "too many fields", NULL, 0);
			return -1;
		}
		f[nf] = q;
		if (comma == NULL) {
			len[nf++] = (size_t)(end - q);
			break;
		}
		len[nf++] = (size_t)(comma - q);
		q = comma + 1;
	}
	return nf;
}

/*
 * The number of the row's customer id (idn bytes), interned and checked on
 * first sight; -1 with r->cause set.
 */
static int
scores_customer(struct scores_reader *r, const char *id, size_t idn)
{
	struct cmd_scores	*s = r->out;
	const char		*last = r->last_customer >= 0 ?
				    s->ids.arena + s->ids.off[r->last_customer] :
				    NULL;
	char			 tmp[KEYS_CUSTOMER_MAX + 2];
	int			 c, added;

	/* Most files group rows by customer, so try the last. */
	if (last != NULL && idn == r->last_len && memcmp(last, id, idn) == 0)
		c = r->last_customer;
	else if ((c = intern_add(&s->ids, id, idn, &added)) < 0) {
		scores_fail(r, NULL, "out of memory", NULL, 0);
		return -1;
	} else if (!added) {
		r->sorted = 0;
	} else {
		/* New: a bad id fails the whole read (it stays interned). */
		if (idn == 0 || idn > KEYS_CUSTOMER_MAX ||
		    memchr(id, '\0', idn) != NULL) {
			scores_fail(r, "customer", "not a valid customer id",
			    id, idn);
			return -1;
		}
		memcpy(tmp, id, idn);
		tmp[idn] = '\0';
		if (!keys_valid_customer(tmp)) {
			scores_fail(r, "customer", "not a valid customer id "
			    "(1-128 of A-Za-z0-9_.:@-)", id, idn);
			return -1;
		}
	}
	r->last_customer = c;
	r->last_len = idn;
	return c;
}

/*
 * The index of the row's offer (name, len bytes); -1 with r->cause set
 * when the offers file does not list it.
 */
static int
scores_offer(struct scores_reader *r, const char *name, size_t len)
{
	int	 o = -1;

	/*
	 * Rows usually list a customer's offers in catalogue order: try the
	 * few offers after the last one before hashing.
	 */
	for (int k = 1, n_ = r->offers->n; k <= 4 && k <= n_; k++) {
		int	 g = (r->last_offer + k) % n_;

		if (r->offer_len[g] == len &&
		    memcmp(r->offers->offer[g].name, name, len) == 0) {
			o = g;
			break;
		}
	}
	if (o < 0)
		o = intern_find(&r->offer_ids, name, len);
	if (o < 0)
		scores_fail(r, "offer", "unknown offer (not in the offers file)",
		    name, len);
	return o;
}

/* Room for need pairs; 0, or -1 with r->cause set. */
static int
scores_reserve(struct scores_reader *r, int64_t need)
{
	struct cmd_scores	*s = r->out;
	int64_t			 ncap = r->cap ? r->cap * 2 : 1 << 16;
	void			*a, *b, *d;

	if (need <= r->cap)
		return 0;
	if (ncap < need)
		ncap = need;
	if ((a = mem_grow(r->cust, (size_t)s->npairs * sizeof *r->cust,
	    (size_t)ncap * sizeof *r->cust)) != NULL)
		r->cust = a;
	if ((b = mem_grow(s->offer, (size_t)s->npairs * sizeof *s->offer,
	    (size_t)ncap * sizeof *s->offer)) != NULL)
		s->offer = b;
	if ((d = mem_grow(s->prop, (size_t)s->npairs * sizeof *s->prop,
	    (size_t)ncap * sizeof *s->prop)) != NULL)
		s->prop = d;
	if (a == NULL || b == NULL || d == NULL) {
		scores_fail(r, NULL, "out of memory", NULL, 0);
		return -1;
	}
	r->cap = ncap;
	return 0;
}

/* Parse one data line (not NUL-terminated, no line end); 0 or -1. */
static int
scores_line(struct scores_reader *r, char *line, size_t n)
{
	char			*f[CSV_MAX_FIELDS];
	size_t			 len[CSV_MAX_FIELDS];
	int			 nf, c, o, rc;
	struct cmd_scores	*s = r->out;
	float			 p;

	/* The same other process's customer as the line before: not ours. */
	if (r->skip_len > 0 && n > r->skip_len && line[r->skip_len] == ',' &&
	    memcmp(line, r->skip_id, r->skip_len) == 0)
		return 0;
	if ((nf = scores_fields(r, line, n, f, len)) < 0)
		return -1;
	if (nf != r->nheader) {
		char	 msg[64];

		snprintf(msg, sizeof msg, "%d fields, the header has %d", nf,
		    r->nheader);
		scores_fail(r, NULL, msg, NULL, 0);
		return -1;
	}
	/* Another process's customer (mpirun -np K): not this one's. */
	if (r->slot_hi - r->slot_lo < SLOT_COUNT) {
		int	 slot = cmd_world_slot(f[r->col[0]], len[r->col[0]]);

		if (slot < r->slot_lo || slot >= r->slot_hi) {
			/*
			 * Its next lines are skipped unread when the id leads
			 * the line unquoted: its owner reads and checks them.
			 */
			if (r->col[0] == 0 && f[0] == line &&
			    len[0] < sizeof r->skip_id) {
				memcpy(r->skip_id, line, len[0]);
				r->skip_len = len[0];
			}
			return 0;
		}
		r->skip_len = 0;
	}
	if ((c = scores_customer(r, f[r->col[0]], len[r->col[0]])) < 0 ||
	    (o = scores_offer(r, f[r->col[1]], len[r->col[1]])) < 0)
		return -1;
	if ((rc = scores_propensity(f[r->col[2]], len[r->col[2]], &p)) != 0) {
		scores_fail(r, "propensity", rc == -2 ? "outside [0,1]:" :
		    "not a number:", f[r->col[2]], len[r->col[2]]);
		return -1;
	}
	/* Duplicates are caught here when rows are grouped, later otherwise. */
	if (r->offer_seen[o] == (uint32_t)c + 1 && r->sorted) {
		scores_fail(r, "offer", "appears twice for this customer:",
		    f[r->col[1]], len[r->col[1]]);
		return -1;
	}
	r->offer_seen[o] = (uint32_t)c + 1;
	r->last_offer = o;
	if (s->npairs == r->cap && scores_reserve(r, s->npairs + 1) != 0)
		return -1;
	r->cust[s->npairs] = (uint32_t)c;
	s->offer[s->npairs] = (uint16_t)o;
	s->prop[s->npairs] = p;
	s->npairs++;
	return 0;
}

/*
 * Turn the pair list into compressed rows; rows that were not grouped by
 * customer are sorted by a counting pass. 0 or -1.
 */
static int
scores_rows(struct scores_reader *r)
{
	struct cmd_scores	*s = r->out;
	int64_t			*start, *fill = NULL;
	uint16_t		*offer = NULL;
	float			*prop = NULL;

	if ((start = calloc((size_t)s->ids.n + 1, sizeof *start)) == NULL)
		goto oom;
	for (int64_t k = 0; k < s->npairs; k++)
		start[r->cust[k] + 1]++;
	for (int c = 0; c < s->ids.n; c++)
		start[c + 1] += start[c];
	s->start = start;
	if (r->sorted)
		return 0;
	if ((fill = malloc((size_t)s->ids.n * sizeof *fill)) == NULL ||
	    (offer = malloc((size_t)s->npairs * sizeof *offer + 1)) == NULL ||
	    (prop = malloc((size_t)s->npairs * sizeof *prop + 1)) == NULL)
		goto oom;
	mem_huge(offer, (size_t)s->npairs * sizeof *offer);
	mem_huge(prop, (size_t)s->npairs * sizeof *prop);
	memcpy(fill, start, (size_t)s->ids.n * sizeof *fill);
	for (int64_t k = 0; k < s->npairs; k++) {
		int64_t	 at = fill[r->cust[k]]++;

		offer[at] = s->offer[k];
		prop[at] = s->prop[k];
	}
	free(fill);
	free(s->offer);
	free(s->prop);
	s->offer = offer;
	s->prop = prop;
	/* Now a duplicate pair is two equal offers in one row. */
	memset(r->offer_seen, 0, (size_t)r->offers->n * sizeof *r->offer_seen);
	for (int c = 0; c < s->ids.n; c++) {
		for (int64_t k = start[c]; k < start[c + 1]; k++) {
			if (r->offer_seen[offer[k]] == (uint32_t)c + 1) {
				r->cause = str_printf("%s: customer %s: offer %s "
				    "appears twice", r->path, s->ids.arena +
				    s->ids.off[c], r->offers->offer[offer[k]].name);
				return -1;
			}
			r->offer_seen[offer[k]] = (uint32_t)c + 1;
		}
	}
	return 0;
oom:
	free(fill);
	free(offer);
	free(prop);
	r->cause = strdup("out of memory");
	return -1;
}

/* The reader's tables of the offers: names, lengths, last customer. 0/-1. */
static int
scores_offer_tables(struct scores_reader *r)
{
	const struct offers	*offers = r->offers;

	if ((r->offer_seen = calloc((size_t)offers->n + 1,
	    sizeof *r->offer_seen)) == NULL ||
	    (r->offer_len = calloc((size_t)offers->n + 1,
	    sizeof *r->offer_len)) == NULL)
		return -1;
	for (int i = 0; i < offers->n; i++)
		r->offer_len[i] = strlen(offers->offer[i].name);
	for (int i = 0; i < offers->n; i++)
		if (intern_add(&r->offer_ids, offers->offer[i].name,
		    strlen(offers->offer[i].name), NULL) != i)
			return -1;
	return 0;
}

/* Free what the reader holds of its own (not the scores it fills). */
static void
scores_reader_free(struct scores_reader *r)
{
	free(r->cust);
	free(r->offer_seen);
	free(r->offer_len);
	intern_free(&r->offer_ids);
	free(r->cause);
}

/*
 * Parse the complete lines of p..end (at eof, a last line without a
 * newline too): the header first, then data lines. Returns where the
 * unparsed rest starts, or NULL with r->cause set.
 */
static char *
scores_block(struct scores_reader *r, char *p, char *end, int eof,
    int *header)
{
	char	*nl;
	size_t	 n;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			if (!eof || p == end)
				break;
			nl = end;	/* last line without a newline */
		}
		n = (size_t)(nl - p);
		r->line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0) {
			if (!*header) {
				if (scores_header(r, p, n) != 0)
					return NULL;
				*header = 1;
			} else if (scores_line(r, p, n) != 0)
				return NULL;
		}
		p = nl < end ? nl + 1 : end;
	}
	return p;
}

/* Read up to n bytes of the reader's part at at into buf; bytes or -1. */
static ssize_t
scores_pread(struct scores_reader *r, char *buf, size_t n, off_t at)
{
	ssize_t	 got;

	if ((off_t)n > r->to - at)
		n = (size_t)(r->to - at);
	while ((got = n > 0 ? pread(r->fd, buf, n, at) : 0) < 0 &&
	    errno == EINTR)
		;
	if (got < 0 && r->cause == NULL)
		r->cause = str_printf("%s: read failed: %s", r->path,
		    strerror(errno));
	return got;
}

/*
 * Read the reader's part block by block through buf (size bytes, a
 * block and SCORES_LINE_MAX), parsing as it goes; *header says whether a
 * header line was found. 0, or -1 with r->cause set (or without, when an
 * earlier part failed: this part's result is not wanted).
 */
static int
scores_read(struct scores_reader *r, char *buf, size_t size, int *header)
{
	struct cmd_progress	 prog = { 0, 0 };
	char			*p, *end;
	size_t			 have = 0;
	int			 eof = 0;
	off_t			 at = r->from;
	ssize_t			 n;

	while (!eof || have > 0) {
		if (!eof) {
			if ((n = scores_pread(r, buf + have, size - have, at)) < 0)
				return -1;
			eof = n == 0;
			have += (size_t)n;
			at += n;
			atomic_fetch_add(r->done, (long long)n);
		}
		if (atomic_load(r->failed) < r->part)
			return -1;
		end = buf + have;
		if ((p = scores_block(r, buf, end, eof, header)) == NULL)
			return -1;
		have = (size_t)(end - p);
		if (have >= SCORES_LINE_MAX && !eof) {
			r->line++;
			scores_fail(r, NULL, "line too long", NULL, 0);
			return -1;
		}
		memmove(buf, p, have);
		if (eof)
			have = 0;
		if (r->part == 0 && cmd_progress_due(&prog))
			cmd_progress_line(&prog, "optimize", "scores: bytes read",
			    (uint64_t)atomic_load(r->done), (uint64_t)r->total);
	}
	return 0;
}

/* One part of the file, its reader and its thread. */
struct scores_part {
	struct scores_reader	 r;
	struct cmd_scores	 own;		/* what parts after the first
						   read, joined to the first */
	int			 header;	/* the header line was read */
	int			 rc;
	pthread_t		 thread;
	int			 started;
};

/* Read one part (a thread's start); pt->rc says how it went. */
static void *
scores_part_run(void *arg)
{
	struct scores_part	*pt = arg;
	struct scores_reader	*r = &pt->r;
	/* A block, or the whole of a smaller part, and the longest line. */
	size_t			 size = (r->to - r->from < SCORES_BLOCK ?
				    (size_t)(r->to - r->from) : SCORES_BLOCK) +
				    SCORES_LINE_MAX;
	char			*buf;
	int			 f;

	pt->rc = -1;
	if ((buf = malloc(size)) == NULL)
		scores_fail(r, NULL, "out of memory", NULL, 0);
	else
		pt->rc = scores_read(r, buf, size, &pt->header);
	free(buf);
	/* The first part that failed stops the parts after it. */
	f = atomic_load(r->failed);
	while (pt->rc != 0 && r->part < f &&
	    !atomic_compare_exchange_weak(r->failed, &f, r->part))
		;
	return NULL;
}

/*
 * Field k of the unquoted line p (n bytes) into *f and *len; 0, or -1
 * when the line holds a quote or has fewer fields.
 */
static int
scores_field_at(const char *p, size_t n, int k, const char **f, size_t *len)
{
	const char	*end = p + n, *comma;

	if (memchr(p, '"', n) != NULL)
		return -1;
	for (int i = 0; i < k; i++) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			return -1;
		p = comma + 1;
	}
	comma = memchr(p, ',', (size_t)(end - p));
	*f = p;
	*len = (size_t)((comma != NULL ? comma : end) - p);
	return 0;
}

/*
 * Where a part may start, at or after byte at of the file: the start of
 * the first line whose customer differs from the line before's, so that a
 * customer's grouped rows stay in one part (a line with quotes is taken as
 * it comes: parts join right wherever they are cut). -1 for none within
 * a window of the file.
 */
static off_t
scores_cut(const struct scores_reader *r, off_t at)
{
	char		*win;
	const char	*p, *nl, *end, *prev = NULL, *f;
	size_t		 prevn = 0, fn;
	ssize_t		 n;
	off_t		 cut = -1;

	if ((win = malloc(2 * SCORES_LINE_MAX)) == NULL)
		return -1;
	if ((n = pread(r->fd, win, 2 * SCORES_LINE_MAX, at)) <= 0 ||
	    (nl = memchr(win, '\n', (size_t)n)) == NULL)
		n = 0;
	end = win + (n > 0 ? n : 0);
	for (p = n > 0 ? nl + 1 : end;
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1) {
		size_t	 len = (size_t)(nl - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (scores_field_at(p, len, r->col[0], &f, &fn) != 0 ||
		    (prev != NULL && (fn != prevn || memcmp(f, prev, fn) != 0))) {
			cut = at + (off_t)(p - win);
			break;
		}
		prev = f;
		prevn = fn;
	}
	free(win);
	return cut;
}

/*
 * Find the header line at the start of the file into part 0 (columns,
 * lines before the data, where the data starts); 0, or -1 when it is not
 * there to find cleanly (reading in one part then says why).
 */
static int
scores_header_first(struct scores_part *pt)
{
	struct scores_reader	*r = &pt->r;
	char			*buf, *p, *nl, *end;
	ssize_t			 n;
	int			 rc = -1;

	if ((buf = malloc(SCORES_LINE_MAX)) == NULL)
		return -1;
	if ((n = pread(r->fd, buf, SCORES_LINE_MAX, 0)) <= 0)
		goto done;
	end = buf + n;
	for (p = buf; (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
	    p = nl + 1) {
		size_t	 len = (size_t)(nl - p);

		r->line++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if (scores_header(r, p, len) == 0) {
			pt->header = 1;
			r->from = (off_t)(nl + 1 - buf);
			rc = 0;
		}
		break;
	}
done:
	free(buf);
	return rc;
}

/*
 * Cut [part 0's start, total) into at most n parts at customer changes;
 * the number of parts (1 when the file is read whole).
 */
static int
scores_cut_parts(struct scores_part *pt, int n, off_t total)
{
	int	 k = 1;
	off_t	 from = pt[0].r.from, at;

	for (int i = 1; i < n; i++) {
		at = scores_cut(&pt[0].r, from + (total - from) / n * i);
		if (at < 0 || at <= pt[k - 1].r.from || at >= total)
			continue;
		pt[k - 1].r.to = at;
		pt[k].r.from = at;
		pt[k].r.to = total;
		pt[k].r.nheader = pt[0].r.nheader;
		memcpy(pt[k].r.col, pt[0].r.col, sizeof pt[k].r.col);
		pt[k].header = 1;
		k++;
	}
	return k;
}

/*
 * Join part q's rows to r's: q's customers interned into r's (one seen in
 * both makes the rows ungrouped), q's pairs after r's. q's arrays are
 * freed. 0, or -1 with r->cause set.
 */
static int
scores_join(struct scores_reader *r, struct scores_reader *q)
{
	struct cmd_scores	*s = r->out, *t = q->out;
	int32_t			*map;
	int			 added;

	if ((map = malloc((size_t)t->ids.n * sizeof *map + 1)) == NULL)
		goto oom;
	for (int32_t c = 0; c < t->ids.n; c++) {
		const char	*id = intern_str(&t->ids, c);

		if ((map[c] = intern_add(&s->ids, id, strlen(id), &added)) < 0)
			goto oom;
		if (!added)
			r->sorted = 0;
	}
	if (!q->sorted)
		r->sorted = 0;
	/* A part may hold no pairs (blank lines only): nothing to copy. */
	if (t->npairs > 0) {
		if (scores_reserve(r, s->npairs + t->npairs) != 0)
			goto oom;
		for (int64_t k = 0; k < t->npairs; k++)
			r->cust[s->npairs + k] = (uint32_t)map[q->cust[k]];
		memcpy(s->offer + s->npairs, t->offer, (size_t)t->npairs *
		    sizeof *t->offer);
		memcpy(s->prop + s->npairs, t->prop, (size_t)t->npairs *
		    sizeof *t->prop);
		s->npairs += t->npairs;
	}
	r->line += q->line;
	free(map);
	cmd_scores_free(t);
	free(q->cust);
	q->cust = NULL;
	return 0;
oom:
	free(map);
	scores_fail(r, NULL, "out of memory", NULL, 0);
	return -1;
}

/*
 * After the parts were read: the first error in file order, or the parts
 * joined into part 0's scores and turned into rows. 0, or -1 with *cause.
 */
static int
scores_finish(struct scores_part *pt, int n, char **cause)
{
	struct scores_reader	*r = &pt[0].r;
	long			 base = 0;

	for (int i = 0; i < n; i++) {
		if (pt[i].rc != 0) {
			*cause = scores_cause(&pt[i].r, base);
			return -1;
		}
		base += pt[i].r.line;
	}
	if (!pt[0].header) {
		r->line = 1;
		scores_fail(r, NULL, "empty file: a header line is needed", NULL, 0);
		*cause = scores_cause(r, 0);
		return -1;
	}
	for (int i = 1; i < n; i++)
		if (scores_join(r, &pt[i].r) != 0) {
			*cause = scores_cause(r, 0);
			return -1;
		}
	if (scores_rows(r) != 0) {
		*cause = scores_cause(r, 0);
		return -1;
	}
	r->out->lines = r->line;
	return 0;
}

/* Set up part i's reader over fd; 0 or -1 (out of memory). */
static int
scores_part_init(struct scores_part *pt, int i, const char *path,
    const struct offers *offers, int slot_lo, int slot_hi, int fd,
    off_t total, struct cmd_scores *out)
{
	struct scores_reader	*r = &pt->r;

	r->path = path;
	r->offers = offers;
	r->out = i == 0 ? out : &pt->own;
	r->last_customer = -1;
	r->sorted = 1;
	r->slot_lo = slot_lo;
	r->slot_hi = slot_hi;
	r->fd = fd;
	r->to = total;
	r->total = total;
	r->part = i;
	return scores_offer_tables(r);
}

/* Read parts 1.. on threads of their own, part 0 on this one; join them. */
static void
scores_read_parts(struct scores_part *pt, int n)
{
	for (int i = 1; i < n; i++)
		pt[i].started = pthread_create(&pt[i].thread, NULL,
		    scores_part_run, &pt[i]) == 0;
	scores_part_run(&pt[0]);
	for (int i = 1; i < n; i++) {
		if (pt[i].started)
			pthread_join(pt[i].thread, NULL);
		else
			scores_part_run(&pt[i]);
	}
}

/*
 * Read path in at most nparts parts of part_min bytes or more (nparts 0:
 * one per CPU); see cmd_scores_load_shard.
 */
static int
scores_load(const char *path, const struct offers *offers, int slot_lo,
    int slot_hi, int nparts, off_t part_min, struct cmd_scores *out,
    char **cause)
{
	struct scores_part	*pt = NULL;
	atomic_llong		 done = 0;
	atomic_int		 failed = SCORES_PARTS_MAX;
	int			 fd, n, rc = -1;
	off_t			 total;

	memset(out, 0, sizeof *out);
	if ((fd = open(path, O_RDONLY)) < 0) {
		*cause = str_printf("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	total = lseek(fd, 0, SEEK_END);
	if (nparts <= 0)
		nparts = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nparts > SCORES_PARTS_MAX)
		nparts = SCORES_PARTS_MAX;
	if (nparts > total / part_min)
		nparts = (int)(total / part_min);
	if (nparts < 1)
		nparts = 1;
	if ((pt = calloc((size_t)nparts, sizeof *pt)) == NULL)
		goto oom;
	for (int i = 0; i < nparts; i++) {
		if (scores_part_init(&pt[i], i, path, offers, slot_lo, slot_hi, fd,
		    total, out) != 0)
			goto oom;
		pt[i].r.done = &done;
		pt[i].r.failed = &failed;
	}
	n = nparts > 1 && scores_header_first(&pt[0]) == 0 ?
	    scores_cut_parts(pt, nparts, total) : 1;
	if (n == 1) {
		/* Whole: from the start, header included, as it comes. */
		free(pt[0].r.cause);
		pt[0].r.cause = NULL;
		pt[0].r.cause_line = 0;
		pt[0].r.line = 0;
		pt[0].r.from = 0;
		pt[0].r.to = total;
		pt[0].header = 0;
	}
	scores_read_parts(pt, n);
	rc = scores_finish(pt, n, cause);
	goto done;
oom:
	*cause = strdup("out of memory");
done:
	for (int i = 0; pt != NULL && i < nparts; i++) {
		scores_reader_free(&pt[i].r);
		if (i > 0)
			cmd_scores_free(&pt[i].own);
	}
	free(pt);
	close(fd);
	if (rc != 0)
		cmd_scores_free(out);
	return rc;
}

/* Read the customers of slots [slot_lo, slot_hi) only; see cmd.h. */
int
cmd_scores_load_shard(const char *path, const struct offers *offers,
    int slot_lo, int slot_hi, int threads, struct cmd_scores *out,
    char **cause)
{
	return scores_load(path, offers, slot_lo, slot_hi, threads,
	    SCORES_PART_MIN, out, cause);
}
