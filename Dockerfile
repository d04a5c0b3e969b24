# warden: wardend, warden-hasher and wardenctl on Debian 12.
#
#   docker build -t warden .
#   docker volume create warden-keys
#   docker run --rm -v warden-keys:/etc/warden/keys warden wardenctl keygen
#   docker run -d -p 8080:8080 -v warden-keys:/etc/warden/keys \
#       -e DATABASE_URL='postgresql://warden@db/warden' warden
#   docker run --rm -it -v warden-keys:/etc/warden/keys -e DATABASE_URL=... \
#       warden wardenctl create-admin root root@example.com
#
# Configured by the environment: every warden.conf keyword as WARDEN_<KEYWORD>
# (WARDEN_ISSUER, WARDEN_TRUSTED_PROXIES, ...) and DATABASE_URL; or mount a
# file at /etc/warden/warden.conf.  wardend reads that file again as the
# user warden on every reload (SIGHUP), so it must be readable by the
# image's warden group (`docker run --rm warden id warden`) and, since it
# holds the database URL, by nobody else: mode 0640, owned by root and that
# gid.  A root-only file lets wardend start but makes every reload keep the
# old configuration.  The keys live in the volume at /etc/warden/keys,
# never in the image.
#
# Privileges: the container starts as root, as wardend does on a host, and
# no process serves as root.  Before serving, wardend starts warden-hasher,
# which reads the keys (root-owned, mode 0600), chroots into the empty
# /var/empty and drops to the user warden-hasher; wardend then binds,
# migrates and drops to the user warden.  This keeps the two processes
# under different uids, so the network-facing one cannot read the hasher's
# memory or key files.  It needs Docker's default capabilities SETUID,
# SETGID and SYS_CHROOT (with --cap-drop=ALL add those three back).
# Running the whole container as a non-root user (--user warden, keys owned
# by that user) also works, but then both processes share one uid and the
# hasher can only rely on no_new_privs, Landlock and seccomp.

# ---- build ------------------------------------------------------------------
FROM debian:bookworm-slim AS build

# The build half of scripts/deps' run list.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
	make gcc libc6-dev pkg-config \
	libevent-dev libpq-dev libsodium-dev libcjson-dev libbsd-dev \
	libseccomp-dev libcrypt-dev liboath-dev libqrencode-dev \
	libcurl4-openssl-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN make -j"$(nproc)" install DESTDIR=/out PREFIX=/usr sysconfdir=/etc \
	libexecdir=/usr/libexec/warden

# ---- run --------------------------------------------------------------------
FROM debian:bookworm-slim

# Only the shared libraries the three programs link (libcurl is wardend's
# SMTP client, libssl3's libcrypto the hasher's PBKDF2 for imported
# hashes), and john-data for the password blocklist
# (/usr/share/john/password.lst).  No compiler, no HTTP client program:
# the health check below uses the image's own bash.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
	libevent-2.1-7 libpq5 libsodium23 libcjson1 libbsd0 libseccomp2 \
	libcrypt1 liboath0 libqrencode4 libcurl4 libssl3 john-data \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin warden \
 && useradd --system --user-group --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin warden-hasher \
 && install -d -m 0755 -o root -g root /var/empty \
 && install -d -m 0700 -o root -g root /etc/warden/keys

COPY --from=build /out/usr/sbin/ /usr/sbin/
COPY --from=build /out/usr/libexec/warden/ /usr/libexec/warden/
COPY --from=build /out/etc/warden/ /etc/warden/

ENV WARDEN_LISTEN=0.0.0.0:8080 \
    WARDEN_KEY_DIR=/etc/warden/keys \
    WARDEN_HASHER_CHROOT=/var/empty

VOLUME ["/etc/warden/keys"]
EXPOSE 8080

# /healthz answers 200 while wardend runs.  bash's /dev/tcp, tr, sed, head
# and grep are already in the base image: the curl program would add a
# package, busybox another megabyte, for one request.  It asks the first
# TCP address in WARDEN_LISTEN (0.0.0.0 as 127.0.0.1, [::] as ::1), so that
# a container given another WARDEN_LISTEN (another port; 127.0.0.1 under
# --network host) is still checked; without one (or with unix: sockets
# only) it asks 127.0.0.1:8080.  No ${...} in it: Dockerfile linters read
# those as build variables.  The first probe comes after one interval, time
# enough for the migrations at start.
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
	CMD ["bash", "-c", "t=$({ tr ', \\t' '\\n\\n\\n' <<<$WARDEN_LISTEN | grep -v -e '^unix:' -e '^$'; echo 0.0.0.0:8080; } | head -n 1); h=$(sed 's/:[^:]*$//; s/^\\[//; s/]$//; s/^0\\.0\\.0\\.0$//; s/^::$/::1/; s/^$/127.0.0.1/' <<<$t); exec 3<>/dev/tcp/$h/$(sed 's/.*://' <<<$t) && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# A command, not an entry point, so that `docker run IMAGE wardenctl ...` works.
STOPSIGNAL SIGTERM
CMD ["/usr/sbin/wardend"]
