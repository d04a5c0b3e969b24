/*
 * libFuzzer target of ctl/import_line.c: one line of a user file.  A line
 * that parses holds only values the API's rules accept, and a hash in a
 * format the hasher knows; the reason for a refusal is short, printable
 * and never quotes the hash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../ctl/import_line.h"
#include "fields.h"
#include "pwformat.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 ready;
	struct import_user	 u;
	char			 why[IMPORT_WHY_MAX];
	size_t			 i;

	if (!ready && (ready = sodium_init() >= 0 ? 1 : 0) == 0)
		abort();
	if (import_line_parse((const char *)data, size, &u, why) == -1) {
		if (why[0] == '\0' || strlen(why) >= IMPORT_WHY_MAX)
			abort();
		for (i = 0; why[i] != '\0'; i++)
			if ((unsigned char)why[i] < 0x20)
				abort();
		return 0;
	}
	if (!field_is_username(u.username) || !field_is_email(u.email) ||
	    pwformat_of(u.password_hash) == PWF_UNKNOWN ||
	    u.format != pwformat_of(u.password_hash) ||
	    (u.id[0] != '\0' && !field_is_uuid(u.id)) ||
	    (u.format == PWF_WARDEN && u.id[0] == '\0') ||
	    (u.full_name != NULL && !field_is_full_name(u.full_name)) ||
	    (u.created_at[0] != '\0' && !import_time_valid(u.created_at)) ||
	    u.nroles > IMPORT_ROLES_MAX)
		abort();
	for (i = 0; i < u.nroles; i++)
		if (!field_is_role(u.roles[i]))
			abort();
	import_user_clear(&u);
	return 0;
}
