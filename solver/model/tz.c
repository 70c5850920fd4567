/*
 * Time-zone tables from the system zoneinfo. The compiled zone files (TZif,
 * RFC 8536) are decoded here, not through the C library: setting TZ and
 * calling tzset would change every other thread's local time for the
 * duration, and re-read the file each time. A zone is read once, when it is
 * first asked for, and kept for the life of the process, so a running
 * daemon reads no file for a zone it has seen (the files change only with a
 * tzdata upgrade; a restart picks that up).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pacer/tz.h"

#define TZ_OFFSET_MAX	(24 * 3600)	/* real offsets stay within +-15 h */
#define TZ_FILE_MAX	(1 << 20)	/* real zone files are a few kB */
#define TZ_COUNT_MAX	(1 << 16)	/* transitions, types, ... in a file */
#define TZ_ZONES_MAX	2048		/* zones kept (tzdata has about 600) */
#define TZ_UNKNOWN_MAX	256		/* unknown names remembered */
#define TZ_RULE_HOURS	167		/* RFC 8536: rule times in -167..167 h */

/* When a POSIX TZ rule's change happens: day of the year and local time. */
struct tz_rule_date {
	char	 kind;		/* 'J' (1-365, no Feb 29), 'N' (0-365), 'M' */
	int	 day;		/* J and N */
	int	 month, week, wday;	/* M: month 1-12, week 1-5, 0 = Sunday */
	int32_t	 time;		/* seconds after local midnight */
};

/* A zone file's footer, e.g. "CET-1CEST,M3.5.0,M10.5.0/3": later years. */
struct tz_rule {
	int32_t			 std_off;	/* seconds east of UTC */
	int32_t			 dst_off;
	int			 has_dst;
	struct tz_rule_date	 start, end;
};

/* A decoded zone: offset[i] holds from at[i]; first before at[0]. */
struct tz_zone {
	char		 name[TZ_NAME_MAX];
	int		 n;
	int64_t		*at;
	int32_t		*offset;
	int32_t		 first;
	int		 has_rule;	/* after at[n-1], the rule decides */
	struct tz_rule	 rule;
};

/*
 * The zones read so far, and names found unknown (so that a repeated bad
 * name costs no file access either). Shared by every thread: a mutex.
 */
static struct {
	pthread_mutex_t	 lock;
	struct tz_zone	*zone[TZ_ZONES_MAX];
	int		 nzones;
	char		 unknown[TZ_UNKNOWN_MAX][TZ_NAME_MAX];
	unsigned	 unknown_next;
} tz_cache = { PTHREAD_MUTEX_INITIALIZER, { NULL }, 0, { { 0 } }, 0 };

int
tz_valid_name(const char *name)
{
	size_t	 n = strlen(name);

	if (n == 0 || n >= TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/_+-", *p) != NULL))
			return 0;
	return 1;
}

/* Big-endian 32-bit signed value at p. */
static int32_t
tz_be32(const unsigned char *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* Big-endian 64-bit signed value at p. */
static int64_t
tz_be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)(uint32_t)tz_be32(p) << 32 |
	    (uint64_t)(uint32_t)tz_be32(p + 4));
}

/* Whether y is a leap year of the proleptic Gregorian calendar. */
static int
tz_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (m 1-12), any year (H. Hinnant's method). */
static int64_t
tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The year (proleptic Gregorian, UTC) holding unix time t. */
static int64_t
tz_year_of(int64_t t)
{
	int64_t	 days = t / 86400 - (t % 86400 < 0);
	int64_t	 z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

/*
 * Parse "[+-]hh[:mm[:ss]]" at *pp, hours up to max_hours; seconds in *out.
 * 0 or -1.
 */
static int
tz_parse_hms(const char **pp, int max_hours, int32_t *out)
{
	const char	*p = *pp;
	int		 sign = 1, part[3] = { 0, 0, 0 };

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		int	 digits = 0;

		if (i > 0) {
			if (*p != ':')
				break;
			p++;
		}
		while (*p >= '0' && *p <= '9' && digits < 3) {
			part[i] = part[i] * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (i > 0 && (digits != 2 || part[i] > 59)))
			return -1;
	}
	if (part[0] > max_hours)
		return -1;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	*pp = p;
	return 0;
}

/* Skip a zone abbreviation ("CET" or "<-03>") at *pp; 0 or -1. */
static int
tz_parse_abbr(const char **pp)
{
	const char	*p = *pp, *start;

	if (*p == '<') {
		for (start = ++p; *p != '>'; p++)
			if (*p == '\0' || *p == ',')
				return -1;
		if (p - start < 3)
			return -1;
		*pp = p + 1;
		return 0;
	}
	for (start = p; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++)
		;
	if (p - start < 3)
		return -1;
	*pp = p;
	return 0;
}

/* Parse a rule date "Jn", "n" or "Mm.w.d" with its "/time"; 0 or -1. */
static int
tz_parse_date(const char **pp, struct tz_rule_date *d)
{
	const char	*p = *pp;
	char		*end;
	long		 v[3];

	memset(d, 0, sizeof *d);
	d->kind = *p == 'J' || *p == 'M' ? *p++ : 'N';
	for (int i = 0; i < (d->kind == 'M' ? 3 : 1); i++) {
		if (i > 0 && *p++ != '.')
			return -1;
		if (*p < '0' || *p > '9')
			return -1;
		v[i] = strtol(p, &end, 10);
		p = end;
	}
	if (d->kind == 'M') {
		if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
			return -1;
		d->month = (int)v[0];
		d->week = (int)v[1];
		d->wday = (int)v[2];
	} else {
		if (v[0] < (d->kind == 'J') || v[0] > 365)
			return -1;
		d->day = (int)v[0];
	}
	d->time = 2 * 3600;
	if (*p == '/') {
		p++;
		if (tz_parse_hms(&p, TZ_RULE_HOURS, &d->time) != 0)
			return -1;
	}
	*pp = p;
	return 0;
}

/*
 * Parse a POSIX TZ string (a TZif footer): "STDoffset[DST[offset][,start
 * [/time],end[/time]]]". Offsets there count west; ours east. 0 or -1.
 */
static int
tz_parse_rule(const char *s, struct tz_rule *r)
{
	const char	*p = s;
	int32_t		 off;

	memset(r, 0, sizeof *r);
	if (tz_parse_abbr(&p) != 0 || tz_parse_hms(&p, 24, &off) != 0)
		return -1;
	r->std_off = -off;
	if (*p == '\0')
		return 0;
	if (tz_parse_abbr(&p) != 0)
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (tz_parse_hms(&p, 24, &off) != 0)
			return -1;
		r->dst_off = -off;
	}
	if (*p == '\0') {
		/* No rule: POSIX leaves it to the implementation; glibc's. */
		p = ",M3.2.0,M11.1.0";
	}
	if (*p++ != ',' || tz_parse_date(&p, &r->start) != 0 || *p++ != ',' ||
	    tz_parse_date(&p, &r->end) != 0 || *p != '\0')
		return -1;
	return 0;
}

/* Unix time of a rule date's change in year y, its time read at offset off. */
static int64_t
tz_rule_when(const struct tz_rule_date *d, int64_t y, int32_t off)
{
	int64_t	 day;

	if (d->kind == 'J')
		day = tz_days_from_civil(y, 1, 1) + d->day - 1 +
		    (tz_leap(y) && d->day >= 60);
	else if (d->kind == 'N')
		day = tz_days_from_civil(y, 1, 1) + d->day;
	else {
		static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		    30, 31 };
		int64_t	 first = tz_days_from_civil(y, d->month, 1);
		int	 len = mdays[d->month - 1] + (d->month == 2 && tz_leap(y));
		/* 1970-01-01 was a Thursday (4). */
		int	 wday1 = (int)(((first % 7) + 11) % 7);
		int	 mday = 1 + (d->wday - wday1 + 7) % 7 + 7 * (d->week - 1);

		while (mday > len)
			mday -= 7;
		day = first + mday - 1;
	}
	return day * 86400 + d->time - off;
}

/*
 * The rule's changes in years y-1..y+1 in time order (at most 6): when[i]
 * and the offset from then, off[i]. The number of changes.
 */
static int
tz_rule_changes(const struct tz_rule *r, int64_t y, int64_t when[6],
    int32_t off[6])
{
	int	 n = 0;

	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		int64_t	 s = tz_rule_when(&r->start, yy, r->std_off);
		int64_t	 e = tz_rule_when(&r->end, yy, r->dst_off);

		when[n] = s < e ? s : e;
		off[n++] = s < e ? r->dst_off : r->std_off;
		when[n] = s < e ? e : s;
		off[n++] = s < e ? r->std_off : r->dst_off;
		/*
		 * Daylight time all year ("EST5EDT,0/0,J365/25"): this year's
		 * start falls on last year's end; DST goes on.
		 */
		if (n > 2 && when[n - 3] >= when[n - 2]) {
			when[n - 3] = when[n - 2];
			off[n - 3] = off[n - 2];
			when[n - 2] = when[n - 1];
			off[n - 2] = off[n - 1];
			n--;
		}
	}
	return n;
}

/* The offset a rule gives at t. */
static int32_t
tz_rule_offset(const struct tz_rule *r, int64_t t)
{
	int64_t	 when[6];
	int32_t	 off[6], cur;
	int	 n;

	if (!r->has_dst)
		return r->std_off;
	n = tz_rule_changes(r, tz_year_of(t), when, off);
	/* Before the first change of the year before: that year's winter. */
	cur = off[n - 1];
	for (int i = 0; i < n && when[i] <= t; i++)
		cur = off[i];
	return cur;
}

/* Whether off is a UTC offset a zone can have. */
static int
tz_sane_offset(int32_t off)
{
	return off >= -TZ_OFFSET_MAX && off <= TZ_OFFSET_MAX;
}

/*
 * Decode a TZif file (RFC 8536, versions 1 to 4) into z; 0 or -1. Version 2
 * and later: the 64-bit block and the footer rule; version 1: 32-bit times
 * only. Zones that count leap seconds ("right/...") are refused: their
 * times are not the unix times Redis keeps.
 */
static int
tz_parse(const unsigned char *buf, size_t len, struct tz_zone *z)
{
	const unsigned char	*p = buf, *end = buf + len, *idx, *types;
	uint32_t		 c[6];
	size_t			 tsize = 4, block;
	int			 version;

	for (int pass = 0; pass < 2; pass++) {
		if (end - p < 44 || memcmp(p, "TZif", 4) != 0)
			return -1;
		version = p[4];
		for (int i = 0; i < 6; i++) {
			c[i] = (uint32_t)tz_be32(p + 20 + 4 * i);
			if (c[i] > TZ_COUNT_MAX)
				return -1;
		}
		/* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
		block = c[3] * tsize + c[3] + c[4] * 6 + c[5] + c[2] * (tsize + 4) +
		    c[1] + c[0];
		if ((size_t)(end - p - 44) < block)
			return -1;
		if (pass == 1 || version < '2')
			break;
		p += 44 + block;
		tsize = 8;
	}
	if (c[2] != 0 || c[4] == 0 || c[3] > TZ_COUNT_MAX / 2)
		return -1;
	p += 44;
	idx = p + c[3] * tsize;
	types = idx + c[3];
	z->first = tz_be32(types);
	if (!tz_sane_offset(z->first))
		return -1;
	if (c[3] > 0 && ((z->at = calloc(c[3], sizeof *z->at)) == NULL ||
	    (z->offset = calloc(c[3], sizeof *z->offset)) == NULL))
		return -1;
	for (uint32_t i = 0; i < c[3]; i++) {
		int64_t	 at = tsize == 8 ? tz_be64(p + 8 * i) : tz_be32(p + 4 * i);

		if (idx[i] >= c[4] || (z->n > 0 && at <= z->at[z->n - 1]))
			return -1;
		z->at[z->n] = at;
		z->offset[z->n] = tz_be32(types + 6 * idx[i]);
		if (!tz_sane_offset(z->offset[z->n]))
			return -1;
		z->n++;
	}
	/* The footer: "\nRULE\n" after the 64-bit block; empty means none. */
	p += block;
	if (tsize == 8 && p < end && *p == '\n') {
		const unsigned char	*nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		char			 rule[128];

		if (nl == NULL || (size_t)(nl - p - 1) >= sizeof rule)
			return -1;
		memcpy(rule, p + 1, (size_t)(nl - p - 1));
		rule[nl - p - 1] = '\0';
		if (rule[0] != '\0') {
			if (tz_parse_rule(rule, &z->rule) != 0 ||
			    !tz_sane_offset(z->rule.std_off) ||
			    !tz_sane_offset(z->rule.dst_off))
				return -1;
			z->has_rule = 1;
		}
	}
	return 0;
}

/* Free a zone; accepts NULL. */
static void
tz_zone_free(struct tz_zone *z)
{
	if (z == NULL)
		return;
	free(z->at);
	free(z->offset);
	free(z);
}

/*
 * Read and decode the zone file of name under $TZDIR or the system's
 * zoneinfo; the zone (caller frees) or NULL. Anything but a regular TZif
 * file is no zone: the C library would have taken a directory such as
 * "Europe", or "leapseconds", as UTC.
 */
static struct tz_zone *
tz_zone_read(const char *name)
{
	const char	*dir = getenv("TZDIR");
	char		 path[512];
	unsigned char	*buf = NULL;
	struct tz_zone	*z = NULL;
	struct stat	 sb;
	ssize_t		 got;
	size_t		 len = 0;
	int		 fd;

	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (strcmp(name, "UTC") != 0 || (z = calloc(1, sizeof *z)) == NULL)
			return NULL;
		/* A system without zoneinfo still knows UTC. */
		snprintf(z->name, sizeof z->name, "%s", name);
		return z;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 44 ||
	    sb.st_size > TZ_FILE_MAX || (buf = malloc((size_t)sb.st_size)) == NULL)
		goto fail;
	while (len < (size_t)sb.st_size && (got = read(fd, buf + len,
	    (size_t)sb.st_size - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		len += (size_t)got;
	}
	if ((z = calloc(1, sizeof *z)) == NULL || tz_parse(buf, len, z) != 0)
		goto fail;
	snprintf(z->name, sizeof z->name, "%s", name);
	free(buf);
	close(fd);
	return z;
fail:
	tz_zone_free(z);
	free(buf);
	close(fd);
	return NULL;
}

/*
 * The zone called name, read on first use and kept (borrowed: zones live as
 * long as the process); NULL when it is unknown. Call with the lock held.
 */
static const struct tz_zone *
tz_zone_get(const char *name)
{
	struct tz_zone	*z;

	for (int i = 0; i < tz_cache.nzones; i++)
		if (!strcmp(tz_cache.zone[i]->name, name))
			return tz_cache.zone[i];
	for (int i = 0; i < TZ_UNKNOWN_MAX; i++)
		if (!strcmp(tz_cache.unknown[i], name))
			return NULL;
	if ((z = tz_zone_read(name)) == NULL) {
		/* Remembered, unless it was memory that failed. */
		if (errno != ENOMEM)
			snprintf(tz_cache.unknown[tz_cache.unknown_next++ %
			    TZ_UNKNOWN_MAX], TZ_NAME_MAX, "%s", name);
		return NULL;
	}
	if (tz_cache.nzones == TZ_ZONES_MAX) {
		/* Only made-up names get here: keep the newest in the last slot. */
		tz_zone_free(tz_cache.zone[TZ_ZONES_MAX - 1]);
		tz_cache.nzones--;
	}
	tz_cache.zone[tz_cache.nzones++] = z;
	return z;
}

/* The offset of zone z at t. */
static int32_t
tz_zone_offset(const struct tz_zone *z, int64_t t)
{
	int	 lo = 0, hi;

	if (z->has_rule && (z->n == 0 || t >= z->at[z->n - 1]))
		return tz_rule_offset(&z->rule, t);
	if (z->n == 0 || t < z->at[0])
		return z->first;
	/* The last transition at or before t. */
	hi = z->n - 1;
	while (lo < hi) {
		int	 mid = lo + (hi - lo + 1) / 2;

		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return z->offset[lo];
}

/* Append a change to out when it changes the offset and there is room. */
static void
tz_table_add(struct tz_table *out, int64_t at, int32_t offset)
{
	if (offset != out->offset[out->n - 1] && out->n < TZ_MAX_TRANSITIONS) {
		out->at[out->n] = at;
		out->offset[out->n] = offset;
		out->n++;
	}
}

/* Fill out with z's offset at from and every change in (from, to]. */
static void
tz_zone_table(const struct tz_zone *z, int64_t from, int64_t to,
    struct tz_table *out)
{
	int64_t	 last = z->n > 0 ? z->at[z->n - 1] : INT64_MIN;

	memset(out, 0, sizeof *out);	/* the same zone and span, the same bytes */
	out->n = 1;
	out->at[0] = from;
	out->offset[0] = tz_zone_offset(z, from);
	for (int i = 0; i < z->n && z->at[i] <= to; i++)
		if (z->at[i] > from)
			tz_table_add(out, z->at[i], z->offset[i]);
	if (!z->has_rule || !z->rule.has_dst || to <= last)
		return;
	/* Past the file's last transition, the rule's changes year by year. */
	for (int64_t y = tz_year_of(from > last ? from : last); y <=
	    tz_year_of(to); y += 3) {
		int64_t	 when[6];
		int32_t	 off[6];
		int	 n = tz_rule_changes(&z->rule, y + 1, when, off);

		for (int i = 0; i < n; i++)
			if (when[i] > from && when[i] > last && when[i] <= to)
				tz_table_add(out, when[i], off[i]);
	}
}

int
tz_profile_table(const char *zone, int64_t now, struct tz_table *out)
{
	int64_t	 day = now - ((now % 86400) + 86400) % 86400;

	return tz_table(zone, day - 400 * 86400LL, day + 1100 * 86400LL, out);
}

int
tz_table(const char *zone, int64_t from, int64_t to, struct tz_table *out)
{
	const struct tz_zone	*z;
	int			 rc = -1;

	if (!tz_valid_name(zone))
		return -1;
	pthread_mutex_lock(&tz_cache.lock);
	if ((z = tz_zone_get(zone)) != NULL) {
		tz_zone_table(z, from, to, out);
		rc = 0;
	}
	pthread_mutex_unlock(&tz_cache.lock);
	return rc;
}

int32_t
tz_offset(const struct tz_table *t, int64_t when)
{
	int	 i;

	if (t->n == 0)
		return 0;
	for (i = t->n - 1; i > 0; i--)
		if (when >= t->at[i])
			break;
	return t->offset[i];
}

/*
 * A table that does not fit is written as "" (length 0): a cut-off table
 * would decode into wrong offsets.
 */
size_t
tz_encode(const struct tz_table *t, char *buf, size_t len)
{
	size_t	 off = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (int i = 0; i < t->n; i++) {
		int n = snprintf(buf + off, len - off, "%s%d@%lld", i ? ";" : "",
		    (int)t->offset[i], (long long)t->at[i]);
		if (n < 0 || (size_t)n >= len - off) {
			buf[0] = '\0';
			return 0;
		}
		off += (size_t)n;
	}
	return off;
}

/* Whether c may start a number in the encoding (no spaces, no '+'). */
static int
tz_number_start(char c)
{
	return (c >= '0' && c <= '9') || c == '-';
}

int
tz_decode(const char *text, struct tz_table *out)
{
	const char	*p = text;

	out->n = 0;
	while (*p != '\0') {
		char		*end;
		long		 off;
		long long	 at;

		if (out->n >= TZ_MAX_TRANSITIONS || !tz_number_start(*p))
			return -1;
		errno = 0;
		off = strtol(p, &end, 10);
		if (end == p || *end != '@' || errno != 0 || off < -TZ_OFFSET_MAX ||
		    off > TZ_OFFSET_MAX)
			return -1;
		p = end + 1;
		if (!tz_number_start(*p))
			return -1;
		at = strtoll(p, &end, 10);
		if (end == p || (*end != ';' && *end != '\0') || errno != 0)
			return -1;
		/* tz_offset needs ascending instants. */
		if (out->n > 0 && at <= out->at[out->n - 1])
			return -1;
		out->offset[out->n] = (int32_t)off;
		out->at[out->n] = at;
		out->n++;
		if (*end == ';' && end[1] == '\0')
			return -1;
		p = *end == ';' ? end + 1 : end;
	}
	return out->n > 0 ? 0 : -1;
}
