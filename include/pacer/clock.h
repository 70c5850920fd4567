/*
 * The one clock helper of both programs: monotonic time for deadlines and
 * durations, the wall clock for what is stamped. (pacerd's loop also keeps
 * libevent's cached wall clock, read where one per loop turn is enough.)
 */
#ifndef PACER_CLOCK_H
#define PACER_CLOCK_H

#include <stdint.h>

/* clock.c */
/* Microseconds on the monotonic clock (never steps). */
int64_t	 clock_mono_us(void);
/* Milliseconds on the monotonic clock. */
int64_t	 clock_mono_ms(void);
/* Seconds on the monotonic clock, with the fraction. */
double	 clock_mono_s(void);
/* The wall clock in unix microseconds (not a cached one). */
int64_t	 clock_wall_us(void);

#endif /* PACER_CLOCK_H */
