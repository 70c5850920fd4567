/*
 * pacer's own small SVG writer: horizontal bars (with an optional limit
 * marker, e.g. spend against budget), grouped vertical bars (histograms,
 * before/after), and line charts. Output is appended to a growable string
 * buffer as inline <svg> elements meant for an HTML page: every text is
 * XML-escaped, every chart carries a <title> for screen readers, axis
 * labels, and the numbers written beside the bars.
 */
#ifndef PACER_SVG_H
#define PACER_SVG_H

#include <stddef.h>

/* A growable string. On allocation failure it stops growing and sets failed. */
struct svg_buf {
	char	*data;			/* NUL-terminated; owned */
	size_t	 len;
	size_t	 cap;
	int	 failed;		/* out of memory: contents truncated */
};

/* One horizontal bar. */
struct svg_bar {
	const char	*label;		/* left of the bar (borrowed) */
	double		 value;		/* bar length, >= 0 */
	double		 limit;		/* marker line (budget, capacity);
					   < 0: none */
	const char	*note;		/* text right of the bar; NULL: the
					   value (and "/ limit") formatted */
	int		 highlight;	/* drawn in the warning colour */
};

/* One data series of a grouped bar or line chart. */
struct svg_series {
	const char	*name;		/* legend text (borrowed) */
	const double	*values;	/* one per category or x (borrowed) */
};

/* What every chart has. Strings are borrowed; NULL means none. */
struct svg_chart {
	const char	*title;		/* accessible name (<title>) */
	const char	*x_label;	/* axis captions */
	const char	*y_label;
	int		 width;		/* pixels; 0: 640 */
	int		 decimals;	/* for the numbers drawn; -1: automatic */
};

/* svg.c */
/* Initialise an empty buffer. */
void	 svg_buf_init(struct svg_buf *);
/* Release the buffer's memory; accepts NULL. */
void	 svg_buf_free(struct svg_buf *);
/* Append formatted text (not escaped). */
void	 svg_printf(struct svg_buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append text with &, <, >, " and ' escaped (valid in XML and HTML). */
void	 svg_escape(struct svg_buf *, const char *text);
/*
 * Format a number for people: thousands separated by commas, decimals
 * digits after the point (-1: automatic, up to 2 and trailing zeros
 * dropped). Writes into buf (len bytes) and returns buf.
 */
char	*svg_number(double v, int decimals, char *buf, size_t len);
/*
 * Horizontal bars, one row each: label, bar, optional limit marker, and
 * the number beside it. The scale runs to the largest value or limit.
 */
void	 svg_hbars(struct svg_buf *, const struct svg_chart *,
	    const struct svg_bar *bars, int n);
/*
 * Vertical bars grouped by category (a histogram when the categories are
 * bins), one bar per series in each group, with a legend when there is
 * more than one series and the value above every bar.
 */
void	 svg_vbars(struct svg_buf *, const struct svg_chart *,
	    const char *const *categories, int ncategories,
	    const struct svg_series *series, int nseries);
/*
 * Line chart of nseries series over the same x values (npoints each),
 * with ticks on both axes and a legend.
 */
void	 svg_line(struct svg_buf *, const struct svg_chart *, const double *x,
	    int npoints, const struct svg_series *series, int nseries);

#endif /* PACER_SVG_H */
