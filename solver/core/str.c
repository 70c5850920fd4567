/*
 * String helpers (see pacer/str.h).
 */
#include <stdio.h>
#include <stdlib.h>

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
