/*
 * Logging: one machine-readable line per event on stderr,
 * "ts=... level=warn msg="..." key=value ...".
 *
 * Callers write their key=value pairs as a printf format; every string a
 * conversion brings in is escaped here (\" \\ \n \r \t, other control bytes
 * as \u00XX), and one that is not already between quotes in the format is
 * quoted when it holds a space, '=', a quote or a control byte. So a value
 * from outside (a Redis error, a child's output, a path) never splits the
 * line or forges a key: each event stays one valid logfmt line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "pacerd.h"

#define LOG_VALUE_MAX	2048	/* bytes of one value kept; longer ends in "..." */
#define LOG_SPEC_MAX	48	/* one printf conversion, e.g. "%-08.3jd" */

enum log_level log_threshold = LOG_INFO;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

/* A line being built; oom is set once an allocation failed. */
struct log_line {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

/* Append n bytes. */
static void
log_put(struct log_line *l, const char *s, size_t n)
{
	if (l->oom)
		return;
	if (l->len + n + 1 > l->cap) {
		size_t	 ncap = l->cap ? l->cap : 256;
		char	*np;

		while (l->len + n + 1 > ncap)
			ncap *= 2;
		if ((np = realloc(l->p, ncap)) == NULL) {
			l->oom = 1;
			return;
		}
		l->p = np;
		l->cap = ncap;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

/* Whether a value must be quoted to stay one logfmt value. */
static int
log_needs_quotes(const char *s, size_t n)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			return 1;
	}
	return 0;
}

/* Append s[0..n) escaped for the inside of a quoted logfmt value. */
static void
log_put_escaped(struct log_line *l, const char *s, size_t n)
{
	char	 esc[8];

	for (size_t i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];
		size_t		 run = i;

		/* Copy plain bytes in runs, not one by one. */
		while (run < n && (unsigned char)s[run] >= ' ' &&
		    s[run] != '"' && s[run] != '\\' && s[run] != 0x7f)
			run++;
		if (run > i) {
			log_put(l, s + i, run - i);
			i = run - 1;
			continue;
		}
		switch (c) {
		case '"': log_put(l, "\\\"", 2); break;
		case '\\': log_put(l, "\\\\", 2); break;
		case '\n': log_put(l, "\\n", 2); break;
		case '\r': log_put(l, "\\r", 2); break;
		case '\t': log_put(l, "\\t", 2); break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", c);
			log_put(l, esc, 6);
			break;
		}
	}
}

/*
 * Append one string value: escaped only when the format already quotes it
 * (quoted), else quoted and escaped when it needs to be, else as it is.
 */
static void
log_put_value(struct log_line *l, const char *s, size_t n, int quoted)
{
	int	 cut = n > LOG_VALUE_MAX;

	if (cut)
		n = LOG_VALUE_MAX;
	if (!quoted && !cut && !log_needs_quotes(s, n)) {
		log_put(l, s, n);
		return;
	}
	if (!quoted)
		log_put(l, "\"", 1);
	log_put_escaped(l, s, n);
	if (cut)
		log_put(l, "...", 3);
	if (!quoted)
		log_put(l, "\"", 1);
}

/*
 * The next integer argument of a conversion with these length modifiers
 * (longs: count of 'l'; size: 'H' for hh, 'h', 'j', 'z', 't' or 0), widened.
 */
static uintmax_t
log_arg_int(va_list *ap, int longs, char size, int is_signed)
{
	switch (size) {
	case 'j': return is_signed ? (uintmax_t)va_arg(*ap, intmax_t) :
	    va_arg(*ap, uintmax_t);
	case 'z': return is_signed ? (uintmax_t)va_arg(*ap, ssize_t) :
	    va_arg(*ap, size_t);
	case 't': return (uintmax_t)va_arg(*ap, ptrdiff_t);
	case 'H': return is_signed ? (uintmax_t)(signed char)va_arg(*ap, int) :
	    (unsigned char)va_arg(*ap, unsigned);
	case 'h': return is_signed ? (uintmax_t)(short)va_arg(*ap, int) :
	    (unsigned short)va_arg(*ap, unsigned);
	}
	if (longs >= 2)
		return is_signed ? (uintmax_t)va_arg(*ap, long long) :
		    va_arg(*ap, unsigned long long);
	if (longs == 1)
		return is_signed ? (uintmax_t)va_arg(*ap, long) :
		    va_arg(*ap, unsigned long);
	return is_signed ? (uintmax_t)va_arg(*ap, int) : va_arg(*ap, unsigned);
}

/* One conversion of a format, as log_spec_read finds it. */
struct log_spec {
	char	 text[LOG_SPEC_MAX];	/* "%", flags, width, precision */
	size_t	 n;			/* bytes of text */
	int	 prec;			/* -1: none */
	int	 longs;			/* count of 'l' */
	char	 size;			/* 'H' (hh), 'h', 'j', 'z', 't', 'L', 0 */
	char	 conv;			/* '\0': the format ends inside it */
};

/*
 * Read the conversion after a '%' at *pp into sp, taking the arguments of
 * '*' widths and precisions from ap; *pp moves past it.
 */
static void
log_spec_read(const char **pp, va_list *ap, struct log_spec *sp)
{
	const char	*p = *pp;
	int		 n;

	memset(sp, 0, sizeof *sp);
	sp->prec = -1;
	sp->text[sp->n++] = '%';
	while (*p != '\0' && strchr("-+ #0'", *p) != NULL && sp->n < 8)
		sp->text[sp->n++] = *p++;
	if (*p == '*') {
		n = snprintf(sp->text + sp->n, 12, "%d", va_arg(*ap, int));
		sp->n += n > 0 && n < 12 ? (size_t)n : 0;
		p++;
	} else
		while (*p >= '0' && *p <= '9' && sp->n < 16)
			sp->text[sp->n++] = *p++;
	if (*p == '.') {
		sp->text[sp->n++] = *p++;
		if (*p == '*') {
			sp->prec = va_arg(*ap, int);
			n = snprintf(sp->text + sp->n, 12, "%d", sp->prec);
			sp->n += n > 0 && n < 12 ? (size_t)n : 0;
			p++;
		} else {
			sp->prec = 0;
			while (*p >= '0' && *p <= '9' && sp->n < 30) {
				sp->prec = sp->prec * 10 + (*p - '0');
				sp->text[sp->n++] = *p++;
			}
		}
	}
	/* Length modifiers are read here, not copied: see log_spec_format. */
	for (; *p != '\0' && strchr("hljztL", *p) != NULL; p++) {
		if (*p == 'l')
			sp->longs++;
		else
			sp->size = *p == 'h' && sp->size == 'h' ? 'H' : *p;
	}
	sp->conv = *p;
	*pp = *p != '\0' ? p + 1 : p;
}

/*
 * A number or pointer conversion through snprintf into out, integers
 * widened to intmax_t (the spec snprintf gets says 'j'). Its length, or -1
 * for an unknown conversion (its argument cannot be skipped safely).
 */
static int
log_spec_format(struct log_spec *sp, va_list *ap, char *out, size_t len)
{
	if (strchr("diuoxX", sp->conv) != NULL)
		sp->text[sp->n++] = 'j';
	else if (sp->size == 'L')
		sp->text[sp->n++] = 'L';
	sp->text[sp->n++] = sp->conv;
	sp->text[sp->n] = '\0';
	switch (sp->conv) {
	case 'd': case 'i':
		return snprintf(out, len, sp->text,
		    (intmax_t)log_arg_int(ap, sp->longs, sp->size, 1));
	case 'u': case 'o': case 'x': case 'X':
		return snprintf(out, len, sp->text,
		    log_arg_int(ap, sp->longs, sp->size, 0));
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
	case 'a': case 'A':
		if (sp->size == 'L')
			return snprintf(out, len, sp->text, va_arg(*ap, long double));
		return snprintf(out, len, sp->text, va_arg(*ap, double));
	case 'p':
		return snprintf(out, len, sp->text, va_arg(*ap, void *));
	default:
		return -1;
	}
}

/*
 * Append fmt with its arguments, escaping every %s and %c value (a field
 * width is ignored for them); other conversions go through snprintf one at
 * a time (log_spec_format).
 */
static void
log_put_format(struct log_line *l, const char *fmt, va_list ap0)
{
	const char	*p = fmt;
	va_list		 ap;

	/* A va_list parameter may be an array: take a real object's address. */
	va_copy(ap, ap0);
	while (*p != '\0') {
		const char	*start, *lit = strchr(p, '%'), *s;
		struct log_spec	 sp;
		char		 out[512], c1[1];
		int		 quoted;

		if (lit == NULL)
			lit = p + strlen(p);
		log_put(l, p, (size_t)(lit - p));
		if (*(p = lit) == '\0')
			break;
		start = p++;
		log_spec_read(&p, &ap, &sp);
		if (sp.conv == '\0')
			break;			/* a cut-off conversion: drop it */
		/* In the format's own quotes: key="%s" */
		quoted = start > fmt && start[-1] == '"' && *p == '"';
		switch (sp.conv) {
		case '%':
			log_put(l, "%", 1);
			continue;
		case 's':
			if ((s = va_arg(ap, const char *)) == NULL)
				s = "(null)";
			log_put_value(l, s, sp.prec >= 0 ?
			    strnlen(s, (size_t)sp.prec) : strlen(s), quoted);
			continue;
		case 'c':
			c1[0] = (char)va_arg(ap, int);
			log_put_value(l, c1, 1, quoted);
			continue;
		case 'n':
			(void)va_arg(ap, void *);
			continue;
		}
		if (log_spec_format(&sp, &ap, out, sizeof out) < 0)
			break;
		log_put_value(l, out, strlen(out), quoted);
	}
	va_end(ap);
}

char *
log_format(int64_t now_ms, enum log_level level, const char *msg,
    const char *fmt, va_list ap)
{
	struct log_line	 l = { NULL, 0, 0, 0 };
	time_t		 sec = (time_t)(now_ms / 1000);
	struct tm	 tm;
	char		 when[48];

	gmtime_r(&sec, &tm);
	strftime(when, sizeof when, "ts=%Y-%m-%dT%H:%M:%S", &tm);
	log_put(&l, when, strlen(when));
	snprintf(when, sizeof when, ".%03dZ level=%s msg=\"", (int)(now_ms % 1000),
	    log_names[level]);
	log_put(&l, when, strlen(when));
	log_put_escaped(&l, msg, strlen(msg));
	log_put(&l, "\"", 1);
	if (fmt != NULL && *fmt != '\0') {
		log_put(&l, " ", 1);
		log_put_format(&l, fmt, ap);
	}
	if (l.oom) {
		free(l.p);
		return NULL;
	}
	return l.p;
}

/* Write one line: timestamp, level, message, then the caller's key=values. */
static void
log_vwrite(enum log_level level, const char *msg, const char *fmt, va_list ap)
{
	struct timespec	 ts;
	char		*line;

	clock_gettime(CLOCK_REALTIME, &ts);
	line = log_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, level,
	    msg, fmt, ap);
	flockfile(stderr);
	if (line != NULL)
		fprintf(stderr, "%s\n", line);
	else
		fprintf(stderr, "level=%s msg=\"log line lost: out of memory\"\n",
		    log_names[level]);
	funlockfile(stderr);
	free(line);
}

void
log_at(enum log_level level, const char *msg, const char *fmt, ...)
{
	va_list	 ap;

	if (level < log_threshold)
		return;
	va_start(ap, fmt);
	log_vwrite(level, msg, fmt, ap);
	va_end(ap);
}

void
log_audit(const char *msg, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, msg, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *msg, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, msg, fmt, ap);
	va_end(ap);
	exit(1);
}

/* libevent's log callback. */
static void
log_event_cb(int severity, const char *text)
{
	enum log_level	 level;

	switch (severity) {
	case EVENT_LOG_DEBUG: level = LOG_DEBUG; break;
	case EVENT_LOG_MSG: level = LOG_INFO; break;
	case EVENT_LOG_WARN: level = LOG_WARN; break;
	default: level = LOG_ERROR; break;
	}
	log_at(level, "libevent", "detail=\"%s\"", text);
}

void
log_libevent(void)
{
	event_set_log_callback(log_event_cb);
}
