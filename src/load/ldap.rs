//! The LDAP side of the load: one connection, one request at a time.

use std::net::SocketAddr;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapDerefAliases, LdapFilter, LdapMsg, LdapOp, LdapResultCode,
    LdapSearchRequest, LdapSearchScope,
};
use ldap3_proto::LdapCodec;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::seed::{self, PASSWORD_EVERY};
use super::{Mode, Options, Rng, Tally};

type Conn = Framed<TcpStream, LdapCodec>;

/// Runs `opts.mode` on one connection until `deadline`.
pub(super) async fn worker(
    addr: SocketAddr,
    opts: &Options,
    deadline: Instant,
    rng: &mut Rng,
    tally: &mut Tally,
) -> Result<(), String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut conn = Framed::new(stream, LdapCodec::default());
    let mut msgid = 1;
    if opts.mode == Mode::Search {
        if let Some(dn) = &opts.search_bind_dn {
            let code = bind(&mut conn, msgid, dn, &opts.password).await?;
            if code != LdapResultCode::Success {
                return Err(format!("bind as {dn}: {code:?}"));
            }
            msgid += 1;
        }
    }
    let with_password = seed::password_accounts(opts.accounts);
    while Instant::now() < deadline {
        let started = Instant::now();
        let outcome = match opts.mode {
            Mode::Search => {
                let uid = seed::user_name(rng.below(opts.accounts));
                match search(&mut conn, msgid, &uid).await? {
                    1 => Ok(()),
                    n => Err(format!("(uid={uid}): {n} entries")),
                }
            }
            _ => {
                let dn = seed::person_dn(rng.below(with_password) * PASSWORD_EVERY);
                match bind(&mut conn, msgid, &dn, &opts.password).await? {
                    LdapResultCode::Success => Ok(()),
                    code => Err(format!("bind as {dn}: {code:?}")),
                }
            }
        };
        tally.record(started, outcome);
        msgid += 1;
    }
    Ok(())
}

async fn exchange(conn: &mut Conn, msg: LdapMsg) -> Result<(), String> {
    conn.send(msg).await.map_err(|e| format!("send: {e:?}"))
}

async fn receive(conn: &mut Conn) -> Result<LdapOp, String> {
    match conn.next().await {
        Some(Ok(msg)) => Ok(msg.op),
        Some(Err(e)) => Err(format!("receive: {e:?}")),
        None => Err("the server closed the connection".into()),
    }
}

/// A simple bind; the result code.
pub async fn bind(
    conn: &mut Conn,
    msgid: i32,
    dn: &str,
    pw: &str,
) -> Result<LdapResultCode, String> {
    let req = LdapBindRequest {
        version: 3,
        dn: dn.to_owned(),
        cred: LdapBindCred::Simple(pw.to_owned()),
    };
    exchange(conn, LdapMsg::new(msgid, LdapOp::BindRequest(req))).await?;
    match receive(conn).await? {
        LdapOp::BindResponse(r) => Ok(r.res.code),
        other => Err(format!("unexpected {other:?}")),
    }
}

/// A subtree `(uid=…)` search under the base; the entries returned.
pub async fn search(conn: &mut Conn, msgid: i32, uid: &str) -> Result<usize, String> {
    let req = LdapSearchRequest {
        base: seed::BASE_DN.into(),
        scope: LdapSearchScope::Subtree,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter: LdapFilter::Equality("uid".into(), uid.into()),
        attrs: vec!["cn".into(), "mail".into()],
    };
    exchange(conn, LdapMsg::new(msgid, LdapOp::SearchRequest(req))).await?;
    let mut entries = 0;
    loop {
        match receive(conn).await? {
            LdapOp::SearchResultEntry(_) => entries += 1,
            LdapOp::SearchResultDone(r) if r.code == LdapResultCode::Success => return Ok(entries),
            LdapOp::SearchResultDone(r) => return Err(format!("{:?}: {}", r.code, r.message)),
            other => return Err(format!("unexpected {other:?}")),
        }
    }
}
