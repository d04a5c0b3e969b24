# Fakes of the unit tests: test_NAME_WRAP lists the symbols that
# tests/unit/test_NAME.c replaces with __wrap_SYM (calling __real_SYM for
# the original), linked with -Wl,--wrap=SYM.  One line per test.

# proto_buf must wipe every block before it gives it back.
test_proto_WRAP := free

# The hasher client's tests hand it a fake hasher on a socket pair (and
# call the real hasher_spawn() for the test against warden-hasher).
test_hasher_client_WRAP := hasher_spawn

# The problem builders are checked on what they would send: the reply and
# header setters of http/request.c are recorded instead.
test_problem_WRAP := http_reply_raw http_set_header http_no_store

# A refused registration must wipe the password in the tree it frees.
test_register_WRAP := cJSON_Delete http_reply_raw http_set_header \
	http_no_store http_req_content_type_is

# A registration asks whether its names are taken before it hashes: the
# look-up and the hasher are fakes that keep what they were asked.
test_register_WRAP += users_taken hc_hash limits_charge http_req_answered
