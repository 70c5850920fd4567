/*
 * Customer time zones. A zone's UTC offsets are read from the system
 * zoneinfo ($TZDIR, else /usr/share/zoneinfo; the TZif files decoded here,
 * never through TZ and tzset) into a compact table of transitions over a
 * span of years. pacerd stores the table's text with the profile so that
 * its Redis script can find a customer's local time in the same atomic step
 * as the caps.
 */
#ifndef PACER_TZ_H
#define PACER_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_NAME_MAX 64
#define TZ_MAX_TRANSITIONS 48

/* offset[i] (seconds east of UTC) holds from at[i]; at[0] is the span start. */
struct tz_table {
	int	 n;
	int64_t	 at[TZ_MAX_TRANSITIONS];
	int32_t	 offset[TZ_MAX_TRANSITIONS];
};

/* tz.c */
/* Whether name looks like an IANA zone ("Europe/Paris", "UTC"). */
int		 tz_valid_name(const char *name);
/*
 * Build the table of zone over [from, to] (unix seconds). Returns 0, or -1
 * when the zone is not in the system zoneinfo. Thread-safe; the process's
 * TZ is never touched. A zone's file is read on its first use only and the
 * zone kept (an unknown name is remembered too), so later calls, any span,
 * do no file I/O.
 */
int		 tz_table(const char *zone, int64_t from, int64_t to,
		    struct tz_table *out);
/*
 * The table a customer profile stores (field tzt): from 400 days before now
 * to 1100 days after, both ends on a UTC day boundary so that storing the
 * same zone again the same day writes the same text. 0 or -1 as tz_table.
 */
int		 tz_profile_table(const char *zone, int64_t now,
		    struct tz_table *out);
/* The UTC offset at t (before the span: its first, after: its last). */
int32_t		 tz_offset(const struct tz_table *, int64_t t);
/* Encode as "OFF0@AT0;OFF1@AT1;..." (what the Redis script reads). */
size_t		 tz_encode(const struct tz_table *, char *buf, size_t len);
/* Decode tz_encode's text; 0 or -1. */
int		 tz_decode(const char *text, struct tz_table *out);

#endif /* PACER_TZ_H */
