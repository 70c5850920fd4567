/*
 * Time-zone tables from the system zoneinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pacer/tz.h"

#define TZ_CACHE 64
#define TZ_STEP	 (6 * 3600)	/* no zone changes offset twice in 6 hours */
#define TZ_OFFSET_MAX (24 * 3600)	/* real offsets stay within +-15 h */

/* A few recent tables, keyed by zone and span (most lookups repeat). */
static struct tz_cache_entry {
	char		 zone[TZ_NAME_MAX];
	int64_t		 from, to;
	struct tz_table	 table;
} tz_cache[TZ_CACHE];
static unsigned tz_cache_next;

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

/*
 * Whether path is a compiled zone file. The C library silently falls back to
 * UTC for anything else (a directory such as "Europe", "leapseconds"), which
 * would pass an unknown zone off as UTC.
 */
static int
tz_is_zone_file(const char *path)
{
	char	 magic[4];
	int	 fd, ok;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK)) < 0)
		return 0;
	ok = read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
	    !memcmp(magic, "TZif", 4);
	close(fd);
	return ok;
}

/* Offset east of UTC at t in the zone currently set in TZ. */
static int32_t
tz_gmtoff(int64_t t)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return (int32_t)tm.tm_gmtoff;
}

/* Fill out by scanning [from, to] in steps and bisecting every change. */
static void
tz_scan(int64_t from, int64_t to, struct tz_table *out)
{
	int32_t	 cur = tz_gmtoff(from);

	out->n = 1;
	out->at[0] = from;
	out->offset[0] = cur;
	for (int64_t t = from; t < to && out->n < TZ_MAX_TRANSITIONS; t += TZ_STEP) {
		int64_t	 lo = t, hi = t + TZ_STEP;
		int32_t	 next = tz_gmtoff(hi);

		if (next == cur)
			continue;
		/* The change lies in (lo, hi]: find its first second. */
		while (hi - lo > 1) {
			int64_t	 mid = lo + (hi - lo) / 2;

			if (tz_gmtoff(mid) == cur)
				lo = mid;
			else
				hi = mid;
		}
		out->at[out->n] = hi;
		out->offset[out->n] = next;
		out->n++;
		cur = next;
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
	char		 path[256], *saved = NULL;
	const char	*old;

	if (!tz_valid_name(zone))
		return -1;
	for (int i = 0; i < TZ_CACHE; i++) {
		if (!strcmp(tz_cache[i].zone, zone) && tz_cache[i].from == from &&
		    tz_cache[i].to == to) {
			*out = tz_cache[i].table;
			return 0;
		}
	}
	if (strcmp(zone, "UTC") != 0) {
		snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
		if (!tz_is_zone_file(path))
			return -1;
	}
	if ((old = getenv("TZ")) != NULL && (saved = strdup(old)) == NULL)
		return -1;
	setenv("TZ", zone, 1);
	tzset();
	tz_scan(from, to, out);
	if (saved != NULL) {
		setenv("TZ", saved, 1);
		free(saved);
	} else
		unsetenv("TZ");
	tzset();

	struct tz_cache_entry *e = &tz_cache[tz_cache_next++ % TZ_CACHE];
	snprintf(e->zone, sizeof e->zone, "%s", zone);
	e->from = from;
	e->to = to;
	e->table = *out;
	return 0;
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
