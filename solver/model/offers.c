/*
 * Loading the offer catalogue.
 */
#include <stdlib.h>
#include <string.h>

#include "pacer/csv.h"
#include "pacer/offers.h"
#include "pacer/str.h"

enum { O_OFFER, O_CHANNEL, O_CAMPAIGN, O_CATEGORY, O_VALUE, O_COST, O_BUDGET,
    O_CAPACITY, O_NCOLS };

static const char *const offers_columns[] = { "offer", "channel", "campaign",
    "category", "value", "cost", "budget", "capacity", NULL };

/* Add a campaign name if new; its index or -1. */
static int
offers_add_campaign(struct offers *o, const char *name)
{
	int	 i = offers_campaign(o, name);
	void	*p;

	if (i >= 0)
		return i;
	if ((p = realloc(o->campaign, (size_t)(o->ncampaigns + 1) *
	    sizeof *o->campaign)) == NULL)
		return -1;
	o->campaign = p;
	snprintf(o->campaign[o->ncampaigns], CONF_NAME_MAX, "%s", name);
	return o->ncampaigns++;
}

/*
 * The names of the current row into of: offer (new), channel (configured),
 * campaign (added to o's list) and category. 0, or -1 with *cause.
 */
static int
offers_row_names(struct offers *o, struct csv *c, const int col[O_NCOLS],
    const struct conf *conf, struct offer *of, char **cause)
{
	char	**f = c->field;

	if (!str_valid_id(f[col[O_OFFER]], CONF_NAME_MAX - 1)) {
		*cause = csv_error(c, "offer", "bad offer name \"%s\"",
		    f[col[O_OFFER]]);
		return -1;
	}
	if (offers_find(o, f[col[O_OFFER]]) >= 0) {
		*cause = csv_error(c, "offer", "offer \"%s\" listed twice",
		    f[col[O_OFFER]]);
		return -1;
	}
	snprintf(of->name, sizeof of->name, "%s", f[col[O_OFFER]]);
	if ((of->channel = conf_channel_index(conf, f[col[O_CHANNEL]])) < 0) {
		*cause = csv_error(c, "channel", "channel \"%s\" is not "
		    "configured", f[col[O_CHANNEL]]);
		return -1;
	}
	if (!str_valid_id(f[col[O_CAMPAIGN]], CONF_NAME_MAX - 1)) {
		*cause = csv_error(c, "campaign", "bad campaign name \"%s\"",
		    f[col[O_CAMPAIGN]]);
		return -1;
	}
	if ((of->campaign = offers_add_campaign(o, f[col[O_CAMPAIGN]])) < 0) {
		*cause = strdup("out of memory");
		return -1;
	}
	if (!str_valid_id(f[col[O_CATEGORY]], CONF_NAME_MAX - 1)) {
		*cause = csv_error(c, "category", "bad category \"%s\"",
		    f[col[O_CATEGORY]]);
		return -1;
	}
	snprintf(of->category, sizeof of->category, "%s", f[col[O_CATEGORY]]);
	return 0;
}

/*
 * The numbers of the current row into of: value, cost, and budget and
 * capacity (-1 when empty). 0, or -1 with *cause.
 */
static int
offers_row_numbers(struct csv *c, const int col[O_NCOLS], struct offer *of,
    char **cause)
{
	char		**f = c->field;
	long long	 l;

	if (csv_double(f[col[O_VALUE]], &of->value) != 0 || of->value < 0) {
		*cause = csv_error(c, "value", "\"%s\" is not a number >= 0",
		    f[col[O_VALUE]]);
		return -1;
	}
	if (csv_double(f[col[O_COST]], &of->cost) != 0 || of->cost < 0) {
		*cause = csv_error(c, "cost", "\"%s\" is not a number >= 0",
		    f[col[O_COST]]);
		return -1;
	}
	of->budget = -1;
	if (f[col[O_BUDGET]][0] != '\0' &&
	    (csv_double(f[col[O_BUDGET]], &of->budget) != 0 || of->budget < 0)) {
		*cause = csv_error(c, "budget", "\"%s\" is not empty or a "
		    "number >= 0", f[col[O_BUDGET]]);
		return -1;
	}
	of->capacity = -1;
	if (f[col[O_CAPACITY]][0] != '\0') {
		if (csv_long(f[col[O_CAPACITY]], &l) != 0 || l < 0) {
			*cause = csv_error(c, "capacity", "\"%s\" is not empty "
			    "or a whole number >= 0", f[col[O_CAPACITY]]);
			return -1;
		}
		of->capacity = (long)l;
	}
	return 0;
}

/* Read the offer catalogue at path; see offers.h. */
struct offers *
offers_load(const char *path, const struct conf *conf, char **cause)
{
	struct offers	*o;
	struct csv	*c;
	struct offer	*of;
	int		 col[O_NCOLS], rc, cap = 0;

	if ((c = csv_open(path, cause)) == NULL)
		return NULL;
	if ((o = calloc(1, sizeof *o)) == NULL) {
		*cause = strdup("out of memory");
		csv_close(c);
		return NULL;
	}
	if (csv_require(c, offers_columns, col, cause) != 0)
		goto fail;
	while ((rc = csv_next(c, cause)) == 1) {
		if (o->n == cap) {
			void *p;

			cap = cap ? cap * 2 : 16;
			if ((p = realloc(o->offer, (size_t)cap * sizeof *o->offer)) ==
			    NULL)
				goto oom;
			o->offer = p;
		}
		of = &o->offer[o->n];
		memset(of, 0, sizeof *of);
		if (offers_row_names(o, c, col, conf, of, cause) != 0 ||
		    offers_row_numbers(c, col, of, cause) != 0)
			goto fail;
		o->n++;
	}
	if (rc < 0)
		goto fail;
	if (o->n == 0) {
		*cause = csv_error(c, NULL, "no offers");
		goto fail;
	}
	csv_close(c);
	return o;
oom:
	*cause = strdup("out of memory");
fail:
	csv_close(c);
	offers_free(o);
	return NULL;
}

void
offers_free(struct offers *o)
{
	if (o == NULL)
		return;
	free(o->offer);
	free(o->campaign);
	free(o);
}

int
offers_find(const struct offers *o, const char *name)
{
	for (int i = 0; i < o->n; i++)
		if (!strcmp(o->offer[i].name, name))
			return i;
	return -1;
}

int
offers_campaign(const struct offers *o, const char *name)
{
	for (int i = 0; i < o->ncampaigns; i++)
		if (!strcmp(o->campaign[i], name))
			return i;
	return -1;
}
