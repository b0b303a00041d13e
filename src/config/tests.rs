//! The configuration's tests: parsing, every check's message, and the
//! example file kept in step with the defaults.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, "test.toml")
}

fn err(text: &str) -> ConfigError {
    match parse(text) {
        Ok(config) => panic!("expected an error for {text:?}, got {config:?}"),
        Err(e) => e,
    }
}

/// The example file with every `# key = value` line uncommented.
fn example_uncommented() -> String {
    let example = include_str!("../../dirgate.example.toml");
    let mut out = String::new();
    for line in example.lines() {
        let uncommented = line
            .strip_prefix("# ")
            .filter(|rest| looks_like_key_line(rest));
        out.push_str(uncommented.unwrap_or(line));
        out.push('\n');
    }
    out
}

fn looks_like_key_line(line: &str) -> bool {
    let Some((key, _)) = line.split_once(" = ") else {
        return false;
    };
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Every key of a TOML table, as dotted paths.
fn key_paths(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => key_paths(inner, &path, out),
            _ => out.push(path),
        }
    }
}

#[test]
fn example_file_matches_defaults() {
    let text = example_uncommented();
    let parsed = parse(&text).expect("the uncommented example parses");
    assert_eq!(parsed, Config::default());

    // Same values is not enough: every key must be documented there too.
    let mut in_example = Vec::new();
    key_paths(&toml::from_str(&text).expect("toml"), "", &mut in_example);
    let defaults = toml::to_string(&Config::default()).expect("serialises");
    let mut in_defaults = Vec::new();
    key_paths(
        &toml::from_str(&defaults).expect("toml"),
        "",
        &mut in_defaults,
    );
    in_example.sort();
    in_defaults.sort();
    assert_eq!(in_example, in_defaults);

    // The two keys without a default are shown as examples.
    let example = include_str!("../../dirgate.example.toml");
    assert!(example.contains("cert_file = "));
    assert!(example.contains("key_file = "));
    for key in [
        "host = ",
        "username = ",
        "password = ",
        "url = ",
        "auth_header = ",
        "public_url = ",
    ] {
        assert!(example.contains(key), "{key}");
    }
}

#[test]
fn example_file_as_shipped_is_defaults() {
    let parsed = parse(include_str!("../../dirgate.example.toml")).expect("example parses");
    assert_eq!(parsed, Config::default());
}

#[test]
fn the_packaged_configuration_is_valid() {
    let parsed = parse(include_str!("../../dist/dirgate.toml")).expect("dist config parses");
    parsed.validate().expect("dist config validates");
    assert_eq!(parsed.ldap.listen.addr().map(|a| a.port()), Some(3389));
    assert!(!parsed.email_configured() && !parsed.sms_configured());
}

#[test]
fn empty_file_and_no_file_are_defaults() {
    assert_eq!(parse("").expect("empty"), Config::default());
    assert_eq!(Config::load(None).expect("none"), Config::default());
}

#[test]
fn defaults_serialise_and_parse_back() {
    let text = toml::to_string(&Config::default()).expect("serialises");
    assert_eq!(parse(&text).expect("parses"), Config::default());
}

#[test]
fn unknown_key_is_named() {
    let e = err("[ldap]\nlisten = \"off\"\nmax_conections = 5\n");
    assert_eq!(e.key(), Some("ldap.max_conections"));
    let msg = e.to_string();
    assert!(msg.contains("ldap.max_conections"), "{msg}");
    assert!(msg.contains("test.toml, line 3"), "{msg}");
    assert!(msg.contains("unknown field"), "{msg}");
}

#[test]
fn unknown_key_in_dotted_and_inline_forms_is_named() {
    assert_eq!(err("ldap.bogus = 1\n").key(), Some("ldap.bogus"));
    assert_eq!(err("http = { bogus = 1 }\n").key(), Some("http.bogus"));
}

#[test]
fn unknown_table_is_named() {
    let e = err("[ldpa]\nlisten = \"off\"\n");
    assert_eq!(e.key(), Some("ldpa"));
    assert!(e.to_string().contains("ldpa"), "{e}");
}

#[test]
fn wrong_type_is_named() {
    let e = err("[store]\nreaders = \"four\"\n");
    assert_eq!(e.key(), Some("store.readers"));
    assert!(e.to_string().contains("store.readers"), "{e}");
}

#[test]
fn table_where_a_value_belongs_is_named() {
    assert_eq!(
        err("[store]\nreaders = { a = 1 }\n").key(),
        Some("store.readers")
    );
    assert_eq!(err("[store]\nreaders = [1]\n").key(), Some("store.readers"));
    assert_eq!(err("store = \"x\"\n").key(), Some("store"));
}

#[test]
fn bad_enum_value_is_named() {
    let e = err("[log]\nlevel = \"loud\"\n");
    assert_eq!(e.key(), Some("log.level"));
    let e = err("[ldap]\nanonymous = \"all\"\n");
    assert_eq!(e.key(), Some("ldap.anonymous"));
}

#[test]
fn bad_listen_is_named() {
    let e = err("[http]\nhttps_listen = \"localhost:8443\"\n");
    assert_eq!(e.key(), Some("http.https_listen"));
    assert!(e.to_string().contains("\"off\""), "{e}");
}

#[test]
fn syntax_error_gives_the_line() {
    let e = err("[ldap]\nlisten = \n");
    assert!(e.to_string().starts_with("test.toml, line 2"), "{e}");
}

#[test]
fn bad_base_dn_is_named() {
    let e = err("[directory]\nbase_dn = \"dc=,x\"\n");
    assert_eq!(e.key(), Some("directory.base_dn"));
    let msg = e.to_string();
    assert!(
        msg.contains("directory.base_dn: \"dc=,x\" is not a valid DN"),
        "{msg}"
    );
    assert!(msg.starts_with("test.toml, line 2"), "{msg}");
}

#[test]
fn dn_checks() {
    for good in [
        "dc=example,dc=com",
        "o=Acme\\, Inc, c=US",
        "ou=people + l=Paris, dc=x",
        "0.9.2342.19200300.100.1.25=example",
    ] {
        assert!(check_dn(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "dc=",
        "dc=,x",
        "example.com",
        "dc=a,,dc=b",
        "=x",
        "1a=x",
        "dc=a\\",
    ] {
        assert!(check_dn(bad).is_err(), "{bad}");
    }
}

#[test]
fn bad_time_zone_is_named() {
    let e = err("[directory]\ndefault_time_zone = \"Mars/Olympus\"\n");
    assert_eq!(e.key(), Some("directory.default_time_zone"));
    let ok = parse("[directory]\ndefault_time_zone = \"Europe/Paris\"\n").expect("valid zone");
    assert_eq!(ok.directory.default_time_zone, "Europe/Paris");
}

#[test]
fn zero_limits_are_refused() {
    for (table, key) in [
        ("ldap", "max_connections"),
        ("ldap", "idle_timeout_secs"),
        ("ldap", "max_message_bytes"),
        ("ldap", "max_search_entries"),
        ("http", "max_body_bytes"),
        ("http", "max_connections"),
        ("http", "idle_timeout_secs"),
        ("store", "readers"),
        ("password", "min_length"),
        ("password", "argon2_iterations"),
        ("password", "argon2_parallelism"),
    ] {
        let e = err(&format!("[{table}]\n{key} = 0\n"));
        assert_eq!(e.key(), Some(format!("{table}.{key}").as_str()), "{e}");
    }
}

#[test]
fn ranges_are_checked() {
    assert_eq!(
        err("[password]\nmin_length = 257\n").key(),
        Some("password.min_length")
    );
    assert_eq!(err("[store]\nreaders = 65\n").key(), Some("store.readers"));
    assert_eq!(
        err("[password]\nargon2_parallelism = 17\n").key(),
        Some("password.argon2_parallelism")
    );
    // 4 lanes need at least 32 KiB.
    let e = err("[password]\nargon2_parallelism = 4\nargon2_memory_kib = 31\n");
    assert_eq!(e.key(), Some("password.argon2_memory_kib"));
    parse("[password]\nargon2_parallelism = 4\nargon2_memory_kib = 32\n")
        .expect("32 KiB is enough");
    // A negative number does not fit the type and is named too.
    assert_eq!(err("[store]\nreaders = -1\n").key(), Some("store.readers"));
}

#[test]
fn off_listeners() {
    let c = parse(
        "[ldap]\nlisten = \"off\"\nldaps_listen = \"[::]:636\"\n[http]\nhttps_listen = \"OFF\"\nhttp_listen = \"127.0.0.1:8080\"\n",
    )
    .expect("parses");
    assert!(c.ldap.listen.is_off());
    assert_eq!(
        c.ldap.ldaps_listen.addr(),
        Some("[::]:636".parse().expect("addr"))
    );
    assert_eq!(c.http.https_listen, Listen::OFF);
    assert_eq!(c.http.http_listen.to_string(), "127.0.0.1:8080");
    assert!(Config::default().http.http_listen.is_off());
}

#[test]
fn tls_files_both_or_neither() {
    let e = err("[tls]\ncert_file = \"cert.pem\"\n");
    assert_eq!(e.key(), Some("tls.key_file"));
    assert!(
        e.to_string().starts_with("test.toml, line 1: tls.key_file"),
        "{e}"
    );
    let e = err("[tls]\nkey_file = \"key.pem\"\n");
    assert_eq!(e.key(), Some("tls.cert_file"));
    let c = parse("[tls]\ncert_file = \"/a/cert.pem\"\nkey_file = \"/a/key.pem\"\n").expect("both");
    assert_eq!(c.tls.cert_file.as_deref(), Some(Path::new("/a/cert.pem")));
    assert_eq!(c.tls.key_file.as_deref(), Some(Path::new("/a/key.pem")));
}

#[test]
fn load_reads_a_file_and_resolves_relative_tls_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("dirgate.toml");
    std::fs::write(
        &path,
        "[tls]\ncert_file = \"tls/cert.pem\"\nkey_file = \"/etc/key.pem\"\n[store]\nreaders = 2\n",
    )
    .expect("write");
    let c = Config::load(Some(&path)).expect("loads");
    assert_eq!(c.store.readers, 2);
    assert_eq!(c.tls.cert_file, Some(dir.path().join("tls/cert.pem")));
    assert_eq!(c.tls.key_file.as_deref(), Some(Path::new("/etc/key.pem")));

    std::fs::write(&path, "[store]\nreaderz = 2\n").expect("write");
    let e = Config::load(Some(&path)).expect_err("unknown key");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(e.to_string().contains("store.readerz"), "{e}");

    let missing = dir.path().join("missing.toml");
    let e = Config::load(Some(&missing)).expect_err("missing file");
    assert!(matches!(e, ConfigError::Read { .. }));
    assert!(e.to_string().contains("missing.toml"), "{e}");
}

#[test]
fn validate_checks_a_config_built_in_code() {
    assert!(Config::default().validate().is_ok());
    let mut c = Config::default();
    c.ldap.max_search_entries = 0;
    let e = c.validate().expect_err("zero");
    assert_eq!(e.key(), Some("ldap.max_search_entries"));
    assert_eq!(
        e.to_string(),
        "configuration: ldap.max_search_entries: must be greater than 0"
    );
}

#[test]
fn public_url_must_be_a_url() {
    let c = parse("[http]\npublic_url = \"https://id.example.com\"\n").expect("parses");
    assert_eq!(c.http.public_url.as_deref(), Some("https://id.example.com"));
    for bad in [
        "id.example.com",
        "https://",
        "https://a b",
        "https://x/?q=1",
    ] {
        let e = err(&format!("[http]\npublic_url = {bad:?}\n"));
        assert_eq!(e.key(), Some("http.public_url"), "{bad}");
    }
}

#[test]
fn password_threads_resolves_zero() {
    let w = WorkersConfig {
        password_threads: 0,
    };
    assert!(w.password_threads() >= 1);
    let w = WorkersConfig {
        password_threads: 3,
    };
    assert_eq!(w.password_threads(), 3);
}

#[test]
fn notifier_defaults() {
    let c = Config::default();
    assert!(!c.email_configured());
    assert!(!c.sms_configured());
    assert_eq!(c.email.port, 587);
    assert_eq!(c.email.security, SmtpSecurity::StartTls);
    assert_eq!(c.email.from, "dirgate <dirgate@localhost>");
    assert_eq!(c.sms.body_template, DEFAULT_SMS_TEMPLATE);
    assert_eq!(c.outbox.max_attempts, 8);
    assert_eq!(c.outbox.retry_base_secs, 5);
    assert_eq!(c.outbox.poll_secs, 5);
}

#[test]
fn email_and_sms_configured() {
    let c = parse(
        "[email]\nhost = \"smtp.example.com\"\nsecurity = \"tls\"\nport = 465\n\
         username = \"u\"\npassword = \"p\"\nfrom = \"x@example.com\"\n\
         [sms]\nurl = \"https://sms.example.com/send\"\nauth_header = \"Bearer t\"\n",
    )
    .expect("parses");
    assert!(c.email_configured());
    assert!(c.sms_configured());
    assert_eq!(c.email.security, SmtpSecurity::Tls);
    assert_eq!(c.email.password.as_ref().map(Secret::expose), Some("p"));
    assert_eq!(
        c.sms.auth_header.as_ref().map(Secret::expose),
        Some("Bearer t")
    );
}

#[test]
fn secrets_are_not_in_debug() {
    let c = parse(
        "[email]\nhost = \"h\"\nusername = \"u\"\npassword = \"hunter2-smtp\"\n\
         [sms]\nurl = \"http://127.0.0.1:1/\"\nauth_header = \"Bearer tok-secret\"\n",
    )
    .expect("parses");
    let debug = format!("{c:?} {:#?}", c);
    assert!(!debug.contains("hunter2-smtp"), "{debug}");
    assert!(!debug.contains("tok-secret"), "{debug}");
    assert!(debug.contains("Secret(***)"), "{debug}");
}

#[test]
fn bad_security_is_named() {
    let e = err("[email]\nsecurity = \"ssl\"\n");
    assert_eq!(e.key(), Some("email.security"));
    assert!(e.to_string().contains("email.security"), "{e}");
}

#[test]
fn email_credentials_both_or_neither() {
    let e = err("[email]\nhost = \"h\"\nusername = \"u\"\n");
    assert_eq!(e.key(), Some("email.password"));
    assert!(e.to_string().contains("email.username is set"), "{e}");
    let e = err("[email]\nhost = \"h\"\npassword = \"p\"\n");
    assert_eq!(e.key(), Some("email.username"));
    let e = err("[email]\nhost = \"\"\n");
    assert_eq!(e.key(), Some("email.host"));
}

#[test]
fn bad_from_is_named() {
    let e = err("[email]\nfrom = \"not a mailbox\"\n");
    assert_eq!(e.key(), Some("email.from"));
    assert!(e.to_string().contains("is not a mailbox"), "{e}");
    parse("[email]\nfrom = \"x@example.com\"\n").expect("bare address");
}

#[test]
fn bad_sms_url_is_named() {
    for bad in ["ftp://x/", "sms.example.com/send", "http://", "not a url"] {
        let e = err(&format!("[sms]\nurl = \"{bad}\"\n"));
        assert_eq!(e.key(), Some("sms.url"), "{bad}: {e}");
    }
    parse("[sms]\nurl = \"http://127.0.0.1:8080/send?x=1\"\n").expect("http");
}

#[test]
fn bad_template_is_named() {
    // Unquoted placeholders make invalid JSON once filled in.
    let e = err("[sms]\nbody_template = '{\"to\": {to}, \"text\": \"{text}\"}'\n");
    assert_eq!(e.key(), Some("sms.body_template"));
    let msg = e.to_string();
    assert!(msg.contains("not valid JSON"), "{msg}");
    assert!(msg.starts_with("test.toml, line 2"), "{msg}");
    let e = err("[sms]\nbody_template = '{\"to\": \"{to}\"}'\n");
    assert_eq!(e.key(), Some("sms.body_template"));
    assert!(e.to_string().contains("{text}"), "{e}");
    let e = err("[sms]\nauth_header = \"Bearer x\\ny\"\n");
    assert_eq!(e.key(), Some("sms.auth_header"));
}

#[test]
fn outbox_ranges() {
    for (key, value) in [
        ("max_attempts", 0),
        ("max_attempts", 101),
        ("retry_base_secs", 0),
        ("retry_base_secs", 3601),
        ("poll_secs", 0),
    ] {
        let e = err(&format!("[outbox]\n{key} = {value}\n"));
        assert_eq!(e.key(), Some(format!("outbox.{key}").as_str()), "{e}");
    }
    for (table, key) in [
        ("email", "timeout_secs"),
        ("sms", "timeout_secs"),
        ("email", "port"),
    ] {
        let e = err(&format!("[{table}]\n{key} = 0\n"));
        assert_eq!(e.key(), Some(format!("{table}.{key}").as_str()), "{e}");
    }
}

#[test]
fn twilio_preset_fills_in_the_url_fields_and_format() {
    let c = parse(
        "[sms]\nprovider = \"twilio\"\nusername = \"AC123\"\npassword = \"tok\"\n\
         from = \"+15005550006\"\n",
    )
    .expect("parses");
    assert!(c.sms_configured());
    assert_eq!(c.sms.body_format(), SmsFormat::Form);
    assert_eq!(
        c.sms.endpoint().as_deref(),
        Some("https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json")
    );
    assert_eq!(
        c.sms.render_form("+15005550001", "Code 1 & 2"),
        "To=%2B15005550001&From=%2B15005550006&Body=Code+1+%26+2"
    );
    // An API key as the user, the account named apart, a regional edge.
    let c = parse(
        "[sms]\nprovider = \"twilio\"\nusername = \"SK9\"\npassword = \"s\"\n\
         account = \"AC7\"\nfrom = \"x\"\nurl = \"https://api.dublin.ie1.twilio.com/\"\n",
    )
    .expect("parses");
    assert_eq!(
        c.sms.endpoint().as_deref(),
        Some("https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC7/Messages.json")
    );
    for (text, key) in [
        ("password = \"p\"\nfrom = \"x\"\n", "sms.username"),
        ("username = \"AC1\"\npassword = \"p\"\n", "sms.from"),
        (
            "username = \"AC1\"\npassword = \"p\"\nfrom = \"x\"\nformat = \"json\"\n",
            "sms.format",
        ),
        (
            "username = \"AC1\"\npassword = \"p\"\nfrom = \"x\"\nurl = \"http://h/x\"\n",
            "sms.url",
        ),
    ] {
        let e = err(&format!("[sms]\nprovider = \"twilio\"\n{text}"));
        assert_eq!(e.key(), Some(key), "{text}: {e}");
    }
}

#[test]
fn sms_logins_and_forms_are_checked() {
    for (text, key) in [
        ("url = \"http://h/\"\nusername = \"u\"\n", "sms.password"),
        (
            "url = \"http://h/\"\nusername = \"u\"\npassword = \"p\"\npassword_file = \"f\"\n",
            "sms.password_file",
        ),
        (
            "url = \"http://h/\"\nusername = \"u\"\npassword = \"p\"\nauth_header = \"B x\"\n",
            "sms.auth_header",
        ),
        ("url = \"http://h/\"\naccount = \"AC1\"\n", "sms.account"),
        (
            "url = \"http://h/\"\nformat = \"form\"\nfields = { to = \"\" }\n",
            "sms.fields",
        ),
    ] {
        let e = err(&format!("[sms]\n{text}"));
        assert_eq!(e.key(), Some(key), "{text}: {e}");
    }
    let c = parse(
        "[sms]\nurl = \"http://h/\"\nformat = \"form\"\nfrom = \"Acme\"\n\
         fields = { to = \"msisdn\", text = \"message\" }\n",
    )
    .expect("parses");
    assert_eq!(
        c.sms.render_form("+1555", "hi"),
        "msisdn=%2B1555&from=Acme&message=hi"
    );
    let c = parse(
        "[sms]\nurl = \"http://h/\"\nfrom = \"Acme\"\n\
         body_template = '{\"to\": \"{to_digits}\", \"from\": \"{from}\", \"text\": \"{text}\"}'\n",
    )
    .expect("parses");
    let v: serde_json::Value =
        serde_json::from_str(&c.sms.render("+447700900123", "x")).expect("json");
    assert_eq!(v["to"], "447700900123");
    assert_eq!(v["from"], "Acme");
}

#[test]
fn a_login_needs_tls_and_passwords_come_from_files() {
    let e = err("[email]\nhost = \"h\"\nsecurity = \"none\"\nusername = \"u\"\npassword = \"p\"\n");
    assert_eq!(e.key(), Some("email.security"));
    let e = err("[email]\nhost = \"h\"\nsecurity = \"none\"\nca_file = \"ca.pem\"\n");
    assert_eq!(e.key(), Some("email.ca_file"));

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("smtp-pw"), "s3cret pass\n").expect("write");
    std::fs::write(dir.path().join("empty"), "").expect("write");
    let file = dir.path().join("dirgate.toml");
    std::fs::write(
        &file,
        "[email]\nhost = \"h\"\nusername = \"u\"\npassword_file = \"smtp-pw\"\n\
         ca_file = \"ca.pem\"\n\
         [sms]\nurl = \"http://h/\"\nusername = \"u\"\npassword_file = \"empty\"\n",
    )
    .expect("write");
    let c = Config::load(Some(&file)).expect("loads");
    assert_eq!(c.email.password_file, Some(dir.path().join("smtp-pw")));
    assert_eq!(c.email.ca_file, Some(dir.path().join("ca.pem")));
    let password = c.email.password().expect("read").expect("set");
    assert_eq!(password.expose(), "s3cret pass");
    let e = c.sms.password().expect_err("empty");
    assert!(e.to_string().contains("is empty"), "{e}");
    let missing = SmsConfig {
        password_file: Some(dir.path().join("nope")),
        ..SmsConfig::default()
    };
    let e = missing.password().expect_err("missing");
    assert!(e.to_string().contains("cannot read"), "{e}");
}
