/*
 * Private to the report module (solver/report/report*.c): helpers shared by
 * summary.json (report.c) and report.html (report_html.c).
 */
#ifndef PACER_REPORT_INT_H
#define PACER_REPORT_INT_H

#include <stddef.h>

#include "pacer/report.h"

/* report.c */
/* A segment's allocation rate (allocated / customers), 0 when empty. */
double	 report_segment_rate(const struct report_segment *);
/* The highest allocation rate of any non-empty segment. */
double	 report_highest_rate(const struct report_run *);
/* Total customers who got nothing, over every reason. */
long	 report_nothing_total(const struct report_run *);
/* The parent folder of dir (caller frees); "." when it has none. */
char	*report_parent(const char *dir);
/* Write data to dir/name atomically (temporary file, rename); 0 or -1. */
int	 report_write_file(const char *dir, const char *name, const char *data,
	    size_t len, char **cause);
/*
 * Load the previous run named by run->previous_run_id and compare: 1 with
 * changes filled (release with report_changes_free), or 0 with *note (may
 * be NULL; caller frees) saying why there is no comparison.
 */
int	 report_previous_changes(const struct report_run *run, const char *dir,
	    struct report_changes *changes, char **note);
/* Write dir/summary.json given the changes (borrowed, may be NULL). */
int	 report_write_summary_with(const struct report_run *run,
	    const char *dir, const struct report_changes *changes,
	    const char *note, char **cause);

/* report_html.c */
/*
 * Write dir/report.html for run; changes (may be NULL) and note (may be
 * NULL) are borrowed. 0 or -1 with *cause set (caller frees).
 */
int	 report_write_html(const struct report_run *run,
	    const struct report_changes *changes, const char *note,
	    const char *dir, char **cause);
/* Render the page into a new string (caller frees); NULL on no memory. */
char	*report_html(const struct report_run *run,
	    const struct report_changes *changes, const char *note);

#endif /* PACER_REPORT_INT_H */
