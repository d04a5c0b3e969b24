"""The hasher protocol of common/proto.h, spoken from Python, as freely as
a compromised wardend would: every encoder takes raw values and lets the
caller break any rule (lengths, counts, reserved bits, types).

A frame is a 12-byte header (u32 payload length, u32 request id, u16 type,
u16 reserved zero; network order) and a payload of u8 / u32 / u32-length-
prefixed fields."""

import struct

# Bounds, as common/proto.h and common/fields.h spell them.
HEADER = 12
MAX_PAYLOAD = 64 * 1024 - HEADER
UUID_LEN = 36
PASSWORD_MAX = 1024
STORED_MAX = 512
USERNAME_MAX = 32
ROLE_MAX = 32
ROLES_MAX = 32
JWT_MAX = 4096
KID_MAX = 64
KEYS_MAX = 16
ERRMSG_MAX = 128
SEALED_MAX = 512
TOTP_SECRET_LEN = 32
TOTP_CODE_LEN = 6
RECOVERY_CODES = 10
RECOVERY_CODE_LEN = 10
RECOVERY_INPUT_MAX = 32
RECOVERY_HASH_LEN = 64
CLIENT_ID_MAX = 64
SCOPE_MAX = 512
SID_MAX = 64
RSA_N_LEN = 384
RSA_E_MAX = 8
ASSERTION_CLIENT_MAX = 255
ASSERTION_AUD_MAX = 512
VERSION = 4


def field_max(n):
    return 4 + n


HELLO_LEN = 4
HASH_MIN = 8
HASH_MAX = field_max(UUID_LEN) + field_max(PASSWORD_MAX)
VERIFY_MIN = 12
VERIFY_MAX = HASH_MAX + field_max(STORED_MAX)
SIGN_MIN = 21 + 4 + 4
SIGN_MAX = (field_max(UUID_LEN) + field_max(USERNAME_MAX) + 4 +
            ROLES_MAX * field_max(ROLE_MAX) + 4 + 4 + 1 +
            field_max(CLIENT_ID_MAX) + field_max(SCOPE_MAX))

SIGN_ASSERTION_MIN = 1 + 4 + 1 + 4 + 1
SIGN_ASSERTION_MAX = (1 + field_max(ASSERTION_CLIENT_MAX) +
                      field_max(ASSERTION_AUD_MAX))

TOTP_CHECK_MAX = (field_max(UUID_LEN) + field_max(SEALED_MAX) +
                  field_max(TOTP_CODE_LEN) + 4)

T = dict(HELLO=0x0001, HASH=0x0002, VERIFY=0x0003, SIGN=0x0004,
         PUBKEYS=0x0005, TOTP_NEW=0x0006, TOTP_CHECK=0x0007,
         RECOVERY_NEW=0x0008, RECOVERY_HASH=0x0009, SIGN_ID=0x000a,
         JWT_CHECK=0x000b, SIGN_ASSERTION=0x000c,
         R_HELLO=0x8001, R_HASH=0x8002, R_VERIFY=0x8003,
         R_SIGN=0x8004, R_PUBKEYS=0x8005, R_TOTP_NEW=0x8006,
         R_TOTP_CHECK=0x8007, R_RECOVERY_NEW=0x8008, R_RECOVERY_HASH=0x8009,
         R_SIGN_ID=0x800a, R_JWT_CHECK=0x800b, R_SIGN_ASSERTION=0x800c,
         R_ERROR=0x80ff)
NAME = {v: k for k, v in T.items()}

ERR_INVALID, ERR_INTERNAL, ERR_BUSY = 1, 2, 3


def u32(v):
    return struct.pack(">I", v & 0xffffffff)


def s(b):
    """A string or bytes field: u32 length, then the bytes."""
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def header(type_, length, id_=1, reserved=0):
    t = T[type_] if isinstance(type_, str) else type_
    return struct.pack(">IIHH", length & 0xffffffff, id_ & 0xffffffff,
                       t & 0xffff, reserved & 0xffff)


def frame(type_, payload, id_=1, length=None, reserved=0):
    n = len(payload) if length is None else length
    return header(type_, n, id_, reserved) + payload


# ---- requests (well formed unless the caller makes them otherwise) ----

def hello(version=VERSION, id_=0):
    return frame("HELLO", u32(version), id_)


def hash_req(user_id, password, id_=1):
    return frame("HASH", s(user_id) + s(password), id_)


def verify_req(user_id, password, stored, id_=1):
    return frame("VERIFY", s(user_id) + s(password) + s(stored), id_)


def sign_payload(sub, username, roles, ver, ttl, nroles=None,
                 email_verified=False, aud="", scope=""):
    n = len(roles) if nroles is None else nroles
    return (s(sub) + s(username) + u32(n) + b"".join(s(r) for r in roles) +
            u32(ver) + u32(ttl) + (b"\1" if email_verified else b"\0") +
            s(aud) + s(scope))


def sign_req(sub, username, roles, ver, ttl, id_=1):
    return frame("SIGN", sign_payload(sub, username, roles, ver, ttl), id_)


ALG_EDDSA, ALG_RS256 = 1, 2


def sign_assertion_req(client_id, aud, alg=ALG_EDDSA, id_=1):
    return frame("SIGN_ASSERTION", bytes([alg]) + s(client_id) + s(aud), id_)


def pubkeys_req(id_=1):
    return frame("PUBKEYS", b"", id_)


# ---- answers ----

class Reader:
    def __init__(self, p):
        self.p, self.off = p, 0

    def u8(self):
        v = self.p[self.off]
        self.off += 1
        return v

    def u32(self):
        (v,) = struct.unpack_from(">I", self.p, self.off)
        self.off += 4
        return v

    def bytes(self, bound):
        n = self.u32()
        if n > bound or self.off + n > len(self.p):
            raise ValueError("field of %d bytes past its bound %d" % (n, bound))
        v = self.p[self.off:self.off + n]
        self.off += n
        return v

    def str(self, bound):
        b = self.bytes(bound)
        if b"\0" in b:
            raise ValueError("NUL in a string")
        return b.decode("ascii")

    def end(self):
        if self.off != len(self.p):
            raise ValueError("%d bytes left over" % (len(self.p) - self.off))


def decode(type_, p):
    """Decodes an answer payload strictly, as the front's decoder would."""
    r = Reader(p)
    if type_ == T["R_HELLO"]:
        out = dict(version=r.u32())
    elif type_ == T["R_HASH"]:
        out = dict(stored=r.str(STORED_MAX))
    elif type_ == T["R_VERIFY"]:
        m = r.u8()
        if m not in (0, 1):
            raise ValueError("boolean %d" % m)
        out = dict(match=bool(m), rehash=r.str(STORED_MAX))
    elif type_ == T["R_SIGN"]:
        out = dict(jwt=r.str(JWT_MAX), jti=r.str(UUID_LEN), exp=r.u32())
    elif type_ == T["R_PUBKEYS"]:
        n = r.u32()
        if n > KEYS_MAX:
            raise ValueError("%d keys" % n)
        keys = []
        for _ in range(n):
            kid = r.str(KID_MAX)
            pk = r.bytes(32)
            if len(pk) != 32:
                raise ValueError("public key of %d bytes" % len(pk))
            cur = r.u8()
            if cur not in (0, 1):
                raise ValueError("boolean %d" % cur)
            keys.append(dict(kid=kid, pk=pk, current=bool(cur)))
        n = r.u32()
        if n > KEYS_MAX:
            raise ValueError("%d RSA keys" % n)
        rsa = []
        for _ in range(n):
            kid = r.str(KID_MAX)
            mod = r.bytes(RSA_N_LEN)
            if len(mod) != RSA_N_LEN:
                raise ValueError("RSA modulus of %d bytes" % len(mod))
            e = r.bytes(RSA_E_MAX)
            if not e:
                raise ValueError("empty RSA exponent")
            cur = r.u8()
            if cur not in (0, 1):
                raise ValueError("boolean %d" % cur)
            rsa.append(dict(kid=kid, n=mod, e=e, current=bool(cur)))
        out = dict(keys=keys, rsa=rsa)
    elif type_ == T["R_SIGN_ID"]:
        out = dict(jwt=r.str(JWT_MAX), exp=r.u32())
    elif type_ == T["R_SIGN_ASSERTION"]:
        out = dict(jwt=r.str(JWT_MAX))
    elif type_ == T["R_JWT_CHECK"]:
        v = r.u8()
        if v not in (0, 1):
            raise ValueError("boolean %d" % v)
        out = dict(valid=bool(v), sub=r.str(UUID_LEN), aud=r.str(CLIENT_ID_MAX),
                   sid=r.str(SID_MAX))
    elif type_ == T["R_TOTP_NEW"]:
        out = dict(secret=r.str(TOTP_SECRET_LEN), sealed=r.str(SEALED_MAX))
    elif type_ == T["R_TOTP_CHECK"]:
        m = r.u8()
        if m not in (0, 1):
            raise ValueError("boolean %d" % m)
        out = dict(match=bool(m), step=r.u32())
    elif type_ == T["R_RECOVERY_NEW"]:
        n = r.u32()
        if n > RECOVERY_CODES:
            raise ValueError("%d recovery codes" % n)
        pairs = [(r.str(RECOVERY_CODE_LEN), r.str(RECOVERY_HASH_LEN))
                 for _ in range(n)]
        out = dict(codes=[c for c, _ in pairs], hashes=[h for _, h in pairs])
    elif type_ == T["R_RECOVERY_HASH"]:
        out = dict(hash=r.str(RECOVERY_HASH_LEN))
    elif type_ == T["R_ERROR"]:
        out = dict(code=r.u32(), message=r.str(ERRMSG_MAX))
    else:
        raise ValueError("not an answer type: 0x%04x" % type_)
    r.end()
    return out
