/*
 * Small string helpers shared by every part of pacer.
 */
#ifndef PACER_STR_H
#define PACER_STR_H

#include <stdarg.h>
#include <stddef.h>

/* str.c */
/* vprintf into a new string (caller frees); NULL when out of memory. */
char	*str_vprintf(const char *fmt, va_list ap);
/* printf into a new string (caller frees); NULL when out of memory. */
char	*str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether s is 1..max bytes of [A-Za-z0-9_.:@-] (ids, names, run ids). */
int	 str_valid_id(const char *s, size_t max);

#endif /* PACER_STR_H */
