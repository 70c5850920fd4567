/*
 * The running configuration: the parsed config, the offer catalogue and the
 * compiled script arguments of every channel, swapped as one on reload.
 * Requests hold a reference, so a reload never pulls rules from under a
 * decision in flight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacerd.h"

struct pacerd_rules *
pacerd_rules_new(struct conf *conf, char **cause)
{
	struct pacerd_rules	*r;

	if ((r = calloc(1, sizeof *r)) == NULL) {
		conf_free(conf);
		*cause = strdup("out of memory");
		return NULL;
	}
	r->conf = conf;
	r->refs = 1;
	/* A missing file is named with the config line that points at it. */
	if (conf->optimizer.offers != NULL &&
	    (conf_check_file(conf, "optimizer", "offers", cause) != 0 ||
	    (r->offers = offers_load(conf->optimizer.offers, conf, cause)) == NULL))
		goto fail;
	if (conf->server.tokens_file != NULL &&
	    (conf_check_file(conf, "server", "tokens_file", cause) != 0 ||
	    (r->auth = auth_load(conf->server.tokens_file, cause)) == NULL))
		goto fail;
	/* Certificates are checked at start, by -t and on every reload. */
	if (tls_ctx_new(conf, &r->tls, cause) != 0)
		goto fail;
	for (int ch = 0; ch < conf->nchannels; ch++)
		for (int k = 0; k < 2; k++)
			decide_program_build(conf, ch, k, &r->program[ch][k]);
	if (r->offers != NULL) {
		if ((r->suppress = calloc((size_t)r->offers->n + 1,
		    sizeof *r->suppress)) == NULL)
			goto nomem;
		for (int i = 0; i < r->offers->n; i++)
			if ((r->suppress[i] = decide_suppress_build(conf,
			    r->offers->offer[i].category)) == NULL)
				goto nomem;
	}
	return r;
nomem:
	*cause = strdup("out of memory");
fail:
	pacerd_rules_unref(r);
	return NULL;
}

struct pacerd_rules *
pacerd_rules_ref(struct pacerd *d)
{
	d->rules->refs++;
	return d->rules;
}

void
pacerd_rules_unref(struct pacerd_rules *r)
{
	if (r == NULL || --r->refs > 0)
		return;
	if (r->suppress != NULL)
		for (int i = 0; i < r->offers->n; i++)
			free(r->suppress[i]);
	free(r->suppress);
	conf_free(r->conf);
	offers_free(r->offers);
	auth_free(r->auth);
	tls_ctx_free(r->tls);
	free(r);
}

int
pacerd_reload(struct pacerd *d, char **cause)
{
	struct conf		*conf;
	struct pacerd_rules	*r, *old = d->rules;
	const char		*key;

	if ((conf = conf_load(d->conf_path, cause)) == NULL)
		return -1;
	/* Where Redis lives and where we listen need a restart. */
	if ((key = conf_restart_key(conf, old->conf)) != NULL)
		log_warn("reload: this key needs a restart; kept the running value",
		    "key=%s file=%s", key, d->conf_path);
	conf_keep_restart_keys(conf, old->conf, cause);
	if (*cause != NULL) {
		conf_free(conf);
		return -1;
	}
	if ((r = pacerd_rules_new(conf, cause)) == NULL)
		return -1;
	d->rules = r;
	store_set_timeout(d->store, r->conf->redis.timeout_ms);
	pacerd_rules_unref(old);
	return 0;
}

int
pacerd_reload_by(struct pacerd *d, const char *by, char **cause)
{
	if (pacerd_reload(d, cause) != 0) {
		metrics_reload(d->metrics, 0);
		log_warn("reload failed, the running config stays", "error=\"%s\" "
		    "by=%s", *cause, by);
		return -1;
	}
	metrics_reload(d->metrics, 1);
	optimize_job_reschedule(d);
	log_info("config reloaded", "file=%s", d->conf_path);
	log_audit("admin action", "action=reload by=%s file=%s", by, d->conf_path);
	return 0;
}

void
pacerd_rule_text(const char *desc, const char *channel, int shadow, char *buf,
    size_t len)
{
	char		 scope = desc[0], seg[CONF_NAME_MAX] = "", dur[32];
	long long	 limit = 0, window = 0;

	if (sscanf(desc, "%*c:%lld:%lld:%63s", &limit, &window, seg) < 2) {
		snprintf(buf, len, "%s", desc);
		return;
	}
	conf_format_duration(window, dur, sizeof dur);
	if (scope == 'k')	/* a category's cap: its name in seg's place */
		snprintf(buf, len, "%scategory %s %lld/%s", shadow ? "shadow " : "",
		    seg, limit, dur);
	else if (seg[0] != '\0')
		snprintf(buf, len, "%ssegment %s %lld/%s", shadow ? "shadow " : "",
		    seg, limit, dur);
	else if (scope == 'c')
		snprintf(buf, len, "%s%s %lld/%s", shadow ? "shadow " : "", channel,
		    limit, dur);
	else if (scope == 'a')
		snprintf(buf, len, "%sall %lld/%s", shadow ? "shadow " : "", limit, dur);
	else if (scope == 'C')	/* the customer's own caps */
		snprintf(buf, len, "customer %s %lld/%s", channel, limit, dur);
	else if (scope == 'A')
		snprintf(buf, len, "customer all %lld/%s", limit, dur);
	else
		snprintf(buf, len, "%scampaign %lld/%s", shadow ? "shadow " : "", limit,
		    dur);
}
