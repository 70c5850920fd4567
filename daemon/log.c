/*
 * Logging: one machine-readable line per event on stderr,
 * "ts=... level=warn msg="..." key=value ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "pacerd.h"

enum log_level log_threshold = LOG_INFO;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

/* Write one line: timestamp, level, message, then the caller's key=values. */
static void
log_vwrite(enum log_level level, const char *msg, const char *fmt, va_list ap)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "ts=%s.%03ldZ level=%s msg=\"%s\"", when,
	    ts.tv_nsec / 1000000, log_names[level], msg);
	if (fmt != NULL && *fmt != '\0') {
		fputc(' ', stderr);
		vfprintf(stderr, fmt, ap);
	}
	fputc('\n', stderr);
	funlockfile(stderr);
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
