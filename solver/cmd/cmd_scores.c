/*
 * scores.csv (customer,offer,propensity) read fast into compressed rows:
 * millions of lines a second, propensities as float32, customers numbered
 * in order of first appearance. The file is read in large blocks and split
 * in place; a line holding a quote goes through the full CSV rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pacer/csv.h"
#include "pacer/keys.h"
#include "pacer/offers.h"
#include "pacer/slot.h"

#include "cmd.h"
#include "pacer/str.h"

#define SCORES_BLOCK	(8 << 20)	/* bytes read at a time */
#define SCORES_LINE_MAX	(64 << 10)	/* longest accepted line */

void
cmd_scores_free(struct cmd_scores *s)
{
	if (s == NULL)
		return;
	intern_free(&s->ids);
	free(s->start);
	free(s->offer);
	free(s->prop);
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
	int			 sorted;	/* rows grouped by customer so far */
	uint32_t		*offer_seen;	/* last customer per offer + 1 */
	size_t			*offer_len;	/* name lengths */
	int			 last_offer;
	int			 slot_lo, slot_hi; /* customers kept: slot in
						      [lo, hi) (pacer optimize
						      over several processes) */
	char			*cause;
};

/* Set the reader's error "file:line: field F: message". */
static void
scores_fail(struct scores_reader *r, const char *field, const char *msg,
    const char *value, size_t n)
{
	if (r->cause != NULL)
		return;
	if (n > 80)
		n = 80;
	if (field != NULL && value != NULL)
		r->cause = str_printf("%s:%ld: field %s: %s \"%.*s\"", r->path,
		    r->line, field, msg, (int)n, value);
	else if (field != NULL)
		r->cause = str_printf("%s:%ld: field %s: %s", r->path, r->line,
		    field, msg);
	else
		r->cause = str_printf("%s:%ld: %s", r->path, r->line, msg);
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
			r->cause = str_printf("%s:1: missing column \"%s\"", r->path,
			    want[k]);
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
	if (last != NULL && strncmp(last, id, idn) == 0 && last[idn] == '\0')
		c = r->last_customer;
	else if ((c = intern_add(&s->ids, id, idn, &added)) < 0) {
		scores_fail(r, NULL, "out of memory", NULL, 0);
		return -1;
	} else if (!added) {
		r->sorted = 0;
	} else {
		/* New: a bad id fails the whole read (it stays interned). */
		if (idn == 0 || idn > KEYS_CUSTOMER_MAX) {
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

/* Room for one more pair; 0, or -1 with r->cause set. */
static int
scores_grow(struct scores_reader *r)
{
	struct cmd_scores	*s = r->out;
	int64_t			 ncap = r->cap ? r->cap * 2 : 1 << 16;
	void			*a, *b, *d;

	if ((a = realloc(r->cust, (size_t)ncap * sizeof *r->cust)) != NULL)
		r->cust = a;
	if ((b = realloc(s->offer, (size_t)ncap * sizeof *s->offer)) != NULL)
		s->offer = b;
	if ((d = realloc(s->prop, (size_t)ncap * sizeof *s->prop)) != NULL)
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

		if (slot < r->slot_lo || slot >= r->slot_hi)
			return 0;
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
	if (s->npairs == r->cap && scores_grow(r) != 0)
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

int
cmd_scores_load(const char *path, const struct offers *offers,
    struct cmd_scores *out, char **cause)
{
	return cmd_scores_load_shard(path, offers, 0, SLOT_COUNT, out, cause);
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

/*
 * Read fd (total bytes, for progress) block by block through buf
 * (SCORES_BLOCK + SCORES_LINE_MAX bytes), parsing as it goes; *header
 * says whether a header line was found. 0, or -1 with r->cause set.
 */
static int
scores_read(struct scores_reader *r, int fd, char *buf, off_t total,
    int *header)
{
	struct cmd_progress	 prog = { 0, 0 };
	char			*p, *end;
	size_t			 have = 0;
	int			 eof = 0;
	off_t			 done = 0;

	while (!eof || have > 0) {
		if (!eof) {
			ssize_t	 n = read(fd, buf + have, SCORES_BLOCK +
			    SCORES_LINE_MAX - have);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				r->cause = str_printf("%s: read failed: %s", r->path,
				    strerror(errno));
				return -1;
			}
			if (n == 0)
				eof = 1;
			have += (size_t)n;
			done += n;
		}
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
		if (cmd_progress_due(&prog))
			cmd_progress_line(&prog, "optimize", "scores: bytes read",
			    (uint64_t)done, (uint64_t)(total > 0 ? total : 0));
	}
	return 0;
}

/* Read the customers of slots [slot_lo, slot_hi) only; see cmd.h. */
int
cmd_scores_load_shard(const char *path, const struct offers *offers,
    int slot_lo, int slot_hi, struct cmd_scores *out, char **cause)
{
	struct scores_reader	 r;
	char			*buf = NULL;
	int			 fd = -1, header = 0;
	off_t			 total;

	memset(out, 0, sizeof *out);
	memset(&r, 0, sizeof r);
	r.path = path;
	r.offers = offers;
	r.out = out;
	r.last_customer = -1;
	r.sorted = 1;
	r.slot_lo = slot_lo;
	r.slot_hi = slot_hi;
	if ((fd = open(path, O_RDONLY)) < 0) {
		*cause = str_printf("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	total = lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	if ((buf = malloc(SCORES_BLOCK + SCORES_LINE_MAX)) == NULL ||
	    scores_offer_tables(&r) != 0) {
		scores_fail(&r, NULL, "out of memory", NULL, 0);
		goto fail;
	}
	if (scores_read(&r, fd, buf, total, &header) != 0)
		goto fail;
	if (!header) {
		r.line = 1;
		scores_fail(&r, NULL, "empty file: a header line is needed", NULL, 0);
		goto fail;
	}
	if (scores_rows(&r) != 0)
		goto fail;
	out->lines = r.line;
	close(fd);
	free(buf);
	scores_reader_free(&r);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	scores_reader_free(&r);
	cmd_scores_free(out);
	*cause = r.cause != NULL ? r.cause : strdup("out of memory");
	return -1;
}
