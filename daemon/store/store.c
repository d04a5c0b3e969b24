#include "store.h"

const char *
store_status_str(enum store_status st)
{
	switch (st) {
	case STORE_OK:
		return "ok";
	case STORE_NOT_FOUND:
		return "not found";
	case STORE_CONFLICT:
		return "conflict";
	case STORE_REFUSED:
		return "refused";
	case STORE_UNAVAILABLE:
		return "unavailable";
	case STORE_ERROR:
		break;
	}
	return "error";
}
