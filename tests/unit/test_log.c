/*
 * Unit tests for daemon/log.c: log_format writes one valid logfmt line
 * whatever a value holds (quotes, spaces, backslashes, newlines, '=',
 * control bytes), and a logfmt reader gets every value back as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacerd.h"

#define T0_MS	((int64_t)1767225600123)	/* 2026-01-01T00:00:00.123Z */
#define MAX_PAIRS 16

/* One key=value of a decoded line. */
struct pair {
	char	 key[64];
	char	 value[4096];
};

/* log_format with printf-style arguments (caller frees). */
static char *
format(const char *msg, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	va_start(ap, fmt);
	line = log_format(T0_MS, LOG_WARN, msg, fmt, ap);
	va_end(ap);
	assert_non_null(line);
	return line;
}

/* Decode one \uXXXX of at most 0xff into *out; 0 or -1. */
static int
unhex(const char *p, char *out)
{
	unsigned	 v = 0;

	for (int i = 0; i < 4; i++) {
		char	 c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else
			return -1;
	}
	if (v > 0xff)
		return -1;
	*out = (char)v;
	return 0;
}

/*
 * A strict logfmt reader: key=value pairs separated by one space, a value
 * bare (no space, quote, '=' or control byte) or quoted with the escapes
 * \" \\ \n \r \t \u00XX. The number of pairs, or -1 when the line is not
 * valid logfmt.
 */
static int
decode(const char *line, struct pair *pairs, int max)
{
	const char	*p = line;
	int		 n = 0;

	while (*p != '\0') {
		size_t	 k = 0, v = 0;

		if (n == max)
			return -1;
		if (n > 0 && *p++ != ' ')
			return -1;
		while (*p != '\0' && *p != '=' && *p != ' ' && *p != '"' &&
		    (unsigned char)*p > ' ' && k < sizeof pairs[n].key - 1)
			pairs[n].key[k++] = *p++;
		pairs[n].key[k] = '\0';
		if (k == 0 || *p++ != '=')
			return -1;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				char	 c = *p;

				if (c == '\0' || (unsigned char)c < ' ' ||
				    v >= sizeof pairs[n].value - 1)
					return -1;
				if (c == '\\') {
					switch (*++p) {
					case '"': c = '"'; break;
					case '\\': c = '\\'; break;
					case 'n': c = '\n'; break;
					case 'r': c = '\r'; break;
					case 't': c = '\t'; break;
					case 'u':
						if (unhex(p + 1, &c) != 0)
							return -1;
						p += 4;
						break;
					default: return -1;
					}
				}
				pairs[n].value[v++] = c;
			}
			p++;
		} else {
			while (*p != '\0' && *p != ' ') {
				if (*p == '"' || *p == '=' || *p == '\\' ||
				    (unsigned char)*p < ' ' ||
				    v >= sizeof pairs[n].value - 1)
					return -1;
				pairs[n].value[v++] = *p++;
			}
			if (v == 0)
				return -1;
		}
		pairs[n].value[v] = '\0';
		n++;
	}
	return n;
}

/* The value of key in pairs, or NULL. */
static const char *
value_of(const struct pair *pairs, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(pairs[i].key, key))
			return pairs[i].value;
	return NULL;
}

/* Decode line (freed here): n pairs, key's value want, "level" warn. */
static void
assert_pairs(char *line, int n, const char *key, const char *want)
{
	struct pair	 pairs[MAX_PAIRS];

	assert_null(strchr(line, '\n'));
	assert_null(strchr(line, '\r'));
	assert_int_equal(decode(line, pairs, MAX_PAIRS), n);
	assert_string_equal(value_of(pairs, n, key), want);
	assert_string_equal(value_of(pairs, n, "level"), "warn");
	free(line);
}

/* Plain values are written as before: nothing quoted that needs no quotes. */
static void
test_plain(void **state)
{
	char	*line;

	(void)state;
	line = format("pacerd started", "listen=%s:%d redis=%s:%d size=%zu x=%.2f",
	    "127.0.0.1", 8425, "localhost", 6379, (size_t)7, 1.5);
	assert_string_equal(line, "ts=2026-01-01T00:00:00.123Z level=warn "
	    "msg=\"pacerd started\" listen=127.0.0.1:8425 redis=localhost:6379 "
	    "size=7 x=1.50");
	free(line);
	line = format("m", "error=\"%s\" n=%lld u=%lu p=%%", "oops", -3LL, 9UL);
	assert_string_equal(line, "ts=2026-01-01T00:00:00.123Z level=warn "
	    "msg=\"m\" error=\"oops\" n=-3 u=9 p=%");
	free(line);
	line = format("m", "a=%5d b=%x c=%hhd d=%*d e=%ju f=%-3s| g=%i", 42, 255,
	    300, 3, 7, (uintmax_t)9, "ab", -1);
	assert_string_equal(line, "ts=2026-01-01T00:00:00.123Z level=warn "
	    "msg=\"m\" a=\"   42\" b=ff c=44 d=\"  7\" e=9 f=ab| g=-1");
	free(line);
	line = format("stopped", NULL);
	assert_string_equal(line, "ts=2026-01-01T00:00:00.123Z level=warn "
	    "msg=\"stopped\"");
	free(line);
}

/* Quoted values: quotes, backslashes, newlines are escaped, one line. */
static void
test_quoted_values_escaped(void **state)
{
	static const char *const hostile[] = {
		"say \"hi\"", "C:\\path\\", "two\nlines", "cr\r\ntab\t",
		"\"", "\\", "\\\"", "x\" forged=\"1", "end\\", "",
		"bell\a del\x7f esc\x1b", "héllo wörld",
	};

	(void)state;
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		assert_pairs(format("store error", "detail=\"%s\" n=%d", hostile[i],
		    4), 5, "detail", hostile[i]);
		assert_pairs(format("store error", "detail=\"%s\" n=%d", hostile[i],
		    4), 5, "n", "4");
	}
}

/* Bare values that need it are quoted; none can forge another key. */
static void
test_bare_values_quoted(void **state)
{
	static const char *const hostile[] = {
		"a b", "k=v", "x\" y=\"z", "new\nline", "", "back\\slash",
		"id level=error", "tab\there",
	};
	struct pair	 pairs[MAX_PAIRS];
	char		*line;
	int		 n;

	(void)state;
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		assert_pairs(format("config reloaded", "file=%s customer=%s",
		    hostile[i], "c-1"), 5, "file", hostile[i]);
		assert_pairs(format("config reloaded", "file=%s customer=%s",
		    hostile[i], "c-1"), 5, "customer", "c-1");
	}
	/* %c and precision go through the same escaping. */
	line = format("m", "c=%c s=%.3s q=\"%.4s\"", '"', "a\"bcdef", "\n\n\n\n\n");
	n = decode(line, pairs, MAX_PAIRS);
	assert_int_equal(n, 6);
	assert_string_equal(value_of(pairs, n, "c"), "\"");
	assert_string_equal(value_of(pairs, n, "s"), "a\"b");
	assert_string_equal(value_of(pairs, n, "q"), "\n\n\n\n");
	free(line);
}

/* The message itself is escaped too. */
static void
test_message_escaped(void **state)
{
	struct pair	 pairs[MAX_PAIRS];
	char		*line;
	int		 n;

	(void)state;
	line = format("libevent said \"x\"\nlevel=error", "detail=%s", "ok");
	n = decode(line, pairs, MAX_PAIRS);
	assert_int_equal(n, 4);
	assert_string_equal(value_of(pairs, n, "msg"),
	    "libevent said \"x\"\nlevel=error");
	free(line);
}

/* A huge value is cut, still inside its quotes. */
static void
test_long_value_cut(void **state)
{
	struct pair	 pairs[MAX_PAIRS];
	char		*big, *line;
	int		 n;

	(void)state;
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, '"', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	line = format("m", "detail=\"%s\" after=%s", big, "yes");
	assert_true(strlen(line) < 8192);
	n = decode(line, pairs, MAX_PAIRS);
	assert_int_equal(n, 5);
	assert_string_equal(value_of(pairs, n, "after"), "yes");
	assert_int_equal(strncmp(value_of(pairs, n, "detail"), big, 100), 0);
	free(line);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quoted_values_escaped),
		cmocka_unit_test(test_bare_values_quoted),
		cmocka_unit_test(test_message_escaped),
		cmocka_unit_test(test_long_value_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
