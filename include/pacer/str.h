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

/*
 * Text built in a caller's buffer, for the hot paths where printf's format
 * parsing shows. As with snprintf, what does not fit is cut and len counts
 * every byte asked for.
 */
struct str_buf {
	char	*p;
	size_t	 size;		/* of p, >= 1 */
	size_t	 len;		/* bytes appended, even past size */
};
void	 str_buf_init(struct str_buf *, char *p, size_t size);
void	 str_buf_mem(struct str_buf *, const void *, size_t);
void	 str_buf_cat(struct str_buf *, const char *);
/* Append a string literal. */
#define str_buf_lit(b, s) str_buf_mem((b), (s), sizeof(s) - 1)
void	 str_buf_int(struct str_buf *, long long);
/* Lowercase hex of v, at least width digits. */
void	 str_buf_hex(struct str_buf *, unsigned long long v, int width);
/* NUL-terminate; the length, or -1 when something did not fit. */
int	 str_buf_end(struct str_buf *);

#endif /* PACER_STR_H */
