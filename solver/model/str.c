/*
 * String helpers (see pacer/str.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer/str.h"

char *
str_vprintf(const char *fmt, va_list ap)
{
	va_list	 aq;
	int	 n;
	char	*s;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *
str_printf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = str_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

int
str_valid_id(const char *s, size_t max)
{
	size_t	 n = 0;

	for (; s[n] != '\0'; n++) {
		char	 c = s[n];

		if (n >= max)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
		    c == '@' || c == '-'))
			return 0;
	}
	return n > 0;
}

void
str_buf_init(struct str_buf *b, char *p, size_t size)
{
	b->p = p;
	b->size = size;
	b->len = 0;
}

void
str_buf_mem(struct str_buf *b, const void *s, size_t n)
{
	if (b->len < b->size - 1) {
		size_t	 room = b->size - 1 - b->len;

		memcpy(b->p + b->len, s, n < room ? n : room);
	}
	b->len += n;
}

void
str_buf_cat(struct str_buf *b, const char *s)
{
	str_buf_mem(b, s, strlen(s));
}

void
str_buf_int(struct str_buf *b, long long v)
{
	char			 t[24];
	size_t			 i = sizeof t;
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;

	do
		t[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		t[--i] = '-';
	str_buf_mem(b, t + i, sizeof t - i);
}

void
str_buf_hex(struct str_buf *b, unsigned long long v, int width)
{
	char	 t[16];
	size_t	 i = sizeof t;

	do {
		t[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
		width--;
	} while ((v != 0 || width > 0) && i > 0);
	str_buf_mem(b, t + i, sizeof t - i);
}

int
str_buf_end(struct str_buf *b)
{
	b->p[b->len < b->size ? b->len : b->size - 1] = '\0';
	return b->len < b->size && b->len <= INT_MAX ? (int)b->len : -1;
}
