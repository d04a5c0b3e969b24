#include <string.h>

#include <sodium.h>

#include "config.h"
#include "mail/transport.h"
#include "mail_link.h"
#include "util.h"

bool
mail_link_mail_on(const struct cfg *cfg)
{
	return mail_transport_enabled(cfg->mail_transport);
}

bool
mail_link_verifies(const struct cfg *cfg)
{
	return cfg->email_verification != CFG_EMAIL_VERIFICATION_OFF &&
	    mail_link_mail_on(cfg);
}

void
mail_link_words(char *buf, size_t len, int64_t s)
{
	static const struct { int64_t secs; const char *one; } units[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
		{ 1, "second" },
	};
	size_t	 i;
	int64_t	 n;

	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (s >= units[i].secs && s % units[i].secs == 0)
			break;
	n = s / units[i].secs;
	str_printf(buf, len, "%lld %s%s", (long long)n, units[i].one,
	    n == 1 ? "" : "s");
}

int
mail_link_make(struct mail_link *l, const struct cfg *cfg,
    enum links_purpose purpose, int64_t ttl)
{
	const char *page = purpose == LINKS_PASSWORD_RESET ?
	    "reset-password" : "verify-email";

	memset(l, 0, sizeof(*l));
	if (secret_token_new(l->token, l->hash) == -1 ||
	    str_printf(l->url, sizeof(l->url), "%s/ui/%s?token=%s",
	    cfg->public_url, page, l->token) == -1) {
		mail_link_wipe(l);
		return -1;
	}
	mail_link_words(l->expires_in, sizeof(l->expires_in), ttl);
	l->mail.hash = l->hash;
	l->mail.link = l->url;
	l->mail.ttl = ttl;
	l->mail.expires_in = l->expires_in;
	return 0;
}

void
mail_link_wipe(struct mail_link *l)
{
	sodium_memzero(l, sizeof(*l));
}
