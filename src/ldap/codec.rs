//! The LDAP codec of every connection: ldap3_proto's, plus the one fact
//! its decoded messages lose: whether a server-side sort control (RFC 2891)
//! was marked critical, which decides between failing a sort that cannot
//! be done and answering unsorted. Read from the message's BER before it
//! is decoded.

use std::io;

use ldap3_proto::proto::LdapMsg;
use ldap3_proto::LdapCodec;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use super::sort::OID_SORT_REQUEST;

pub struct Codec {
    inner: LdapCodec,
    sort_critical: bool,
}

impl Codec {
    pub fn new(inner: LdapCodec) -> Codec {
        Codec {
            inner,
            sort_critical: false,
        }
    }

    /// Whether the message decoded last carried a critical sort control.
    pub fn sort_critical(&self) -> bool {
        self.sort_critical
    }
}

impl Decoder for Codec {
    type Item = LdapMsg;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<LdapMsg>, io::Error> {
        let critical = critical_sort(buf);
        let msg = self.inner.decode(buf)?;
        if msg.is_some() {
            self.sort_critical = critical;
        }
        Ok(msg)
    }
}

impl Encoder<LdapMsg> for Codec {
    type Error = io::Error;

    fn encode(&mut self, msg: LdapMsg, buf: &mut BytesMut) -> Result<(), io::Error> {
        self.inner.encode(msg, buf)
    }
}

/// One BER element at the start of `buf`: its tag, and its content and
/// what follows it. Single-byte tags (all LDAP uses) and definite lengths.
fn element(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = buf.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Whether the LDAPMessage at the start of `buf` (SEQUENCE { messageID,
/// protocolOp, [0] Controls OPTIONAL }) has a sort control with
/// criticality TRUE. Anything unreadable is "no": the decoder judges it.
fn critical_sort(buf: &[u8]) -> bool {
    let Some((0x30, message, _)) = element(buf) else {
        return false;
    };
    let Some((_, _, rest)) = element(message) else {
        return false;
    };
    let Some((_, _, rest)) = element(rest) else {
        return false;
    };
    let Some((0xa0, mut controls, _)) = element(rest) else {
        return false;
    };
    while let Some((0x30, control, next)) = element(controls) {
        controls = next;
        let Some((0x04, oid, rest)) = element(control) else {
            continue;
        };
        if oid != OID_SORT_REQUEST.as_bytes() {
            continue;
        }
        if let Some((0x01, value, _)) = element(rest) {
            return value.first().is_some_and(|b| *b != 0);
        }
        return false;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search request (its body abbreviated to an empty [APPLICATION 3])
    /// with `controls`.
    fn message(controls: &[u8]) -> Vec<u8> {
        let mut inner = vec![0x02, 0x01, 0x05, 0x63, 0x00];
        inner.extend_from_slice(&[0xa0, controls.len() as u8]);
        inner.extend_from_slice(controls);
        let mut out = vec![0x30, inner.len() as u8];
        out.extend(inner);
        out
    }

    fn control(oid: &str, critical: Option<bool>) -> Vec<u8> {
        let mut inner = vec![0x04, oid.len() as u8];
        inner.extend_from_slice(oid.as_bytes());
        if let Some(c) = critical {
            inner.extend_from_slice(&[0x01, 0x01, if c { 0xff } else { 0x00 }]);
        }
        inner.extend_from_slice(&[0x04, 0x00]);
        let mut out = vec![0x30, inner.len() as u8];
        out.extend(inner);
        out
    }

    #[test]
    fn finds_the_sort_controls_criticality() {
        let paged = control("1.2.840.113556.1.4.319", Some(true));
        let critical = [paged.clone(), control(OID_SORT_REQUEST, Some(true))].concat();
        assert!(critical_sort(&message(&critical)));
        let plain = [paged.clone(), control(OID_SORT_REQUEST, None)].concat();
        assert!(!critical_sort(&message(&plain)));
        assert!(!critical_sort(&message(&control(
            OID_SORT_REQUEST,
            Some(false)
        ))));
        // Only another control critical; no controls; a truncated message.
        assert!(!critical_sort(&message(&paged)));
        assert!(!critical_sort(&[0x30, 0x05, 0x02, 0x01, 0x05, 0x63, 0x00]));
        assert!(!critical_sort(&message(&critical)[..10]));
    }
}
