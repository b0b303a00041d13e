//! `[tls]`: the certificate and key both faces present.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `[tls]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain, server certificate first. Set both `cert_file`
    /// and `key_file`, or neither: then a self-signed certificate is
    /// generated into `DATA/tls/`. A relative path is taken from the folder
    /// of the configuration file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, SEC1 or PKCS#1) of the certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

impl TlsConfig {
    pub(super) fn resolve_relative_to(&mut self, folder: &Path) {
        for file in [&mut self.cert_file, &mut self.key_file]
            .into_iter()
            .flatten()
        {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
    }
}
