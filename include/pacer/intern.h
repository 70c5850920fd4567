/*
 * Strings numbered in order of first appearance (an interner): customer
 * ids of a scores file or a contact log, names of channels and offers.
 * One arena of NUL-terminated strings and an open-addressing index.
 */
#ifndef PACER_INTERN_H
#define PACER_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct intern {
	char		*arena;		/* NUL-terminated strings back to back */
	size_t		 len, acap;
	size_t		*off;		/* string i starts at arena + off[i] */
	int32_t		 n, cap;
	uint32_t	*table;		/* ids; UINT32_MAX: empty */
	size_t		 tcap;		/* a power of two, over twice n */
};

/* The id of s (n bytes, none of them NUL), or -1. */
int32_t	 intern_find(const struct intern *, const char *s, size_t n);
/*
 * The id of s (n bytes), added (copied) when new; *added (may be NULL)
 * says which. -1 when out of memory.
 */
int32_t	 intern_add(struct intern *, const char *s, size_t n, int *added);
/* The string of id (borrowed, valid until the next intern_add). */
const char *intern_str(const struct intern *, int32_t id);
/* Free the arrays (not the struct) and empty it; accepts NULL. */
void	 intern_free(struct intern *);

#endif /* PACER_INTERN_H */
