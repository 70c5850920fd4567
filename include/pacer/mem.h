/*
 * Large arrays on huge pages. The optimizer fills arrays of gigabytes
 * (a pair's customer, offer, propensity, price...) and then reads them at
 * random; with transparent huge pages in madvise mode (Debian's default
 * in VMs) each 4 KiB page costs a fault as it fills and a TLB miss as it
 * is read. mem_huge asks for 2 MiB pages under an array: a hint, harmless
 * where the kernel does not take it.
 */
#ifndef PACER_MEM_H
#define PACER_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MEM_HUGE_PAGE	((size_t)2 << 20)	/* bytes in a huge page */
#define MEM_HUGE_MIN	((size_t)32 << 20)	/* smaller arrays: no hint */

/* Huge pages for the whole pages inside [p, p + n) when n is large. */
static inline void
mem_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	uintptr_t	 lo = ((uintptr_t)p + MEM_HUGE_PAGE - 1) &
			    ~(uintptr_t)(MEM_HUGE_PAGE - 1);
	uintptr_t	 hi = ((uintptr_t)p + n) & ~(uintptr_t)(MEM_HUGE_PAGE - 1);

	if (p != NULL && n >= MEM_HUGE_MIN && hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}

/*
 * realloc for an array that should stay on huge pages: an array that
 * moves (mremap) keeps huge pages only for what it held, so a large one
 * is copied to a new allocation instead (old bytes of it kept). NULL, p
 * untouched, when out of memory.
 */
static inline void *
mem_grow(void *p, size_t old, size_t n)
{
	void	*q;

	if (n < MEM_HUGE_MIN)
		return realloc(p, n);
	if ((q = malloc(n)) == NULL)
		return NULL;
	mem_huge(q, n);
	if (p != NULL)
		memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

#endif /* PACER_MEM_H */
