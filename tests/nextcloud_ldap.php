<?php
// The queries Nextcloud's user_ldap app sends (apps/user_ldap/lib/LDAP.php,
// Access.php), through PHP's ldap extension, for tests/ldap_clients.rs:
// bind as the service account ("agent"), list users and groups with the
// paged results control (ldap_search with controls, as Nextcloud does on
// PHP 7.3+), read memberOf, group members and entryUUID, find the login
// name's DN, and check a password by a second bind on a new connection.
// Settings come from the environment; the result is printed as JSON.

function env_or_die(string $name): string {
    $v = getenv($name);
    if ($v === false) { fwrite(STDERR, "missing $name\n"); exit(2); }
    return $v;
}

$uri = env_or_die('LDAP_URI');
$base = env_or_die('LDAP_BASE');
$group = env_or_die('GROUP');

function connect(string $uri) {
    // As Nextcloud: the CA through the global option, then connect.
    ldap_set_option(null, LDAP_OPT_X_TLS_CACERTFILE, env_or_die('LDAP_CACERT'));
    ldap_set_option(null, LDAP_OPT_X_TLS_REQUIRE_CERT, LDAP_OPT_X_TLS_DEMAND);
    $c = ldap_connect($uri);
    ldap_set_option($c, LDAP_OPT_PROTOCOL_VERSION, 3);
    ldap_set_option($c, LDAP_OPT_REFERRALS, 0);
    ldap_set_option($c, LDAP_OPT_NETWORK_TIMEOUT, 15);
    return $c;
}

function fail($c, string $what) {
    fwrite(STDERR, "$what: " . ldap_errno($c) . ' ' . ldap_error($c) . "\n");
    exit(1);
}

/// A paged search, pages of $size; returns [entries, pages].
function paged($c, string $base, string $filter, array $attrs, int $size): array {
    $cookie = '';
    $entries = [];
    $pages = 0;
    do {
        $controls = [['oid' => LDAP_CONTROL_PAGEDRESULTS, 'value' => ['size' => $size, 'cookie' => $cookie]]];
        $sr = ldap_search($c, $base, $filter, $attrs, 0, -1, -1, LDAP_DEREF_NEVER, $controls);
        if ($sr === false) { fail($c, "paged search $filter"); }
        $errcode = $matcheddn = $errmsg = $referrals = null;
        $ctrls = [];
        ldap_parse_result($c, $sr, $errcode, $matcheddn, $errmsg, $referrals, $ctrls);
        if ($errcode !== 0) { fwrite(STDERR, "paged search: $errcode $errmsg\n"); exit(1); }
        $got = ldap_get_entries($c, $sr);
        for ($i = 0; $i < $got['count']; $i++) { $entries[] = $got[$i]; }
        $pages++;
        $cookie = $ctrls[LDAP_CONTROL_PAGEDRESULTS]['value']['cookie'] ?? '';
        if ($pages > 100) { fwrite(STDERR, "paging does not end\n"); exit(1); }
    } while ($cookie !== '' && $cookie !== null);
    return [$entries, $pages];
}

function values(array $entry, string $attr): array {
    if (!isset($entry[$attr])) { return []; }
    $out = [];
    for ($i = 0; $i < $entry[$attr]['count']; $i++) { $out[] = $entry[$attr][$i]; }
    return $out;
}

$c = connect($uri);
if (!@ldap_bind($c, env_or_die('LDAP_AGENT_DN'), env_or_die('LDAP_AGENT_PASSWORD'))) {
    fail($c, 'agent bind');
}
$result = [];

// Users: Nextcloud's user list (ldapUserFilter, paged).
[$users, $pages] = paged($c, $base, '(&(objectclass=inetOrgPerson))',
    ['dn', 'uid', 'displayname', 'mail', 'memberof', 'entryuuid'], 2);
$result['user_pages'] = $pages;
$result['users'] = array_map(fn($e) => [
    'dn' => $e['dn'],
    'uid' => values($e, 'uid')[0] ?? null,
    'displayname' => values($e, 'displayname')[0] ?? null,
    'memberof' => values($e, 'memberof'),
    'entryuuid' => values($e, 'entryuuid')[0] ?? null,
], $users);

// The login filter (uid or mail, as Nextcloud's wizard offers): the DN of
// the person signing in, found by user name and by email address.
function login_dn($c, string $base, string $login) {
    $e = ldap_escape($login, '', LDAP_ESCAPE_FILTER);
    $sr = ldap_search($c, $base, "(&(objectclass=inetOrgPerson)(|(uid=$e)(mail=$e)))",
        ['dn'], 0, 0, -1, LDAP_DEREF_NEVER);
    if ($sr === false) { fail($c, 'login search'); }
    $found = ldap_get_entries($c, $sr);
    return $found['count'] === 1 ? $found[0]['dn'] : null;
}
$login = env_or_die('LOGIN_USER');
$login_dn = login_dn($c, $base, $login);
$result['login_dn'] = $login_dn;
$result['login_dn_by_mail'] = login_dn($c, $base, env_or_die('LOGIN_MAIL'));

// Access::readAttribute: a base-scope read of one entry.
$rr = ldap_read($c, (string)$login_dn, '(objectClass=*)', ['entryuuid', 'memberof'], 0, 0, -1, LDAP_DEREF_NEVER);
if ($rr === false) { fail($c, 'read'); }
$read = ldap_get_entries($c, $rr);
$result['read_entryuuid'] = values($read[0] ?? [], 'entryuuid')[0] ?? null;
$result['read_memberof'] = values($read[0] ?? [], 'memberof');

// Groups: the group list (paged) and one group's members.
[$groups, $pages] = paged($c, $base, '(&(objectclass=groupOfNames))', ['dn', 'cn', 'member', 'entryuuid'], 1);
$result['group_pages'] = $pages;
foreach ($groups as $g) {
    if ((values($g, 'cn')[0] ?? '') === $group) {
        $result['group_dn'] = $g['dn'];
        $result['group_members'] = values($g, 'member');
        $result['group_entryuuid'] = values($g, 'entryuuid')[0] ?? null;
    }
}

// The groups of the person (Nextcloud's member filter on the groups).
$sr = ldap_search($c, $base,
    '(&(objectclass=groupOfNames)(member=' . ldap_escape((string)$login_dn, '', LDAP_ESCAPE_FILTER) . '))',
    ['cn'], 0, 0, -1, LDAP_DEREF_NEVER);
if ($sr === false) { fail($c, 'member search'); }
$found = ldap_get_entries($c, $sr);
$result['groups'] = [];
for ($i = 0; $i < $found['count']; $i++) { $result['groups'][] = $found[$i]['cn'][0]; }
ldap_unbind($c);

// The password check: a bind as the person on a new connection.
// (Nextcloud refuses a login it found no DN for before it binds.)
if ($login_dn === null) {
    $result['password_ok'] = false;
    $result['password_error'] = 'no such login';
} else {
    $check = connect($uri);
    $ok = @ldap_bind($check, $login_dn, env_or_die('LOGIN_PASSWORD'));
    $result['password_ok'] = $ok;
    if (!$ok) { $result['password_error'] = ldap_errno($check); }
    ldap_unbind($check);
}

echo json_encode($result, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";
