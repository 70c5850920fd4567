/*
 * The offer catalogue (offers.csv, SPEC section 4), shared by pacerd (to
 * validate requests and find an offer's category) and the optimizer.
 */
#ifndef PACER_OFFERS_H
#define PACER_OFFERS_H

#include "pacer/conf.h"

struct offer {
	char	 name[CONF_NAME_MAX];
	int	 channel;		/* index into conf->channels */
	int	 campaign;		/* index into offers->campaigns */
	char	 category[CONF_NAME_MAX];
	double	 value;			/* margin if the customer responds */
	double	 cost;			/* cost of one send */
	double	 budget;		/* total spend allowed, < 0: none */
	long	 capacity;		/* most sends, < 0: none */
};

struct offers {
	struct offer	*offer;
	int		 n;
	char		(*campaign)[CONF_NAME_MAX];	/* distinct campaign names */
	int		 ncampaigns;
};

/* offers.c */
/*
 * Read offers.csv; every channel must be configured in conf. Returns a new
 * catalogue (caller frees with offers_free) or NULL with *cause naming
 * file, line and field (caller frees).
 */
struct offers	*offers_load(const char *path, const struct conf *conf, char **cause);
/* Free; accepts NULL. */
void		 offers_free(struct offers *);
/* Index of the offer called name, or -1. */
int		 offers_find(const struct offers *, const char *name);
/* Index of the campaign called name, or -1. */
int		 offers_campaign(const struct offers *, const char *name);

#endif /* PACER_OFFERS_H */
