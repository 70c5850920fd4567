/*
 * svg.c: pacer's own small SVG writer (include/pacer/svg.h).
 *
 * Charts are drawn for an HTML page that analysts also print, so they use
 * plain fills and strokes, a system font stack, and state every number in
 * text as well as in geometry.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacer/svg.h"

#define SVG_WIDTH	640
#define SVG_FONT	"font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,sans-serif\""
#define SVG_AXIS	"#555"
#define SVG_GRID	"#e3e3e3"
#define SVG_WARN	"#c0392b"
#define SVG_LIMIT	"#222"

/* Series colours: colour-blind safe (Okabe-Ito), readable in grey print. */
static const char *const svg_palette[] = {
	"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
	"#f0e442", "#000000",
};
#define SVG_NPALETTE (sizeof svg_palette / sizeof svg_palette[0])

/* Initialise an empty buffer. */
void
svg_buf_init(struct svg_buf *b)
{
	memset(b, 0, sizeof *b);
}

/* Release the buffer's memory; accepts NULL. */
void
svg_buf_free(struct svg_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* Make room for n more bytes plus the NUL; 0 or -1 (and failed set). */
static int
svg_reserve(struct svg_buf *b, size_t n)
{
	size_t	 want, cap;
	char	*p;

	if (b->failed)
		return -1;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap < want)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes of s. */
static void
svg_append(struct svg_buf *b, const char *s, size_t n)
{
	if (svg_reserve(b, n) != 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append formatted text (not escaped). */
void
svg_printf(struct svg_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || svg_reserve(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Append text with &, <, >, " and ' escaped (valid in XML and HTML). */
void
svg_escape(struct svg_buf *b, const char *text)
{
	const char	*p, *run;

	if (text == NULL)
		return;
	for (p = run = text; *p != '\0'; p++) {
		const char *rep;

		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			if ((unsigned char)*p < 0x20 && *p != '\t' &&
			    *p != '\n' && *p != '\r')
				rep = "?";
			else
				continue;
		}
		svg_append(b, run, (size_t)(p - run));
		svg_append(b, rep, strlen(rep));
		run = p + 1;
	}
	svg_append(b, run, (size_t)(p - run));
}

/* Format a number for people: thousands separated, few decimals. */
char *
svg_number(double v, int decimals, char *buf, size_t len)
{
	char	 raw[64], *dot, *out;
	size_t	 intlen, i, o;
	int	 neg, automatic = decimals < 0;

	if (len == 0)
		return buf;
	if (!isfinite(v)) {
		snprintf(buf, len, "%s", isnan(v) ? "n/a" : (v > 0 ? "∞" : "-∞"));
		return buf;
	}
	if (decimals < 0) {
		double a = fabs(v);

		decimals = a >= 100 ? 0 : (a >= 1 || a == 0 ? 2 : 3);
	}
	if (decimals > 9)
		decimals = 9;
	neg = v < 0;
	snprintf(raw, sizeof raw, "%.*f", decimals, fabs(v));
	if ((dot = strchr(raw, '.')) != NULL && automatic) {
		/* Automatic precision: drop trailing zeros. */
		char *end = raw + strlen(raw) - 1;

		while (end > dot && *end == '0')
			*end-- = '\0';
		if (end == dot)
			*end = '\0';
	}
	dot = strchr(raw, '.');
	intlen = dot ? (size_t)(dot - raw) : strlen(raw);
	out = buf;
	o = 0;
	/* "-0" is not a number people write. */
	if (neg && strspn(raw, "0.") != strlen(raw) && o + 1 < len)
		out[o++] = '-';
	for (i = 0; raw[i] != '\0' && o + 1 < len; i++) {
		if (i < intlen && i > 0 && (intlen - i) % 3 == 0) {
			out[o++] = ',';
			if (o + 1 >= len)
				break;
		}
		out[o++] = raw[i];
	}
	out[o] = '\0';
	return buf;
}

/* A round step (1, 2, 2.5 or 5 times a power of ten) near span / n. */
static double
svg_nice_step(double span, int n)
{
	double	 raw, mag, f;

	if (!(span > 0) || !isfinite(span))
		return 1;
	raw = span / n;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	if (f <= 1)
		f = 1;
	else if (f <= 2)
		f = 2;
	else if (f <= 2.5)
		f = 2.5;
	else if (f <= 5)
		f = 5;
	else
		f = 10;
	return f * mag;
}

/* Clamp a value for drawing: NaN and infinities become 0. */
static double
svg_finite(double v)
{
	return isfinite(v) ? v : 0;
}

/* Open an <svg> element of the given size with its <title>. */
static void
svg_open(struct svg_buf *b, const struct svg_chart *c, int w, int h)
{
	/* Inline in HTML: no xmlns needed, so the page names no URL. */
	svg_printf(b, "<svg class=\"chart\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    SVG_FONT " font-size=\"12\">", w, h, w, h);
	if (c != NULL && c->title != NULL) {
		svg_printf(b, "<title>");
		svg_escape(b, c->title);
		svg_printf(b, "</title>");
	}
}

/* Text element at (x, y) with an anchor and extra attributes. */
static void
svg_text(struct svg_buf *b, double x, double y, const char *anchor,
    const char *attrs, const char *text)
{
	svg_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>",
	    x, y, anchor, attrs ? " " : "", attrs ? attrs : "");
	svg_escape(b, text);
	svg_printf(b, "</text>");
}

/* A chart with nothing to draw: a framed "no data" note. */
static void
svg_empty(struct svg_buf *b, const struct svg_chart *c, int w)
{
	svg_open(b, c, w, 48);
	svg_printf(b, "<rect x=\"0.5\" y=\"0.5\" width=\"%d\" height=\"47\" "
	    "fill=\"none\" stroke=\"" SVG_GRID "\"/>", w - 1);
	svg_text(b, w / 2.0, 28, "middle", "fill=\"" SVG_AXIS "\"", "no data");
	svg_printf(b, "</svg>\n");
}

/* Chart width from options. */
static int
svg_width(const struct svg_chart *c)
{
	return c != NULL && c->width > 0 ? c->width : SVG_WIDTH;
}

/* Decimals from options. */
static int
svg_decimals(const struct svg_chart *c)
{
	return c != NULL ? c->decimals : -1;
}

/* Copy text into buf, cut to at most max characters with an ellipsis. */
static const char *
svg_cut(const char *text, size_t max, char *buf, size_t len)
{
	size_t	 n = strlen(text), i, chars;

	/* Count UTF-8 characters, not bytes, and never split one. */
	for (i = 0, chars = 0; i < n; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			chars++;
	if (chars <= max)
		return text;
	for (i = 0, chars = 0; i < n; i++) {
		if (((unsigned char)text[i] & 0xc0) != 0x80 && ++chars > max - 1)
			break;
	}
	if (i + 4 > len)
		i = len - 4;
	memcpy(buf, text, i);
	memcpy(buf + i, "…", 4);
	return buf;
}

/* Where a horizontal bar chart puts things. */
struct svg_hlayout {
	int	 label_w;	/* left of the plot: the labels */
	int	 top, row;	/* first row's top, row height */
	double	 plot_w;	/* plot width */
	double	 axis_max;	/* value at the plot's right edge */
	int	 dec;		/* decimals of the numbers drawn */
};

/* Room for the longest label (in characters), within reason. */
static int
svg_hbar_label_w(const struct svg_bar *bars, int n)
{
	int	 i, label_w = 150;

	for (i = 0; i < n; i++) {
		size_t chars = bars[i].label ? strlen(bars[i].label) : 0;

		if (chars > 34)
			chars = 34;
		if ((int)(chars * 6.6) + 12 > label_w)
			label_w = (int)(chars * 6.6) + 12;
	}
	return label_w > 240 ? 240 : label_w;
}

/* Grid lines and tick numbers along the bottom, then the value axis. */
static void
svg_hbar_grid(struct svg_buf *b, const struct svg_hlayout *l, int n,
    double step)
{
	char	 num[64];
	double	 t;

	for (t = 0; t <= l->axis_max * 1.0000001; t += step) {
		double x = l->label_w + l->plot_w * t / l->axis_max;

		svg_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
		    "y2=\"%d\" stroke=\"" SVG_GRID "\"/>", x, l->top, x,
		    l->top + n * l->row);
		svg_text(b, x, l->top + n * l->row + 14, "middle",
		    "font-size=\"10\" fill=\"" SVG_AXIS "\"",
		    svg_number(t, -1, num, sizeof num));
	}
	svg_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\""
	    SVG_AXIS "\"/>", l->label_w, l->top, l->label_w,
	    l->top + n * l->row);
}

/* Bar i: its label, the bar, the limit's dashed mark and the note. */
static void
svg_hbar(struct svg_buf *b, const struct svg_hlayout *l,
    const struct svg_bar *bar, int i)
{
	double	 v = svg_finite(bar->value), y = l->top + i * l->row;
	double	 bw = v > 0 ? l->plot_w * v / l->axis_max : 0;
	const char *fill = bar->highlight ? SVG_WARN : svg_palette[0];
	char	 num[64], lim[64], note[160], cut[128];

	if (v > 0 && bw < 1)
		bw = 1;	/* a non-zero value stays visible */
	svg_text(b, l->label_w - 6, y + l->row / 2.0 + 4, "end", NULL,
	    svg_cut(bar->label ? bar->label : "", 34, cut, sizeof cut));
	svg_printf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" "
	    "height=\"%d\" fill=\"%s\"/>", l->label_w, y + 5, bw, l->row - 10,
	    fill);
	if (bar->limit >= 0 && isfinite(bar->limit)) {
		double lx = l->label_w + l->plot_w * bar->limit / l->axis_max;

		svg_printf(b, "<line class=\"limit\" x1=\"%.1f\" "
		    "y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\""
		    SVG_LIMIT "\" stroke-width=\"2\" "
		    "stroke-dasharray=\"3,2\"/>", lx, y + 1, lx,
		    y + l->row - 1);
	}
	if (bar->note != NULL)
		snprintf(note, sizeof note, "%s", bar->note);
	else if (bar->limit >= 0)
		snprintf(note, sizeof note, "%s / %s",
		    svg_number(v, l->dec, num, sizeof num),
		    svg_number(bar->limit, l->dec, lim, sizeof lim));
	else
		svg_number(v, l->dec, note, sizeof note);
	svg_text(b, l->label_w + l->plot_w + 6, y + l->row / 2.0 + 4, "start",
	    bar->highlight ? "font-weight=\"bold\" fill=\"" SVG_WARN
	    "\"" : NULL, note);
}

/* Horizontal bars with labels, optional limit markers and numbers. */
void
svg_hbars(struct svg_buf *b, const struct svg_chart *c,
    const struct svg_bar *bars, int n)
{
	struct svg_hlayout l;
	int	 w = svg_width(c), i, h, note_w = 190, bottom;
	double	 max = 0, step;

	if (bars == NULL || n <= 0) {
		svg_empty(b, c, w);
		return;
	}
	l.label_w = svg_hbar_label_w(bars, n);
	l.top = 6;
	l.row = 24;
	l.dec = svg_decimals(c);
	for (i = 0; i < n; i++) {
		if (svg_finite(bars[i].value) > max)
			max = svg_finite(bars[i].value);
		if (svg_finite(bars[i].limit) > max)
			max = svg_finite(bars[i].limit);
	}
	step = svg_nice_step(max, 4);
	l.axis_max = max > 0 ? ceil(max / step) * step : 1;
	if (l.axis_max <= 0)
		l.axis_max = 1;
	l.plot_w = w - l.label_w - note_w;
	if (l.plot_w < 80)
		l.plot_w = 80;
	bottom = 22 + (c != NULL && c->x_label != NULL ? 16 : 0);
	h = l.top + n * l.row + bottom;
	svg_open(b, c, w, h);
	svg_hbar_grid(b, &l, n, step);
	for (i = 0; i < n; i++)
		svg_hbar(b, &l, &bars[i], i);
	if (c != NULL && c->x_label != NULL)
		svg_text(b, l.label_w + l.plot_w / 2, h - 4, "middle",
		    "fill=\"" SVG_AXIS "\"", c->x_label);
	svg_printf(b, "</svg>\n");
}

/* A legend row of coloured squares and series names at y. */
static void
svg_legend(struct svg_buf *b, const struct svg_series *series, int nseries,
    double x, double y)
{
	int	 i;

	for (i = 0; i < nseries; i++) {
		svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" "
		    "height=\"10\" fill=\"%s\"/>", x, y - 9,
		    svg_palette[i % SVG_NPALETTE]);
		svg_text(b, x + 14, y, "start", NULL,
		    series[i].name ? series[i].name : "");
		x += 24 + 7.0 * (series[i].name ? strlen(series[i].name) : 0);
	}
}

/* Y range [lo, hi] over series values, rounded to nice steps. */
static void
svg_yrange(const struct svg_series *series, int nseries, int npoints,
    double *lo, double *hi, double *step)
{
	double	 mn = 0, mx = 0;
	int	 i, j;

	for (i = 0; i < nseries; i++)
		for (j = 0; j < npoints; j++) {
			double v = series[i].values ? svg_finite(series[i].values[j]) : 0;

			if (v < mn)
				mn = v;
			if (v > mx)
				mx = v;
		}
	*step = svg_nice_step(mx - mn, 4);
	*lo = floor(mn / *step) * *step;
	*hi = ceil(mx / *step) * *step;
	if (*hi <= *lo)
		*hi = *lo + *step;
}

/* Horizontal grid lines with y tick numbers over [lo, hi]. */
static void
svg_ygrid(struct svg_buf *b, double lo, double hi, double step, double left,
    double right, double top, double plot_h)
{
	char	 num[64];
	double	 t;

	for (t = lo; t <= hi + step * 1e-6; t += step) {
		double y = top + plot_h * (hi - t) / (hi - lo);

		svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"%s\"/>", left, y, right, y,
		    fabs(t) < step * 1e-6 ? SVG_AXIS : SVG_GRID);
		svg_text(b, left - 4, y + 4, "end",
		    "font-size=\"10\" fill=\"" SVG_AXIS "\"",
		    svg_number(fabs(t) < step * 1e-6 ? 0 : t, -1, num,
		    sizeof num));
	}
}

/* Axis captions: x below the plot, y rotated at the left edge. */
static void
svg_captions(struct svg_buf *b, const struct svg_chart *c, double left,
    double plot_w, double top, double plot_h, int h)
{
	if (c == NULL)
		return;
	if (c->x_label != NULL)
		svg_text(b, left + plot_w / 2, h - 4, "middle",
		    "fill=\"" SVG_AXIS "\"", c->x_label);
	if (c->y_label != NULL) {
		svg_printf(b, "<g transform=\"translate(12,%.1f) rotate(-90)\">",
		    top + plot_h / 2);
		svg_text(b, 0, 0, "middle", "fill=\"" SVG_AXIS "\"",
		    c->y_label);
		svg_printf(b, "</g>");
	}
}

/* Vertical bars grouped by category, with values above the bars. */
void
svg_vbars(struct svg_buf *b, const struct svg_chart *c,
    const char *const *categories, int ncategories,
    const struct svg_series *series, int nseries)
{
	int	 w = svg_width(c), dec = svg_decimals(c), i, j, h;
	double	 left = 64, right = w - 10, top, plot_h = 200, plot_w;
	double	 lo, hi, step, group, bw, zero;
	char	 num[64], cut[128];

	if (categories == NULL || ncategories <= 0 || series == NULL ||
	    nseries <= 0) {
		svg_empty(b, c, w);
		return;
	}
	top = nseries > 1 ? 34 : 16;
	h = (int)(top + plot_h + 24 + (c != NULL && c->x_label ? 18 : 0));
	plot_w = right - left;
	svg_yrange(series, nseries, ncategories, &lo, &hi, &step);
	svg_open(b, c, w, h);
	if (nseries > 1)
		svg_legend(b, series, nseries, left, 14);
	svg_ygrid(b, lo, hi, step, left, right, top, plot_h);
	zero = top + plot_h * hi / (hi - lo);
	group = plot_w / ncategories;
	bw = group * 0.8 / nseries;
	for (i = 0; i < ncategories; i++) {
		double gx = left + group * i + group * 0.1;

		for (j = 0; j < nseries; j++) {
			double v = series[j].values ?
			    svg_finite(series[j].values[i]) : 0;
			double y = top + plot_h * (hi - (v > 0 ? v : 0)) / (hi - lo);
			double bh = plot_h * fabs(v) / (hi - lo);
			double x = gx + bw * j;

			svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\" fill=\"%s\"/>", x, y, bw > 1 ? bw - 1 : bw,
			    bh, svg_palette[j % SVG_NPALETTE]);
			svg_text(b, x + bw / 2, v >= 0 ? y - 3 : zero + bh + 11,
			    "middle", bw < 22 ? "font-size=\"8\"" :
			    "font-size=\"10\"", svg_number(v, dec, num, sizeof num));
		}
		svg_text(b, gx + group * 0.4, top + plot_h + 16, "middle", NULL,
		    svg_cut(categories[i] ? categories[i] : "",
		    group > 70 ? 14 : 6, cut, sizeof cut));
	}
	svg_captions(b, c, left, plot_w, top, plot_h, h);
	svg_printf(b, "</svg>\n");
}

/* Line chart over shared x values, with ticks and a legend. */
void
svg_line(struct svg_buf *b, const struct svg_chart *c, const double *x,
    int npoints, const struct svg_series *series, int nseries)
{
	int	 w = svg_width(c), dec = svg_decimals(c), i, j, h;
	double	 left = 72, right = w - 90, top, plot_h = 200, plot_w;
	double	 lo, hi, step, xmin, xmax, xstep, t;
	char	 num[64];

	if (x == NULL || npoints <= 0 || series == NULL || nseries <= 0) {
		svg_empty(b, c, w);
		return;
	}
	top = nseries > 1 ? 34 : 16;
	h = (int)(top + plot_h + 24 + (c != NULL && c->x_label ? 18 : 0));
	plot_w = right - left;
	svg_yrange(series, nseries, npoints, &lo, &hi, &step);
	xmin = xmax = svg_finite(x[0]);
	for (j = 1; j < npoints; j++) {
		if (svg_finite(x[j]) < xmin)
			xmin = svg_finite(x[j]);
		if (svg_finite(x[j]) > xmax)
			xmax = svg_finite(x[j]);
	}
	xstep = svg_nice_step(xmax - xmin, 5);
	xmin = floor(xmin / xstep) * xstep;
	xmax = ceil(xmax / xstep) * xstep;
	if (xmax <= xmin)
		xmax = xmin + xstep;
	svg_open(b, c, w, h);
	if (nseries > 1)
		svg_legend(b, series, nseries, left, 14);
	svg_ygrid(b, lo, hi, step, left, right, top, plot_h);
	for (t = xmin; t <= xmax + xstep * 1e-6; t += xstep) {
		double px = left + plot_w * (t - xmin) / (xmax - xmin);

		svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"" SVG_AXIS "\"/>", px, top + plot_h,
		    px, top + plot_h + 4);
		svg_text(b, px, top + plot_h + 16, "middle",
		    "font-size=\"10\" fill=\"" SVG_AXIS "\"",
		    svg_number(t, -1, num, sizeof num));
	}
	for (i = 0; i < nseries; i++) {
		const char *col = svg_palette[i % SVG_NPALETTE];
		double px = 0, py = 0;

		if (series[i].values == NULL)
			continue;
		svg_printf(b, "<polyline fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"2\" points=\"", col);
		for (j = 0; j < npoints; j++) {
			px = left + plot_w * (svg_finite(x[j]) - xmin) / (xmax - xmin);
			py = top + plot_h * (hi - svg_finite(series[i].values[j])) /
			    (hi - lo);
			svg_printf(b, "%s%.1f,%.1f", j ? " " : "", px, py);
		}
		svg_printf(b, "\"/>");
		if (npoints == 1)
			svg_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
			    "fill=\"%s\"/>", px, py, col);
		/* The last value, written at the end of its line. */
		svg_text(b, px + 4, py + 4 + (i % 2 ? 10 : 0), "start",
		    "font-size=\"10\"", svg_number(series[i].values[npoints - 1],
		    dec, num, sizeof num));
	}
	svg_captions(b, c, left, plot_w, top, plot_h, h);
	svg_printf(b, "</svg>\n");
}
