/*
 * A customer's packed contact history (field h of the profile hash,
 * pacer/keys.h) as the rule engine's contacts, for pacer optimize.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "pacer/conf.h"
#include "pacer/keys.h"
#include "pacer/offers.h"
#include "pacer/rules.h"

#include "cmd.h"

/* Copy n bytes of s into a name buffer; 0, or -1 when they cannot fit. */
static int
history_name(char name[CONF_NAME_MAX], const char *s, size_t n)
{
	if (n >= CONF_NAME_MAX)
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	return 0;
}

int
cmd_history_contacts(const char *h, size_t len, const struct conf *conf,
    const struct offers *offers, int64_t from, int64_t to,
    struct rules_contact *out, int max)
{
	struct keys_contact	 c;
	size_t			 pos = 0;
	char			 name[CONF_NAME_MAX];
	int			 n = 0, rc;

	/*
	 * Read to the end even when out is full: every entry is checked and
	 * counted, so the caller can make room for all and read again.
	 */
	while ((rc = keys_history_next(h, len, &pos, &c)) == 1) {
		if (c.time <= from || c.time > to)
			continue;
		if (n >= max) {
			n += n < INT_MAX;
			continue;
		}
		/* A channel or campaign no longer configured counts only
		   under the caps that take every contact. */
		out[n].channel = history_name(name, c.channel, c.channel_len) == 0 ?
		    conf_channel_index(conf, name) : -1;
		out[n].campaign = c.campaign_len > 0 && history_name(name,
		    c.campaign, c.campaign_len) == 0 ?
		    offers_campaign(offers, name) : -1;
		out[n].category = c.category_len > 0 && history_name(name,
		    c.category, c.category_len) == 0 ?
		    conf_category_index(conf, name) : -1;
		out[n].time = c.time;
		n++;
	}
	return rc < 0 ? -1 : n;
}
