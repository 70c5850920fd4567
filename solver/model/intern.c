/*
 * The interner: linear probing on a table kept at most half full, so a
 * probe is short; strings are compared only where the slot's id is set.
 */
#include <stdlib.h>
#include <string.h>

#include "pacer/intern.h"
#include "pacer/mem.h"

#define INTERN_TABLE_MIN	1024
#define INTERN_IDS_MIN		1024
#define INTERN_ARENA_MIN	(64 * 1024)

/* FNV-1a of n bytes, its high bits folded down (ids often differ late). */
static uint32_t
intern_hash(const char *s, size_t n)
{
	uint32_t	 h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h ^ (h >> 15);
}

/* The slot of s: its id's, or the empty one where it would go. */
static size_t
intern_slot(const struct intern *t, const char *s, size_t n)
{
	size_t	 mask = t->tcap - 1, h = intern_hash(s, n) & mask;

	while (t->table[h] != UINT32_MAX) {
		const char *x = t->arena + t->off[t->table[h]];

		if (memcmp(x, s, n) == 0 && x[n] == '\0')
			break;
		h = (h + 1) & mask;
	}
	return h;
}

/* Double the index (or make the first); 0 or -1. */
static int
intern_grow_table(struct intern *t)
{
	size_t		 ncap = t->tcap ? t->tcap * 2 : INTERN_TABLE_MIN;
	uint32_t	*old = t->table;
	size_t		 ocap = t->tcap;

	if ((t->table = malloc(ncap * sizeof *t->table)) == NULL) {
		t->table = old;
		return -1;
	}
	mem_huge(t->table, ncap * sizeof *t->table);
	memset(t->table, 0xff, ncap * sizeof *t->table);
	t->tcap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i] != UINT32_MAX) {
			const char *s = t->arena + t->off[old[i]];

			t->table[intern_slot(t, s, strlen(s))] = old[i];
		}
	free(old);
	return 0;
}

/* Room for one more string of n bytes; 0 or -1. */
static int
intern_reserve(struct intern *t, size_t n)
{
	if ((size_t)t->n + 1 > t->tcap / 2 && intern_grow_table(t) != 0)
		return -1;
	if (t->n == t->cap) {
		int32_t	 ncap = t->cap ? t->cap * 2 : INTERN_IDS_MIN;
		size_t	*p;

		if (t->cap >= INT32_MAX / 2 ||
		    (p = mem_grow(t->off, (size_t)t->cap * sizeof *p,
		    (size_t)ncap * sizeof *p)) == NULL)
			return -1;
		t->off = p;
		t->cap = ncap;
	}
	if (t->len + n + 1 > t->acap) {
		size_t	 ncap = t->acap ? t->acap * 2 : INTERN_ARENA_MIN;
		char	*p;

		while (t->len + n + 1 > ncap)
			ncap *= 2;
		if ((p = mem_grow(t->arena, t->len, ncap)) == NULL)
			return -1;
		t->arena = p;
		t->acap = ncap;
	}
	return 0;
}

int32_t
intern_find(const struct intern *t, const char *s, size_t n)
{
	size_t	 h;

	if (t->tcap == 0)
		return -1;
	h = intern_slot(t, s, n);
	return t->table[h] == UINT32_MAX ? -1 : (int32_t)t->table[h];
}

int32_t
intern_add(struct intern *t, const char *s, size_t n, int *added)
{
	int32_t	 id;

	if (added != NULL)
		*added = 0;
	if ((id = intern_find(t, s, n)) >= 0)
		return id;
	if (intern_reserve(t, n) != 0)
		return -1;
	memcpy(t->arena + t->len, s, n);
	t->arena[t->len + n] = '\0';
	t->off[t->n] = t->len;
	t->len += n + 1;
	t->table[intern_slot(t, s, n)] = (uint32_t)t->n;
	if (added != NULL)
		*added = 1;
	return t->n++;
}

const char *
intern_str(const struct intern *t, int32_t id)
{
	return t->arena + t->off[id];
}

void
intern_free(struct intern *t)
{
	if (t == NULL)
		return;
	free(t->arena);
	free(t->off);
	free(t->table);
	memset(t, 0, sizeof *t);
}
