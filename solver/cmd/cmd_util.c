/*
 * Small helpers shared by the subcommands: clocks, progress lines, a fast
 * buffered writer, directories, random run ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "pacer/str.h"

void
cmd_log(const char *cmd, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "pacer %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cmd_progress_due(struct cmd_progress *p)
{
	double	 now = clock_mono_s();

	if (p->start == 0)
		p->start = p->last = now;
	if (now - p->last < 0.5)
		return 0;
	p->last = now;
	return 1;
}

void
cmd_progress_line(struct cmd_progress *p, const char *cmd, const char *what,
    uint64_t done, uint64_t total)
{
	double	 el = clock_mono_s() - p->start;
	double	 rate = el > 0 ? (double)done / el : 0;

	if (total > 0)
		fprintf(stderr, "pacer %s: %s %llu/%llu (%.0f%%) %.0f/s %.1fs\n",
		    cmd, what, (unsigned long long)done, (unsigned long long)total,
		    100.0 * (double)done / (double)total, rate, el);
	else
		fprintf(stderr, "pacer %s: %s %llu %.0f/s %.1fs\n", cmd, what,
		    (unsigned long long)done, rate, el);
}

struct cmd_out *
cmd_out_open(const char *path, char **cause)
{
	struct cmd_out	*o;

	if ((o = calloc(1, sizeof *o)) == NULL ||
	    (o->buf = malloc(CMD_OUT_BUF)) == NULL) {
		free(o);
		*cause = strdup("out of memory");
		return NULL;
	}
	if ((o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		*cause = str_printf("%s: cannot create: %s", path, strerror(errno));
		free(o->buf);
		free(o);
		return NULL;
	}
	o->path = path;
	return o;
}

int
cmd_out_flush(struct cmd_out *o)
{
	size_t	 off = 0;

	while (off < o->len) {
		ssize_t	 n = write(o->fd, o->buf + off, o->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			o->failed = errno;
			break;
		}
		off += (size_t)n;
	}
	o->len = 0;
	return o->failed ? -1 : 0;
}

void
cmd_out_put(struct cmd_out *o, const char *s, size_t n)
{
	while (n > 0) {
		size_t	 room, k;

		if (o->len == CMD_OUT_BUF)
			cmd_out_flush(o);
		room = CMD_OUT_BUF - o->len;
		k = n < room ? n : room;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

void
cmd_out_str(struct cmd_out *o, const char *s)
{
	cmd_out_put(o, s, strlen(s));
}

void
cmd_out_char(struct cmd_out *o, char c)
{
	if (o->len + 1 > CMD_OUT_BUF)
		cmd_out_flush(o);
	o->buf[o->len++] = c;
}

void
cmd_out_u64(struct cmd_out *o, uint64_t v)
{
	char	 tmp[24];
	int	 n = 0;

	do {
		tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	cmd_out_put(o, tmp + sizeof tmp - n, (size_t)n);
}

void
cmd_out_fixed(struct cmd_out *o, double v, int decimals)
{
	static const double	 scale[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8 };
	char			 tmp[48];
	uint64_t		 ip, fp, m;
	int			 n = 0;

	if (decimals < 0 || decimals > 8 || !(v > -1e15 && v < 1e15)) {
		n = snprintf(tmp, sizeof tmp, "%.*f", decimals < 0 ? 6 : decimals, v);
		cmd_out_put(o, tmp, (size_t)n);
		return;
	}
	if (v < 0) {
		cmd_out_char(o, '-');
		v = -v;
	}
	m = (uint64_t)(v * scale[decimals] + 0.5);
	ip = m / (uint64_t)scale[decimals];
	fp = m % (uint64_t)scale[decimals];
	cmd_out_u64(o, ip);
	if (decimals == 0)
		return;
	cmd_out_char(o, '.');
	for (int i = decimals - 1; i >= 0; i--) {
		tmp[i] = (char)('0' + fp % 10);
		fp /= 10;
	}
	cmd_out_put(o, tmp, (size_t)decimals);
}

int
cmd_out_close(struct cmd_out *o, char **cause)
{
	int	 rc = 0;

	if (o == NULL)
		return 0;
	cmd_out_flush(o);
	if (close(o->fd) != 0 && !o->failed)
		o->failed = errno;
	if (o->failed) {
		*cause = str_printf("%s: write failed: %s", o->path,
		    strerror(o->failed));
		rc = -1;
	}
	free(o->buf);
	free(o);
	return rc;
}

int
cmd_mkdirs(const char *path, char **cause)
{
	char	*p, *s;

	if ((p = strdup(path)) == NULL) {
		*cause = strdup("out of memory");
		return -1;
	}
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char	 save = *s;

		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			*cause = str_printf("%s: cannot create directory: %s", p,
			    strerror(errno));
			free(p);
			return -1;
		}
		*s = save;
		if (save == '\0')
			break;
	}
	free(p);
	return 0;
}

uint64_t
cmd_random64(void)
{
	uint64_t	 v = 0;
	int		 fd;

	if ((fd = open("/dev/urandom", O_RDONLY)) >= 0) {
		if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
			v = 0;
		close(fd);
	}
	if (v == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		v = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_sec;
	}
	return v;
}

void
cmd_run_id(int64_t when, char *buf, size_t len)
{
	time_t		 t = (time_t)when;
	struct tm	 tm;
	char		 stamp[32];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "%s-%04x", stamp, (unsigned)(cmd_random64() & 0xffff));
}

int
cmd_valid_name(const char *s, size_t max)
{
	return str_valid_id(s, max);
}
