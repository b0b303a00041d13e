#!/usr/bin/env bash
# dirgate against OpenLDAP's slapd (and its SCIM face against nginx) on this
# machine, same data, same load, in one run (issue 6). Everything listens on
# 127.0.0.1 and lives in a temporary folder that is removed on exit.
#
#   bench/compare.sh                                  # 10,000 accounts, 10 s per run
#   bench/compare.sh --accounts 100000 --seconds 30   # also the memory comparison
#   bench/compare.sh --accounts 500 --seconds 3       # a smoke run
#
# Options: --accounts N (default 10000), --seconds S (per run, default 10),
# --concurrency C (connections, default 8), --keep (leave the folder).
# Installs with apt-get whatever is missing: slapd, ldap-utils, 389-ds-base
# (ldclt), nginx, wrk, argon2, curl. Builds dirgate in release mode (set
# CARGO_TARGET_DIR to use another target folder).
set -euo pipefail

ACCOUNTS=10000
SECS=10
CONC=8
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --accounts) ACCOUNTS=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        --concurrency) CONC=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$ACCOUNTS$SECS$CONC" in *[!0-9]*) echo "compare.sh: numbers only" >&2; exit 2 ;; esac
[ "$ACCOUNTS" -ge 100 ] || { echo "compare.sh: --accounts must be at least 100" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '== %s\n' "$*" >&2; }

# --- what the comparison needs --------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need slapd slapd
need slapadd slapd
need ldapsearch ldap-utils
need ldclt 389-ds-base
need nginx nginx
need wrk wrk
need argon2 argon2
need curl curl
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=
    [ "$(id -u)" = 0 ] || SUDO=sudo
    say "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi
# Debian puts slapd in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
MODULES=/usr/lib/ldap
for m in back_mdb argon2; do
    [ -e "$MODULES/$m.so" ] || MODULES=$(dirname "$(dpkg -L slapd | grep "/$m.so$" | head -1)")
    [ -e "$MODULES/$m.so" ] || { echo "compare.sh: slapd module $m.so not found" >&2; exit 1; }
done

say "building dirgate (release)"
(cd "$ROOT" && cargo build --release --bins --quiet)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
LOAD="$BIN/dirgate-load"

# --- a throwaway folder, and everything stopped on the way out ------------
WORK=$(mktemp -d /tmp/dirgate-compare.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$KEEP" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    local p
    for p in $(shuf -i 20000-59999 -n 100); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    echo "compare.sh: no free port" >&2; exit 1
}
wait_port() { # port pid what
    local i
    for i in $(seq 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { echo "compare.sh: $3 exited; its log:" >&2; cat "$WORK/$3.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "compare.sh: $3 did not listen on $1" >&2; exit 1
}
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

SLAPD_PORT=$(free_port)
DG_LDAP=$(free_port)
DG_HTTPS=$(free_port)
NGINX_PORT=$(free_port)
BASE=dc=example,dc=com
PASSWORD=Bench7Secret
BIND_DN="uid=user00000,ou=people,$BASE"

# --- the data set ---------------------------------------------------------
cat >"$WORK/dirgate.toml" <<EOF
[ldap]
listen = "127.0.0.1:$DG_LDAP"
ldaps_listen = "off"
[http]
https_listen = "127.0.0.1:$DG_HTTPS"
[log]
level = "warn"
[password]
argon2_memory_kib = 19456
argon2_iterations = 2
argon2_parallelism = 1
EOF
say "generating $ACCOUNTS accounts (groups of 50, 1% with a password)"
"$LOAD" seed --accounts "$ACCOUNTS" --config "$WORK/dirgate.toml" --data "$WORK/dirgate" \
    --ldif "$WORK/data.ldif" --bind-file "$WORK/binds.txt" --token-file "$WORK/token"
TOKEN=$(cat "$WORK/token")

# --- slapd: back-mdb, argon2, the four indexes ----------------------------
mkdir -p "$WORK/slapd/db"
cat >"$WORK/slapd/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath $MODULES
moduleload back_mdb
moduleload argon2 m=19456 t=2 p=1
pidfile $WORK/slapd/slapd.pid
argsfile $WORK/slapd/slapd.args
password-hash {ARGON2}
database mdb
maxsize 4294967296
suffix "$BASE"
rootdn "cn=admin,$BASE"
directory $WORK/slapd/db
index objectClass eq
index uid,cn,mail,member eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
EOF
say "loading slapd with slapadd"
slapadd -q -f "$WORK/slapd/slapd.conf" -l "$WORK/data.ldif"
slapd -f "$WORK/slapd/slapd.conf" -h "ldap://127.0.0.1:$SLAPD_PORT/" -d 0 >"$WORK/slapd.log" 2>&1 &
SLAPD_PID=$!
PIDS+=("$SLAPD_PID")

# --- dirgate on the same data ---------------------------------------------
NO_COLOR=1 "$BIN/dirgate" serve --data "$WORK/dirgate" --config "$WORK/dirgate.toml" >"$WORK/dirgate.log" 2>&1 &
DG_PID=$!
PIDS+=("$DG_PID")
wait_port "$SLAPD_PORT" "$SLAPD_PID" slapd
wait_port "$DG_LDAP" "$DG_PID" dirgate
wait_port "$DG_HTTPS" "$DG_PID" dirgate

# Both hold the same entry for the same search.
probe=$(printf 'user%05d' $((ACCOUNTS / 2)))
show() {
    ldapsearch -LLL -x -H "ldap://127.0.0.1:$1" -D "$BIND_DN" -w "$PASSWORD" -b "$BASE" \
        "(uid=$probe)" uid cn sn givenName mail | grep -v '^$' | sort
}
if ! diff <(show "$SLAPD_PORT") <(show "$DG_LDAP") >"$WORK/probe.diff"; then
    echo "compare.sh: slapd and dirgate differ on (uid=$probe):" >&2
    cat "$WORK/probe.diff" >&2
    exit 1
fi

# --- the runs ---------------------------------------------------------------
declare -A R   # R[measure,server] = figure
# dirgate-load: "mode conns ops errors ops/s p50 p99 max"
ours() { # key server url mode [args...]
    local key=$1 server=$2 url=$3 mode=$4 row
    shift 4
    row=$("$LOAD" run "$url" --mode "$mode" --seconds "$SECS" -c "$CONC" --accounts "$ACCOUNTS" "$@" | awk -v m="$mode" '$1 == m')
    [ -n "$row" ] || { echo "compare.sh: dirgate-load $mode against $server printed nothing" >&2; exit 1; }
    read -r _ _ _ errors ops p50 p99 _ <<<"$row"
    [ "$errors" = 0 ] || say "$server $mode: $errors errors"
    R["$key ops,$server"]=$ops
    R["$key p50 ms,$server"]=$p50
    R["$key p99 ms,$server"]=$p99
}
# ldclt samples every 10 s; its closing line is the average over them all.
SAMPLES=$(( (SECS + 9) / 10 ))
theirs() { # key server port [ldclt args...]
    local key=$1 server=$2 port=$3 rate
    shift 3
    rate=$(ldclt -h 127.0.0.1 -p "$port" -n "$CONC" -N "$SAMPLES" "$@" 2>&1 \
        | sed -n 's/.*Global average rate:.*(\s*\([0-9.]*\)\/sec).*/\1/p' | tail -1)
    R["$key,$server"]=${rate:-0}
}

for s in slapd dirgate; do
    if [ "$s" = slapd ]; then port=$SLAPD_PORT; else port=$DG_LDAP; fi
    say "$s: searches and binds (dirgate-load, $CONC connections, $SECS s each)"
    ours "search" "$s" "ldap://127.0.0.1:$port" search
    ours "bind" "$s" "ldap://127.0.0.1:$port" bind
    say "$s: searches while $CONC more connections flood it with binds"
    "$LOAD" run "ldap://127.0.0.1:$port" --mode bind --seconds $((SECS + 2)) -c "$CONC" \
        --accounts "$ACCOUNTS" >/dev/null &
    flood=$!
    PIDS+=("$flood")
    sleep 1
    ours "flooded search" "$s" "ldap://127.0.0.1:$port" search
    wait "$flood" || true
    say "$s: searches and binds (ldclt, $CONC threads, $SAMPLES x 10 s each)"
    theirs "ldclt search ops" "$s" "$port" -D "$BIND_DN" -w "$PASSWORD" -e esearch,random \
        -b "ou=people,$BASE" -f "uid=userXXXXX" -r0 -R$((ACCOUNTS - 1))
    theirs "ldclt bind ops" "$s" "$port" -e bindeach,bindonly,"randombinddnfromfile=$WORK/binds.txt"
done
R["RSS MiB,slapd"]=$(rss_mib "$SLAPD_PID")
R["RSS MiB,dirgate"]=$(rss_mib "$DG_PID")

# --- HTTP: dirgate's filtered GET against nginx's fixed body ---------------
QUERY="/scim/v2/Users?filter=userName%20eq%20%22$probe%22"
mkdir -p "$WORK/www/scim/v2" "$WORK/nginx"
curl -sfk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$DG_HTTPS$QUERY" >"$WORK/www/Users.json"
grep -q '"totalResults":1' "$WORK/www/Users.json" || { echo "compare.sh: dirgate's GET found nothing" >&2; exit 1; }
chmod -R a+rX "$WORK/www"
chmod a+x "$WORK"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $WORK/dirgate/tls/cert.pem;
        ssl_certificate_key $WORK/dirgate/tls/key.pem;
        location = /scim/v2/Users {
            default_type application/scim+json;
            root $WORK/www;
            try_files /Users.json =404;
        }
    }
}
EOF
nginx -e "$WORK/nginx.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' >>"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_port "$NGINX_PORT" "$NGINX_PID" nginx

# wrk --latency: "Requests/sec: N" and "50%  1.23ms", in us, ms or s.
wrk_run() { # server url
    local out
    out=$(wrk -t 2 -c "$CONC" -d "${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$2")
    R["wrk GET ops,$1"]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    for q in 50 99; do
        R["wrk GET p$q ms,$1"]=$(awk -v q="$q%" '$1 == q {
            v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
            printf "%.3f", v * (u == "us" ? 0.001 : u == "s" ? 1000 : 1) }' <<<"$out")
    done
}
for s in nginx dirgate; do
    if [ "$s" = nginx ]; then port=$NGINX_PORT; else port=$DG_HTTPS; fi
    say "$s: GET $QUERY (wrk, $CONC connections, $SECS s)"
    wrk_run "$s" "https://127.0.0.1:$port$QUERY"
    say "$s: SCIM GETs (dirgate-load)"
    ours "SCIM GET" "$s" "https://127.0.0.1:$port/scim/v2" get --insecure --token "$TOKEN"
done
say "dirgate: SCIM creates and member PATCHes (dirgate-load)"
ours "SCIM create" dirgate "https://127.0.0.1:$DG_HTTPS/scim/v2" create --insecure --token "$TOKEN"
ours "SCIM PATCH" dirgate "https://127.0.0.1:$DG_HTTPS/scim/v2" patch --insecure --token "$TOKEN"

# --- the table -------------------------------------------------------------
table() { # other-server measures...
    local other=$1 m a b ratio
    shift
    printf '%-24s %12s %12s %10s\n' measure dirgate "$other" ratio
    for m in "$@"; do
        a=${R["$m,dirgate"]:--} b=${R["$m,$other"]:--}
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a != "-" && b != "-" && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
        printf '%-24s %12s %12s %10s\n' "$m" "$a" "$b" "$ratio"
    done
}
cores=$(nproc)
echo
echo "dirgate $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?') against $(slapd -VV 2>&1 | awk 'NR == 1 { print $3, $4 }') and nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
echo "$ACCOUNTS accounts, $CONC connections, $SECS s per run, $cores cores, argon2id m=19456 t=2 p=1; ratio = dirgate / other"
echo
echo "LDAP (dirgate-load and ldclt), against slapd (back-mdb); \"flooded\": while binds run on $CONC more connections;"
echo "RSS: resident memory after the LDAP runs:"
table slapd "search ops" "search p50 ms" "search p99 ms" "bind ops" "bind p50 ms" "bind p99 ms" \
    "flooded search ops" "flooded search p50 ms" "flooded search p99 ms" \
    "ldclt search ops" "ldclt bind ops" "RSS MiB"
echo
echo "HTTPS GET /Users?filter=userName eq \"$probe\" (wrk and dirgate-load), against nginx's fixed body:"
table nginx "wrk GET ops" "wrk GET p50 ms" "wrk GET p99 ms" "SCIM GET ops" "SCIM GET p50 ms" "SCIM GET p99 ms"
echo
echo "SCIM writes (dirgate only):"
table none "SCIM create ops" "SCIM create p50 ms" "SCIM create p99 ms" "SCIM PATCH ops" "SCIM PATCH p50 ms" "SCIM PATCH p99 ms"
