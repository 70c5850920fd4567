/*
 * pacer demo-data: a deterministic, realistic synthetic data set for the
 * quick start and the benchmarks (offers.csv, scores.csv, profiles.csv,
 * contacts.csv). The same seed and --now always give the same bytes.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pacer/conf.h"

#include "cmd.h"
#include "pacer/str.h"

#define DEMO_DAY	86400
#define DEMO_MAX_CH	CONF_MAX_CHANNELS

/* xoshiro256** state, seeded through splitmix64. */
struct demo_rng {
	uint64_t	 s[4];
};

/* One generated offer. */
struct demo_offer {
	char	 name[64];
	int	 channel;
	int	 campaign;
	double	 value;
	double	 cost;
	double	 mean;		/* mean propensity */
	double	 eligible;	/* share of customers eligible */
};

/* One generated past contact. */
struct demo_contact {
	int64_t	 time;
	uint32_t customer;
	uint16_t offer;
};

static const struct {
	const char	*campaign;
	const char	*category;
	double		 vmin, vmax;
} demo_campaigns[] = {
	{ "welcome", "discount", 20, 60 },
	{ "winback", "discount", 30, 80 },
	{ "cards", "credit", 80, 220 },
	{ "engagement", "engagement", 3, 15 },
	{ "loans", "credit", 120, 260 },
	{ "sales", "discount", 15, 50 },
	{ "content", "content", 2, 10 },
	{ "travel", "travel", 30, 120 },
	{ "insurance", "insurance", 40, 150 },
	{ "loyalty", "loyalty", 10, 40 },
	{ "savings", "savings", 30, 90 },
	{ "mortgage", "credit", 150, 300 },
};
#define DEMO_NCAMPAIGNS ((int)(sizeof demo_campaigns / sizeof demo_campaigns[0]))

static const struct {
	const char	*zone;
	int		 weight;
} demo_zones[] = {
	{ "Europe/Paris", 22 }, { "Europe/London", 14 }, { "Europe/Berlin", 10 },
	{ "Europe/Madrid", 6 }, { "America/New_York", 14 },
	{ "America/Chicago", 5 }, { "America/Los_Angeles", 8 },
	{ "America/Sao_Paulo", 4 }, { "Asia/Tokyo", 4 }, { "Asia/Kolkata", 4 },
	{ "Australia/Sydney", 3 }, { "Africa/Johannesburg", 2 }, { "UTC", 4 },
};
#define DEMO_NZONES ((int)(sizeof demo_zones / sizeof demo_zones[0]))

/* splitmix64 step: expands the seed into xoshiro state. */
static uint64_t
demo_splitmix(uint64_t *x)
{
	uint64_t	 z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seed a generator; stream separates the files' sequences. */
static void
demo_seed(struct demo_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t	 x = seed ^ (stream * 0xd1b54a32d192ed03ULL);

	for (int i = 0; i < 4; i++)
		r->s[i] = demo_splitmix(&x);
}

/* Rotate left. */
static inline uint64_t
demo_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits (xoshiro256**). */
static inline uint64_t
demo_next(struct demo_rng *r)
{
	uint64_t	*s = r->s;
	uint64_t	 out = demo_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = demo_rotl(s[3], 45);
	return out;
}

/* Uniform in [0,1). */
static inline double
demo_uniform(struct demo_rng *r)
{
	return (double)(demo_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [a,b). */
static inline double
demo_between(struct demo_rng *r, double a, double b)
{
	return a + (b - a) * demo_uniform(r);
}

/* Standard normal (Box-Muller; one value per call keeps it stateless). */
static double
demo_normal(struct demo_rng *r)
{
	double	 u = 1.0 - demo_uniform(r), v = demo_uniform(r);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Round to the given number of decimals. */
static double
demo_round(double v, int decimals)
{
	double	 m = pow(10, decimals);

	return floor(v * m + 0.5) / m;
}

/* Write customer id i as "c" and width zero-padded digits; returns length. */
static size_t
demo_id(char *buf, int width, long long i)
{
	char	 digits[24];
	int	 n = 0;
	size_t	 len = 0;

	do {
		digits[n++] = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0 && n < 20);
	buf[len++] = 'c';
	for (int k = n; k < width; k++)
		buf[len++] = '0';
	while (n > 0)
		buf[len++] = digits[--n];
	buf[len] = '\0';
	return len;
}

/* Parse a positive integer option; 0 or -1. */
static int
demo_parse_count(const char *s, long long max, long long *out)
{
	char		*end;
	long long	 v = strtoll(s, &end, 10);

	if (end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Open DIR/name for writing; logs and returns NULL on failure. */
static struct cmd_out *
demo_open(const char *dir, const char *name, char **path)
{
	struct cmd_out	*o;
	char		*cause = NULL;

	if ((*path = str_printf("%s/%s", dir, name)) == NULL)
		return NULL;
	if ((o = cmd_out_open(*path, &cause)) == NULL) {
		cmd_log("demo-data", "%s", cause);
		free(cause);
	}
	return o;
}

/* Close a file, report it, and free its path; 0 or -1. */
static int
demo_close(struct cmd_out *o, char *path, uint64_t rows, double t0)
{
	char	*cause = NULL;
	int	 rc = cmd_out_close(o, &cause);

	if (rc != 0) {
		cmd_log("demo-data", "%s", cause);
		free(cause);
	} else
		cmd_log("demo-data", "wrote %s: %llu rows, %.2fs", path,
		    (unsigned long long)rows, clock_mono_s() - t0);
	free(path);
	return rc;
}

/* Order contacts by time, then customer, then offer (a replayable log). */
static int
demo_contact_cmp(const void *a, const void *b)
{
	const struct demo_contact *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->customer != y->customer)
		return x->customer < y->customer ? -1 : 1;
	return (int)x->offer - (int)y->offer;
}

/* Usage line. */
static int
demo_usage(void)
{
	fprintf(stderr, "usage: pacer demo-data --customers N --offers M --seed S "
	    "--out DIR [--now UNIX] [-c FILE]\n");
	return CMD_BAD_INPUT;
}

/* What a demo-data run makes, and what one file leaves for the next. */
struct demo {
	const char		*out;
	char			 chname[DEMO_MAX_CH][CONF_NAME_MAX];
	int			 nch, ncampaigns, idwidth;
	long long		 ncust, noffers, seed, now;
	struct demo_offer	*offers;	/* noffers */
	uint8_t			*consent;	/* per customer: bit per channel */
	float			*affinity;	/* per customer: responsiveness */
	struct cmd_progress	 prog;
	double			 t0;
};

/*
 * The options into d (channels from --config, else email, sms, push);
 * 0, or the exit status after saying what is wrong.
 */
static int
demo_args(int argc, char **argv, struct demo *d)
{
	static const struct option longopts[] = {
		{ "customers", required_argument, NULL, 'n' },
		{ "offers", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "now", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*conf_path = NULL;
	struct conf	*conf;
	char		*cause = NULL, *end;
	int		 ch, have_seed = 0;

	d->nch = 3;
	strcpy(d->chname[0], "email");
	strcpy(d->chname[1], "sms");
	strcpy(d->chname[2], "push");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (demo_parse_count(optarg, 100000000, &d->ncust) != 0) {
				cmd_log("demo-data", "--customers: want 1..1e8");
				return CMD_BAD_INPUT;
			}
			break;
		case 'm':
			if (demo_parse_count(optarg, 60000, &d->noffers) != 0) {
				cmd_log("demo-data", "--offers: want 1..60000");
				return CMD_BAD_INPUT;
			}
			break;
		case 's':
			d->seed = strtoll(optarg, &end, 10);
			if (end == optarg || *end != '\0') {
				cmd_log("demo-data", "--seed: want an integer");
				return CMD_BAD_INPUT;
			}
			have_seed = 1;
			break;
		case 'o':
			d->out = optarg;
			break;
		case 't':
			if (demo_parse_count(optarg, 1LL << 40, &d->now) != 0) {
				cmd_log("demo-data", "--now: want unix seconds");
				return CMD_BAD_INPUT;
			}
			break;
		case 'c':
			conf_path = optarg;
			break;
		default:
			return demo_usage();
		}
	}
	if (optind != argc || d->ncust == 0 || d->noffers == 0 || !have_seed ||
	    d->out == NULL)
		return demo_usage();
	if (conf_path == NULL)
		return 0;
	/* Use the configured channels instead of email, sms, push. */
	if ((conf = conf_load(conf_path, &cause)) == NULL) {
		cmd_log("demo-data", "%s", cause);
		free(cause);
		return CMD_BAD_INPUT;
	}
	d->nch = conf->nchannels;
	for (int i = 0; i < d->nch; i++)
		snprintf(d->chname[i], sizeof d->chname[i], "%s",
		    conf->channels[i].name);
	conf_free(conf);
	if (d->nch == 0) {
		cmd_log("demo-data", "%s: no channels configured", conf_path);
		return CMD_BAD_INPUT;
	}
	return 0;
}

/* Draw offer i's channel, value, cost, limits into of; its CSV line. */
static void
demo_offer_make(struct demo *d, struct demo_rng *rng, int i,
    struct demo_offer *of, char *line, size_t len)
{
	double	 u = demo_uniform(rng), budget = -1;
	long	 capacity = -1;
	int	 n, nch = d->nch;

	of->campaign = i % d->ncampaigns;
	/* Half email, a quarter each on the other channels. */
	of->channel = nch == 1 ? 0 : u < 0.5 ? 0 : 1 + (int)((u - 0.5) * 2 *
	    (nch - 1));
	if (of->channel >= nch)
		of->channel = nch - 1;
	snprintf(of->name, sizeof of->name, "%.20s_%.20s%d",
	    demo_campaigns[of->campaign].campaign, d->chname[of->channel],
	    (i / d->ncampaigns + 1) % 100000);
	of->value = demo_round(demo_between(rng,
	    demo_campaigns[of->campaign].vmin,
	    demo_campaigns[of->campaign].vmax), 0);
	if (!strcmp(d->chname[of->channel], "sms"))
		of->cost = demo_round(demo_between(rng, 0.04, 0.08), 3);
	else if (!strcmp(d->chname[of->channel], "push"))
		of->cost = demo_round(demo_between(rng, 0.0005, 0.002), 4);
	else
		of->cost = demo_round(demo_between(rng, 0.005, 0.02), 3);
	/* Low-value offers get answered more often. */
	of->mean = demo_between(rng, 0.01, 0.04) *
	    (of->value < 20 ? 3.0 : of->value < 80 ? 1.5 : 1.0);
	of->eligible = demo_between(rng, 0.3, 0.7);
	/*
	 * Budgets that bind: enough for a few percent of the customers,
	 * while an offer could win up to a tenth of them unconstrained.
	 */
	if (demo_uniform(rng) < 0.85) {
		budget = demo_round(of->cost * (double)d->ncust *
		    demo_between(rng, 0.004, 0.03), 2);
		if (budget < 0.01)
			budget = 0.01;
	}
	if (demo_uniform(rng) < 0.25) {
		capacity = (long)((double)d->ncust * demo_between(rng, 0.005,
		    0.04));
		if (capacity < 1)
			capacity = 1;
	}
	n = snprintf(line, len, "%s,%s,%s,%s,%g,%g,", of->name,
	    d->chname[of->channel], demo_campaigns[of->campaign].campaign,
	    demo_campaigns[of->campaign].category, of->value, of->cost);
	if (budget >= 0)
		n += snprintf(line + n, len - (size_t)n, "%.2f", budget);
	line[n++] = ',';
	if (capacity >= 0)
		snprintf(line + n, len - (size_t)n, "%ld", capacity);
	else
		line[n] = '\0';
}

/* offers.csv; the offers stay in d for the other files. 0 or -1. */
static int
demo_write_offers(struct demo *d)
{
	struct demo_rng	 rng;
	struct cmd_out	*o;
	char		*path = NULL, line[256];

	demo_seed(&rng, (uint64_t)d->seed, 1);
	if ((d->offers = calloc((size_t)d->noffers, sizeof *d->offers)) == NULL) {
		cmd_log("demo-data", "out of memory");
		return -1;
	}
	if ((o = demo_open(d->out, "offers.csv", &path)) == NULL)
		return -1;
	cmd_out_str(o, "offer,channel,campaign,category,value,cost,budget,capacity\n");
	for (int i = 0; i < d->noffers; i++) {
		demo_offer_make(d, &rng, i, &d->offers[i], line, sizeof line);
		cmd_out_str(o, line);
		cmd_out_char(o, '\n');
	}
	return demo_close(o, path, (uint64_t)d->noffers, d->t0);
}

/* profiles.csv; consent and affinity stay in d for the others. 0 or -1. */
static int
demo_write_profiles(struct demo *d)
{
	static const double consent_share[] = { 0.85, 0.6, 0.5 };
	struct demo_rng	 rng;
	struct cmd_out	*o;
	char		*path = NULL, idbuf[40];
	double		 t = clock_mono_s();
	int		 zone_total = 0;

	demo_seed(&rng, (uint64_t)d->seed, 2);
	if ((d->consent = calloc((size_t)d->ncust, 1)) == NULL ||
	    (d->affinity = calloc((size_t)d->ncust, sizeof *d->affinity)) == NULL) {
		cmd_log("demo-data", "out of memory");
		return -1;
	}
	for (int z = 0; z < DEMO_NZONES; z++)
		zone_total += demo_zones[z].weight;
	if ((o = demo_open(d->out, "profiles.csv", &path)) == NULL)
		return -1;
	cmd_out_str(o, "customer,tz,segments");
	for (int c = 0; c < d->nch; c++) {
		cmd_out_char(o, ',');
		cmd_out_str(o, d->chname[c]);
	}
	cmd_out_char(o, '\n');
	for (long long i = 0; i < d->ncust; i++) {
		int	 w = (int)(demo_uniform(&rng) * zone_total), z, nseg = 0;
		double	 u;

		demo_id(idbuf, d->idwidth, i);
		for (z = 0; z < DEMO_NZONES - 1 && w >= demo_zones[z].weight; z++)
			w -= demo_zones[z].weight;
		cmd_out_str(o, idbuf);
		cmd_out_char(o, ',');
		cmd_out_str(o, demo_zones[z].zone);
		cmd_out_char(o, ',');
		if (demo_uniform(&rng) < 0.12) {
			cmd_out_str(o, "premium");
			nseg++;
		}
		if (demo_uniform(&rng) < 0.07) {
			cmd_out_str(o, nseg++ ? ";student" : "student");
		}
		if (demo_uniform(&rng) < 0.03)
			cmd_out_str(o, nseg++ ? ";vulnerable" : "vulnerable");
		/* About 4% have consented to nothing. */
		u = demo_uniform(&rng);
		for (int c = 0; c < d->nch; c++) {
			double	 share = c < 3 ? consent_share[c] : 0.5;
			int	 yes = u >= 0.04 && demo_uniform(&rng) < share;

			d->consent[i] |= (uint8_t)(yes << (c & 7));
			cmd_out_str(o, yes ? ",1" : ",0");
		}
		cmd_out_char(o, '\n');
		/* How responsive the customer is, lognormal around 1. */
		d->affinity[i] = (float)exp(0.6 * demo_normal(&rng) - 0.18);
		if (cmd_progress_due(&d->prog))
			cmd_progress_line(&d->prog, "demo-data", "profiles",
			    (uint64_t)i, (uint64_t)d->ncust);
	}
	return demo_close(o, path, (uint64_t)d->ncust, t);
}

/* scores.csv: about half the pairs, skewed (exponential) propensities. */
static int
demo_write_scores(struct demo *d)
{
	struct demo_rng	 rng;
	struct cmd_out	*o;
	char		*path = NULL, idbuf[40];
	double		 t = clock_mono_s();
	uint64_t	 rows = 0;

	d->prog.start = 0;
	demo_seed(&rng, (uint64_t)d->seed, 3);
	if ((o = demo_open(d->out, "scores.csv", &path)) == NULL)
		return -1;
	cmd_out_str(o, "customer,offer,propensity\n");
	for (long long i = 0; i < d->ncust; i++) {
		size_t	 idlen = demo_id(idbuf, d->idwidth, i);

		for (int k = 0; k < d->noffers; k++) {
			const struct demo_offer	*of = &d->offers[k];
			uint64_t		 bits = demo_next(&rng);
			double			 p;

			if ((double)(bits >> 40) * 0x1.0p-24 >= of->eligible)
				continue;
			/* -log(u) with u from the low bits: Exp(1). */
			p = -log(((double)(bits & 0xffffffffffULL) + 0.5) * 0x1.0p-40) *
			    of->mean * d->affinity[i];
			if (p > 0.95)
				p = 0.95;
			cmd_out_put(o, idbuf, idlen);
			cmd_out_char(o, ',');
			cmd_out_str(o, of->name);
			cmd_out_char(o, ',');
			cmd_out_fixed(o, p, 4);
			cmd_out_char(o, '\n');
			rows++;
		}
		if ((i & 1023) == 0 && cmd_progress_due(&d->prog))
			cmd_progress_line(&d->prog, "demo-data", "scores: customers",
			    (uint64_t)i, (uint64_t)d->ncust);
	}
	return demo_close(o, path, rows, t);
}

/*
 * The contacts of the last seven days, some customers already saturated,
 * by time: *contacts (caller frees) and *n. 0, or -1 out of memory.
 */
static int
demo_draw_contacts(struct demo *d, struct demo_contact **contacts, size_t *n)
{
	static const int contacts_weight[] = { 40, 22, 14, 10, 7, 4, 3 };
	struct demo_rng	 rng;
	size_t		 cap = 0;

	demo_seed(&rng, (uint64_t)d->seed, 4);
	for (long long i = 0; i < d->ncust; i++) {
		int	 w = (int)(demo_uniform(&rng) * 100), k;

		for (k = 0; k < 6 && w >= contacts_weight[k]; k++)
			w -= contacts_weight[k];
		if (d->consent[i] == 0)
			continue;
		for (int j = 0; j < k; j++) {
			int	 of = -1;

			/* An offer on a channel the customer accepts. */
			for (int tries = 0; tries < 8 && of < 0; tries++) {
				int	 cand = (int)(demo_uniform(&rng) *
				    (double)d->noffers);

				if (d->consent[i] & (1u << (d->offers[cand].channel & 7)))
					of = cand;
			}
			if (of < 0)
				continue;
			if (*n == cap) {
				void	*p;

				cap = cap ? cap * 2 : 4096;
				if ((p = realloc(*contacts, cap * sizeof **contacts)) ==
				    NULL)
					return -1;
				*contacts = p;
			}
			/* Recent contacts are more likely: u^1.5 leans to now. */
			(*contacts)[*n].time = d->now - 1 -
			    (int64_t)(pow(demo_uniform(&rng), 1.5) * 7 * DEMO_DAY);
			(*contacts)[*n].customer = (uint32_t)i;
			(*contacts)[*n].offer = (uint16_t)of;
			(*n)++;
		}
	}
	if (*n > 0)
		qsort(*contacts, *n, sizeof **contacts, demo_contact_cmp);
	return 0;
}

/* contacts.csv. 0 or -1. */
static int
demo_write_contacts(struct demo *d)
{
	struct demo_contact	*contacts = NULL;
	struct cmd_out		*o;
	char			*path = NULL, idbuf[40];
	double			 t = clock_mono_s();
	size_t			 n = 0;
	int			 rc = -1;

	if (demo_draw_contacts(d, &contacts, &n) != 0) {
		cmd_log("demo-data", "out of memory");
		goto done;
	}
	if ((o = demo_open(d->out, "contacts.csv", &path)) == NULL)
		goto done;
	cmd_out_str(o, "time,customer,channel,campaign,offer\n");
	for (size_t i = 0; i < n; i++) {
		const struct demo_offer *of = &d->offers[contacts[i].offer];

		demo_id(idbuf, d->idwidth, (long long)contacts[i].customer);
		cmd_out_u64(o, (uint64_t)contacts[i].time);
		cmd_out_char(o, ',');
		cmd_out_str(o, idbuf);
		cmd_out_char(o, ',');
		cmd_out_str(o, d->chname[of->channel]);
		cmd_out_char(o, ',');
		cmd_out_str(o, demo_campaigns[of->campaign].campaign);
		cmd_out_char(o, ',');
		cmd_out_str(o, of->name);
		cmd_out_char(o, '\n');
	}
	rc = demo_close(o, path, n, t);
done:
	free(contacts);
	return rc;
}

int
cmd_demo_data(int argc, char **argv)
{
	struct demo	 d;
	char		*cause = NULL;
	int		 rc;

	memset(&d, 0, sizeof d);
	d.t0 = clock_mono_s();
	if ((rc = demo_args(argc, argv, &d)) != 0)
		return rc;
	if (d.now == 0)	/* the top of the current hour: reruns agree within it */
		d.now = (long long)time(NULL) / 3600 * 3600;
	if (cmd_mkdirs(d.out, &cause) != 0) {
		cmd_log("demo-data", "%s", cause);
		free(cause);
		return CMD_BAD_INPUT;
	}
	cmd_log("demo-data", "customers=%lld offers=%lld seed=%lld now=%lld out=%s",
	    d.ncust, d.noffers, d.seed, d.now, d.out);
	d.idwidth = 6;
	for (long long v = d.ncust - 1; v >= 1000000; v /= 10)
		d.idwidth++;
	d.ncampaigns = (int)((d.noffers + 3) / 4);
	if (d.ncampaigns < 2)
		d.ncampaigns = d.noffers > 1 ? 2 : 1;
	if (d.ncampaigns > DEMO_NCAMPAIGNS)
		d.ncampaigns = DEMO_NCAMPAIGNS;
	rc = demo_write_offers(&d) == 0 && demo_write_profiles(&d) == 0 &&
	    demo_write_scores(&d) == 0 && demo_write_contacts(&d) == 0 ?
	    CMD_OK : CMD_BAD_INPUT;
	if (rc == CMD_OK)
		cmd_log("demo-data", "done in %.2fs", clock_mono_s() - d.t0);
	free(d.offers);
	free(d.consent);
	free(d.affinity);
	return rc;
}
