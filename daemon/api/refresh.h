/*
 * The refresh grant of the token endpoint (refresh.c): refresh-token
 * rotation.  The tokens' format is token.h's.
 */
#ifndef WARDEN_REFRESH_H
#define WARDEN_REFRESH_H

struct token_call;

/*
 * The refresh_token grant for t (t->req.refresh presented): answers with
 * a new access token and the next refresh token of the family, spending
 * the presented one (of concurrent refreshes of one token exactly one
 * wins), or with invalid_grant; a spent token presented past the grace
 * window revokes its family.  Takes t: it is freed before the answer.
 */
void	refresh_grant(struct token_call *t);

#endif
