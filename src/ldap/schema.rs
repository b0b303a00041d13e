//! The schema the LDAP face publishes, and the two entries that describe
//! the server: the subschema entry (`cn=Subschema`, RFC 4512 section 4.2)
//! and the root DSE (RFC 4512 section 5.1).
//!
//! The schema is the standard definitions of every attribute type and
//! object class the gateway's entries use, as the RFCs write them, plus
//! the gateway's own from `schemas/ldap/dirgate.schema`. Entries take from
//! it which attributes are operational, and names and OIDs resolve to one
//! spelling through it, so that what a client reads in the subschema is
//! what the entries do.
//!
//! The object classes are published as the RFCs define them, so their MAY
//! lists name some standard attribute types (telephoneNumber, ...) that the
//! gateway never emits and does not define here.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ldap3_proto::proto::LdapSearchResultEntry;

use super::dn::{Layout, SUBSCHEMA_DN};
use super::entry::{EntryBuilder, Selection};

/// The gateway's own schema, as published in the repository.
const DIRGATE_SCHEMA: &str = include_str!("../../schemas/ldap/dirgate.schema");

/// RFC 4511 section 4.14: StartTLS.
pub const OID_STARTTLS: &str = "1.3.6.1.4.1.1466.20037";
/// RFC 4532: Who am I?
pub const OID_WHO_AM_I: &str = "1.3.6.1.4.1.4203.1.11.3";
/// RFC 3062: Password Modify.
pub const OID_PASSWORD_MODIFY: &str = "1.3.6.1.4.1.4203.1.11.1";
/// RFC 2696: simple paged results.
pub const OID_PAGED_RESULTS: &str = "1.2.840.113556.1.4.319";
/// Server-side sorting (RFC 2891), its request control.
pub const OID_SERVER_SORT: &str = "1.2.840.113556.1.4.473";
/// ManageDsaIT (RFC 3296): honoured trivially, there being no referrals.
pub const OID_MANAGE_DSA_IT: &str = "2.16.840.1.113730.3.4.2";
/// RFC 3673: `+` requests all operational attributes.
pub const FEATURE_ALL_OPERATIONAL: &str = "1.3.6.1.4.1.4203.1.5.1";
/// RFC 4529: `@class` requests the attributes of an object class.
pub const FEATURE_CLASS_ATTRIBUTES: &str = "1.3.6.1.4.1.4203.1.5.2";

/// Standard attribute types the entries (and the root DSE and subschema
/// entry) use, in RFC 4512 description syntax, as their RFCs define them.
const STANDARD_ATTRIBUTE_TYPES: &[&str] = &[
    // RFC 4512
    "( 2.5.4.0 NAME 'objectClass' EQUALITY objectIdentifierMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
    "( 2.5.18.1 NAME 'createTimestamp' EQUALITY generalizedTimeMatch \
     ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 \
     SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
    "( 2.5.18.2 NAME 'modifyTimestamp' EQUALITY generalizedTimeMatch \
     ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 \
     SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
    "( 2.5.21.9 NAME 'structuralObjectClass' EQUALITY objectIdentifierMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 SINGLE-VALUE NO-USER-MODIFICATION \
     USAGE directoryOperation )",
    "( 2.5.18.10 NAME 'subschemaSubentry' EQUALITY distinguishedNameMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE NO-USER-MODIFICATION \
     USAGE directoryOperation )",
    "( 2.5.21.5 NAME 'attributeTypes' EQUALITY objectIdentifierFirstComponentMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.3 USAGE directoryOperation )",
    "( 2.5.21.6 NAME 'objectClasses' EQUALITY objectIdentifierFirstComponentMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.37 USAGE directoryOperation )",
    "( 2.5.21.4 NAME 'matchingRules' EQUALITY objectIdentifierFirstComponentMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.30 USAGE directoryOperation )",
    "( 1.3.6.1.4.1.1466.101.120.16 NAME 'ldapSyntaxes' \
     EQUALITY objectIdentifierFirstComponentMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.54 USAGE directoryOperation )",
    "( 1.3.6.1.4.1.1466.101.120.5 NAME 'namingContexts' \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 USAGE dSAOperation )",
    "( 1.3.6.1.4.1.1466.101.120.7 NAME 'supportedExtension' \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 USAGE dSAOperation )",
    "( 1.3.6.1.4.1.1466.101.120.13 NAME 'supportedControl' \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 USAGE dSAOperation )",
    "( 1.3.6.1.4.1.1466.101.120.15 NAME 'supportedLDAPVersion' \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 USAGE dSAOperation )",
    // RFC 3674
    "( 1.3.6.1.4.1.4203.1.3.5 NAME 'supportedFeatures' EQUALITY objectIdentifierMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 USAGE dSAOperation )",
    // RFC 3045
    "( 1.3.6.1.1.4 NAME 'vendorName' EQUALITY 1.3.6.1.4.1.1466.109.114.1 \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE NO-USER-MODIFICATION \
     USAGE dSAOperation )",
    "( 1.3.6.1.1.5 NAME 'vendorVersion' EQUALITY 1.3.6.1.4.1.1466.109.114.1 \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE NO-USER-MODIFICATION \
     USAGE dSAOperation )",
    // RFC 4519
    "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    "( 2.5.4.49 NAME 'distinguishedName' EQUALITY distinguishedNameMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
    "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
    "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
    "( 2.5.4.42 NAME 'givenName' SUP name )",
    "( 2.5.4.11 NAME 'ou' SUP name )",
    "( 2.5.4.10 NAME 'o' SUP name )",
    "( 2.5.4.31 NAME 'member' SUP distinguishedName )",
    "( 0.9.2342.19200300.100.1.1 NAME 'uid' EQUALITY caseIgnoreMatch \
     SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    "( 0.9.2342.19200300.100.1.25 NAME 'dc' EQUALITY caseIgnoreIA5Match \
     SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 \
     SINGLE-VALUE )",
    // RFC 4524
    "( 0.9.2342.19200300.100.1.3 NAME 'mail' EQUALITY caseIgnoreIA5Match \
     SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )",
    "( 0.9.2342.19200300.100.1.41 NAME 'mobile' EQUALITY telephoneNumberMatch \
     SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50 )",
    "( 0.9.2342.19200300.100.1.10 NAME 'manager' EQUALITY distinguishedNameMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
    // RFC 2798
    "( 2.16.840.1.113730.3.1.241 NAME 'displayName' \
     DESC 'preferred name of a person to be used when displaying entries' \
     EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 2.16.840.1.113730.3.1.4 NAME 'employeeType' \
     DESC 'type of employment for a person' EQUALITY caseIgnoreMatch \
     SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    "( 2.16.840.1.113730.3.1.39 NAME 'preferredLanguage' \
     DESC 'preferred written or spoken language for a person' \
     EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 2.16.840.1.113730.3.1.3 NAME 'employeeNumber' \
     DESC 'numerically identifies an employee within an organization' \
     EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 2.16.840.1.113730.3.1.2 NAME 'departmentNumber' \
     DESC 'identifies a department within an organization' \
     EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    // RFC 4519, the postal and telephone attributes of organizationalPerson
    "( 2.5.4.12 NAME 'title' SUP name )",
    "( 2.5.4.20 NAME 'telephoneNumber' EQUALITY telephoneNumberMatch \
     SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50 )",
    "( 2.5.4.23 NAME 'facsimileTelephoneNumber' SYNTAX 1.3.6.1.4.1.1466.115.121.1.22 )",
    "( 2.5.4.16 NAME 'postalAddress' EQUALITY caseIgnoreListMatch \
     SUBSTR caseIgnoreListSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.41 )",
    "( 2.5.4.9 NAME ( 'street' 'streetAddress' ) EQUALITY caseIgnoreMatch \
     SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    "( 2.5.4.7 NAME ( 'l' 'localityName' ) SUP name )",
    "( 2.5.4.8 NAME ( 'st' 'stateOrProvinceName' ) SUP name )",
    "( 2.5.4.17 NAME 'postalCode' EQUALITY caseIgnoreMatch \
     SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    "( 2.5.4.6 NAME ( 'c' 'countryName' ) SUP name \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.11 SINGLE-VALUE )",
    // The OID Active Directory and OpenLDAP's memberof overlay use. A user
    // attribute here (not operational as in OpenLDAP), because applications
    // expect it among the attributes `*` returns, as Active Directory does.
    "( 1.2.840.113556.1.2.102 NAME 'memberOf' \
     DESC 'Group that the entry is a direct member of' \
     EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
    // RFC 2307 and rfc2307bis (draft-howard-rfc2307bis-02), as nss_ldap,
    // nslcd and SSSD read them
    "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' \
     DESC 'An integer uniquely identifying a user in an administrative domain' \
     EQUALITY integerMatch ORDERING integerOrderingMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.1 NAME 'gidNumber' \
     DESC 'An integer uniquely identifying a group in an administrative domain' \
     EQUALITY integerMatch ORDERING integerOrderingMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.2 NAME 'gecos' DESC 'The GECOS field; the common name' \
     EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.3 NAME 'homeDirectory' DESC 'The absolute path to the home directory' \
     EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.4 NAME 'loginShell' DESC 'The path to the login shell' \
     EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.12 NAME 'memberUid' EQUALITY caseExactIA5Match \
     SUBSTR caseExactIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
    // openssh-lpk (OpenSSH's AuthorizedKeysCommand, SSSD's ssh responder)
    "( 1.3.6.1.4.1.24552.500.1.1.1.13 NAME 'sshPublicKey' \
     DESC 'MANDATORY: OpenSSH Public key' EQUALITY octetStringMatch \
     SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )",
    // RFC 4530
    "( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY UUIDMatch \
     ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE \
     NO-USER-MODIFICATION USAGE directoryOperation )",
    // RFC 5020
    "( 1.3.6.1.1.20 NAME 'entryDN' DESC 'DN of the entry' \
     EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 \
     SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
    // X.501, as OpenLDAP publishes it
    "( 2.5.18.9 NAME 'hasSubordinates' DESC 'X.501: entry has children' \
     EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE \
     NO-USER-MODIFICATION USAGE directoryOperation )",
];

/// Standard object classes the entries use, as their RFCs define them.
const STANDARD_OBJECT_CLASSES: &[&str] = &[
    // RFC 4512
    "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
    "( 2.5.20.1 NAME 'subschema' AUXILIARY MAY ( dITStructureRules $ nameForms $ \
     dITContentRules $ objectClasses $ attributeTypes $ matchingRules $ \
     matchingRuleUse ) )",
    "( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' SUP top AUXILIARY )",
    // RFC 3672
    "( 2.5.17.0 NAME 'subentry' SUP top STRUCTURAL MUST ( cn $ subtreeSpecification ) )",
    // RFC 4519
    "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) \
     MAY ( userPassword $ telephoneNumber $ seeAlso $ description ) )",
    "( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL \
     MAY ( title $ x121Address $ registeredAddress $ destinationIndicator $ \
     preferredDeliveryMethod $ telexNumber $ teletexTerminalIdentifier $ \
     telephoneNumber $ internationalISDNNumber $ facsimileTelephoneNumber $ \
     street $ postOfficeBox $ postalCode $ postalAddress $ \
     physicalDeliveryOfficeName $ ou $ st $ l ) )",
    "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST ( member $ cn ) \
     MAY ( businessCategory $ seeAlso $ owner $ ou $ o $ description ) )",
    "( 2.5.6.5 NAME 'organizationalUnit' SUP top STRUCTURAL MUST ou \
     MAY ( businessCategory $ description $ destinationIndicator $ \
     facsimileTelephoneNumber $ internationalISDNNumber $ l $ \
     physicalDeliveryOfficeName $ postalAddress $ postalCode $ postOfficeBox $ \
     preferredDeliveryMethod $ registeredAddress $ searchGuide $ seeAlso $ st $ \
     street $ telephoneNumber $ teletexTerminalIdentifier $ telexNumber $ \
     userPassword $ x121Address ) )",
    "( 2.5.6.4 NAME 'organization' SUP top STRUCTURAL MUST o \
     MAY ( userPassword $ searchGuide $ seeAlso $ businessCategory $ \
     x121Address $ registeredAddress $ destinationIndicator $ \
     preferredDeliveryMethod $ telexNumber $ teletexTerminalIdentifier $ \
     telephoneNumber $ internationalISDNNumber $ facsimileTelephoneNumber $ \
     street $ postOfficeBox $ postalCode $ postalAddress $ \
     physicalDeliveryOfficeName $ st $ l $ description ) )",
    // RFC 4524
    "( 0.9.2342.19200300.100.4.13 NAME 'domain' SUP top STRUCTURAL MUST dc \
     MAY ( userPassword $ searchGuide $ seeAlso $ businessCategory $ \
     x121Address $ registeredAddress $ destinationIndicator $ \
     preferredDeliveryMethod $ telexNumber $ teletexTerminalIdentifier $ \
     telephoneNumber $ internationaliSDNNumber $ facsimileTelephoneNumber $ \
     street $ postOfficeBox $ postalCode $ postalAddress $ \
     physicalDeliveryOfficeName $ st $ l $ description $ o $ \
     associatedName ) )",
    // rfc2307bis: posixGroup auxiliary, beside groupOfNames
    "( 1.3.6.1.1.1.2.0 NAME 'posixAccount' SUP top AUXILIARY \
     DESC 'Abstraction of an account with POSIX attributes' \
     MUST ( cn $ uid $ uidNumber $ gidNumber $ homeDirectory ) \
     MAY ( userPassword $ loginShell $ gecos $ description ) )",
    "( 1.3.6.1.1.1.2.2 NAME 'posixGroup' SUP top AUXILIARY \
     DESC 'Abstraction of a group of accounts' MUST gidNumber \
     MAY ( userPassword $ memberUid $ description ) )",
    // openssh-lpk
    "( 1.3.6.1.4.1.24552.500.1.1.2.0 NAME 'ldapPublicKey' SUP top AUXILIARY \
     DESC 'MANDATORY: OpenSSH LPK objectclass' MAY ( sshPublicKey $ uid ) )",
    // RFC 2798
    "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson \
     STRUCTURAL MAY ( audio $ businessCategory $ carLicense $ departmentNumber $ \
     displayName $ employeeNumber $ employeeType $ givenName $ homePhone $ \
     homePostalAddress $ initials $ jpegPhoto $ labeledURI $ mail $ manager $ \
     mobile $ o $ pager $ photo $ roomNumber $ secretary $ uid $ \
     userCertificate $ x500uniqueIdentifier $ preferredLanguage $ \
     userSMIMECertificate $ userPKCS12 ) )",
];

/// The matching rules the definitions may name: OID, name, assertion syntax.
const MATCHING_RULES: &[(&str, &str, &str)] = &[
    (
        "2.5.13.0",
        "objectIdentifierMatch",
        "1.3.6.1.4.1.1466.115.121.1.38",
    ),
    (
        "2.5.13.1",
        "distinguishedNameMatch",
        "1.3.6.1.4.1.1466.115.121.1.12",
    ),
    (
        "2.5.13.2",
        "caseIgnoreMatch",
        "1.3.6.1.4.1.1466.115.121.1.15",
    ),
    (
        "2.5.13.4",
        "caseIgnoreSubstringsMatch",
        "1.3.6.1.4.1.1466.115.121.1.58",
    ),
    (
        "2.5.13.5",
        "caseExactMatch",
        "1.3.6.1.4.1.1466.115.121.1.15",
    ),
    (
        "2.5.13.11",
        "caseIgnoreListMatch",
        "1.3.6.1.4.1.1466.115.121.1.41",
    ),
    (
        "2.5.13.12",
        "caseIgnoreListSubstringsMatch",
        "1.3.6.1.4.1.1466.115.121.1.58",
    ),
    ("2.5.13.13", "booleanMatch", "1.3.6.1.4.1.1466.115.121.1.7"),
    ("2.5.13.14", "integerMatch", "1.3.6.1.4.1.1466.115.121.1.27"),
    (
        "2.5.13.15",
        "integerOrderingMatch",
        "1.3.6.1.4.1.1466.115.121.1.27",
    ),
    (
        "2.5.13.17",
        "octetStringMatch",
        "1.3.6.1.4.1.1466.115.121.1.40",
    ),
    (
        "2.5.13.20",
        "telephoneNumberMatch",
        "1.3.6.1.4.1.1466.115.121.1.50",
    ),
    (
        "2.5.13.21",
        "telephoneNumberSubstringsMatch",
        "1.3.6.1.4.1.1466.115.121.1.58",
    ),
    (
        "2.5.13.27",
        "generalizedTimeMatch",
        "1.3.6.1.4.1.1466.115.121.1.24",
    ),
    (
        "2.5.13.28",
        "generalizedTimeOrderingMatch",
        "1.3.6.1.4.1.1466.115.121.1.24",
    ),
    (
        "2.5.13.30",
        "objectIdentifierFirstComponentMatch",
        "1.3.6.1.4.1.1466.115.121.1.38",
    ),
    (
        "1.3.6.1.4.1.1466.109.114.1",
        "caseExactIA5Match",
        "1.3.6.1.4.1.1466.115.121.1.26",
    ),
    (
        "1.3.6.1.4.1.1466.109.114.2",
        "caseIgnoreIA5Match",
        "1.3.6.1.4.1.1466.115.121.1.26",
    ),
    (
        "1.3.6.1.4.1.1466.109.114.3",
        "caseIgnoreIA5SubstringsMatch",
        "1.3.6.1.4.1.1466.115.121.1.58",
    ),
    (
        "1.3.6.1.4.1.4203.1.2.1",
        "caseExactIA5SubstringsMatch",
        "1.3.6.1.4.1.1466.115.121.1.58",
    ),
    ("1.3.6.1.1.16.2", "UUIDMatch", "1.3.6.1.1.16.1"),
    ("1.3.6.1.1.16.3", "UUIDOrderingMatch", "1.3.6.1.1.16.1"),
];

/// The syntaxes the definitions and matching rules may name (RFC 4517,
/// RFC 4530 for UUID).
const SYNTAXES: &[(&str, &str)] = &[
    ("1.3.6.1.4.1.1466.115.121.1.3", "Attribute Type Description"),
    ("1.3.6.1.4.1.1466.115.121.1.40", "Octet String"),
    ("1.3.6.1.4.1.1466.115.121.1.7", "Boolean"),
    ("1.3.6.1.4.1.1466.115.121.1.11", "Country String"),
    ("1.3.6.1.4.1.1466.115.121.1.12", "DN"),
    ("1.3.6.1.4.1.1466.115.121.1.15", "Directory String"),
    (
        "1.3.6.1.4.1.1466.115.121.1.22",
        "Facsimile Telephone Number",
    ),
    ("1.3.6.1.4.1.1466.115.121.1.24", "Generalized Time"),
    ("1.3.6.1.4.1.1466.115.121.1.26", "IA5 String"),
    ("1.3.6.1.4.1.1466.115.121.1.27", "INTEGER"),
    ("1.3.6.1.4.1.1466.115.121.1.30", "Matching Rule Description"),
    ("1.3.6.1.4.1.1466.115.121.1.37", "Object Class Description"),
    ("1.3.6.1.4.1.1466.115.121.1.38", "OID"),
    ("1.3.6.1.4.1.1466.115.121.1.41", "Postal Address"),
    ("1.3.6.1.4.1.1466.115.121.1.50", "Telephone Number"),
    ("1.3.6.1.4.1.1466.115.121.1.54", "LDAP Syntax Description"),
    ("1.3.6.1.4.1.1466.115.121.1.58", "Substring Assertion"),
    ("1.3.6.1.1.16.1", "UUID"),
];

/// The DN syntax: values compared as DNs rather than as text.
pub const SYNTAX_DN: &str = "1.3.6.1.4.1.1466.115.121.1.12";

/// A definition the schema could not take. The schema is ours and
/// embedded, so a test keeps this list empty; at run time a bad definition
/// is left out (and logged) rather than stopping the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema definition {definition:?}: {reason}")]
pub struct SchemaError {
    pub definition: String,
    pub reason: String,
}

/// An attribute type (RFC 4512 section 4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeType {
    pub oid: String,
    /// The first is the canonical spelling the entries use.
    pub names: Vec<String>,
    pub sup: Option<String>,
    pub equality: Option<String>,
    pub ordering: Option<String>,
    pub substr: Option<String>,
    /// The syntax OID without a length bound (`{256}`).
    pub syntax: Option<String>,
    pub single_value: bool,
    /// USAGE is not userApplications: returned only when asked for.
    pub operational: bool,
    /// The description as published (whitespace collapsed).
    pub definition: String,
}

impl AttributeType {
    pub fn name(&self) -> &str {
        self.names.first().map_or(&self.oid, String::as_str)
    }
}

/// An object class (RFC 4512 section 4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectClass {
    pub oid: String,
    pub names: Vec<String>,
    pub sup: Vec<String>,
    pub must: Vec<String>,
    pub may: Vec<String>,
    pub definition: String,
}

impl ObjectClass {
    pub fn name(&self) -> &str {
        self.names.first().map_or(&self.oid, String::as_str)
    }
}

/// Every definition the gateway publishes, with look-ups by name or OID.
#[derive(Debug)]
pub struct Schema {
    pub attribute_types: Vec<AttributeType>,
    pub object_classes: Vec<ObjectClass>,
    /// `ldapSyntaxes` values: the syntaxes the definitions use.
    pub ldap_syntaxes: Vec<String>,
    /// `matchingRules` values: the rules the definitions use.
    pub matching_rules: Vec<String>,
    /// Definitions left out; empty for the embedded schema (tested).
    pub problems: Vec<SchemaError>,
    /// Lower-cased names and OIDs to an index in `attribute_types`.
    attribute_index: HashMap<String, usize>,
    class_index: HashMap<String, usize>,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let schema = Schema::build();
    for problem in &schema.problems {
        tracing::error!("LDAP schema: {problem}");
    }
    schema
});

/// The published schema, parsed once.
pub fn schema() -> &'static Schema {
    &SCHEMA
}

/// The canonical spelling of an attribute type named by any of its names
/// or its OID, without regard to case (`COMMONNAME` -> `cn`).
pub fn canonical_attribute(name: &str) -> Option<&'static str> {
    schema().attribute(name).map(AttributeType::name)
}

impl Schema {
    fn build() -> Schema {
        let mut problems = Vec::new();
        let mut attribute_types = Vec::new();
        let mut object_classes = Vec::new();
        let standard = STANDARD_ATTRIBUTE_TYPES
            .iter()
            .map(|d| ("attributetype", d.to_string()))
            .chain(
                STANDARD_OBJECT_CLASSES
                    .iter()
                    .map(|d| ("objectclass", d.to_string())),
            );
        let file = schema_file_definitions(DIRGATE_SCHEMA, &mut problems);
        for (keyword, text) in standard.chain(file) {
            let parsed = if keyword == "attributetype" {
                parse_description(&text).map(|d| attribute_types.push(attribute_type(d)))
            } else {
                parse_description(&text).map(|d| object_classes.push(object_class(d)))
            };
            if let Err(reason) = parsed {
                problems.push(SchemaError {
                    definition: text,
                    reason,
                });
            }
        }

        let mut schema = Schema {
            attribute_index: index(
                attribute_types.iter().map(|a| (&a.oid, &a.names)),
                &mut problems,
            ),
            class_index: index(
                object_classes.iter().map(|c| (&c.oid, &c.names)),
                &mut problems,
            ),
            attribute_types,
            object_classes,
            ldap_syntaxes: Vec::new(),
            matching_rules: Vec::new(),
            problems,
        };
        schema.check_and_collect_rules();
        schema
    }

    /// Checks that every SUP, matching rule and syntax named is known,
    /// and lists the rules and syntaxes used, for the subschema entry.
    fn check_and_collect_rules(&mut self) {
        let mut problems = Vec::new();
        let mut rules: Vec<&(&str, &str, &str)> = Vec::new();
        let mut syntaxes: Vec<&str> = Vec::new();
        let mut fail = |definition: &str, reason: String| {
            problems.push(SchemaError {
                definition: definition.to_owned(),
                reason,
            })
        };
        for at in &self.attribute_types {
            if let Some(sup) = &at.sup {
                if self.attribute(sup).is_none() {
                    fail(&at.definition, format!("unknown superior type {sup}"));
                }
            }
            if at.syntax.is_none() && at.sup.is_none() {
                fail(&at.definition, "neither SYNTAX nor SUP".to_owned());
            }
            for rule in [&at.equality, &at.ordering, &at.substr]
                .into_iter()
                .flatten()
            {
                match MATCHING_RULES
                    .iter()
                    .find(|(oid, name, _)| oid == rule || name.eq_ignore_ascii_case(rule))
                {
                    Some(found) => {
                        if !rules.contains(&found) {
                            rules.push(found);
                        }
                    }
                    None => fail(&at.definition, format!("unknown matching rule {rule}")),
                }
            }
            if let Some(syntax) = &at.syntax {
                if !syntaxes.contains(&syntax.as_str()) {
                    syntaxes.push(syntax);
                }
            }
        }
        for oc in &self.object_classes {
            for sup in &oc.sup {
                if self.object_class(sup).is_none() {
                    fail(&oc.definition, format!("unknown superior class {sup}"));
                }
            }
        }
        for (_, _, syntax) in &rules {
            if !syntaxes.contains(syntax) {
                syntaxes.push(syntax);
            }
        }
        let mut ldap_syntaxes = Vec::new();
        for oid in syntaxes {
            match SYNTAXES.iter().find(|(known, _)| *known == oid) {
                Some((oid, desc)) => ldap_syntaxes.push(format!("( {oid} DESC '{desc}' )")),
                None => fail(oid, "unknown syntax".to_owned()),
            }
        }
        self.matching_rules = rules
            .iter()
            .map(|(oid, name, syntax)| format!("( {oid} NAME '{name}' SYNTAX {syntax} )"))
            .collect();
        self.ldap_syntaxes = ldap_syntaxes;
        self.problems.extend(problems);
    }

    /// An attribute type by any of its names or its OID, ignoring case.
    pub fn attribute(&self, name: &str) -> Option<&AttributeType> {
        find(&self.attribute_index, name).and_then(|i| self.attribute_types.get(i))
    }

    /// An object class by any of its names or its OID, ignoring case.
    pub fn object_class(&self, name: &str) -> Option<&ObjectClass> {
        find(&self.class_index, name).and_then(|i| self.object_classes.get(i))
    }

    /// The syntax of an attribute type, inherited from its superior types.
    pub fn syntax_of(&self, name: &str) -> Option<&str> {
        let mut at = self.attribute(name)?;
        // The superior chain is short; the bound only guards against a loop.
        for _ in 0..8 {
            if let Some(syntax) = &at.syntax {
                return Some(syntax);
            }
            at = self.attribute(at.sup.as_deref()?)?;
        }
        None
    }

    /// The canonical names of every attribute an object class and its
    /// superiors allow (MUST and MAY), for `@class` requests (RFC 4529).
    pub fn class_attributes(&self, class: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut pending = vec![class.to_owned()];
        let mut seen = HashSet::new();
        while let Some(name) = pending.pop() {
            let Some(oc) = self.object_class(&name) else {
                continue;
            };
            if !seen.insert(oc.oid.clone()) {
                continue;
            }
            for attr in oc.must.iter().chain(&oc.may) {
                let canonical = self
                    .attribute(attr)
                    .map_or(attr.as_str(), AttributeType::name);
                if !out
                    .iter()
                    .any(|o: &String| o.eq_ignore_ascii_case(canonical))
                {
                    out.push(canonical.to_owned());
                }
            }
            pending.extend(oc.sup.iter().cloned());
        }
        out
    }
}

/// A definition's position by a name in any case: as written in the
/// schema first (how the gateway itself spells them, so no copy is made),
/// then lower-cased.
fn find(index: &HashMap<String, usize>, name: &str) -> Option<usize> {
    index.get(name).copied().or_else(|| match lower(name) {
        std::borrow::Cow::Owned(l) => index.get(&l).copied(),
        std::borrow::Cow::Borrowed(_) => None,
    })
}

/// Maps every lower-cased name and OID to the definition's position,
/// reporting a name or OID defined twice; names are also kept as written,
/// for `find`.
fn index<'a>(
    defs: impl Iterator<Item = (&'a String, &'a Vec<String>)>,
    problems: &mut Vec<SchemaError>,
) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    let mut as_written = Vec::new();
    for (i, (oid, names)) in defs.enumerate() {
        for key in std::iter::once(oid).chain(names) {
            as_written.push((key.clone(), i));
            if map.insert(key.to_lowercase(), i).is_some() {
                problems.push(SchemaError {
                    definition: key.clone(),
                    reason: "defined twice".to_owned(),
                });
            }
        }
    }
    for (key, i) in as_written {
        map.entry(key).or_insert(i);
    }
    map
}

/// The definitions of an OpenLDAP-style schema file: `#` comment lines,
/// definitions starting with `attributetype` or `objectclass` and
/// continued on lines that start with whitespace. Yields the keyword (lower
/// case) and the description with its whitespace collapsed.
fn schema_file_definitions(
    text: &str,
    problems: &mut Vec<SchemaError>,
) -> Vec<(&'static str, String)> {
    let mut joined: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            match joined.last_mut() {
                Some(current) => {
                    current.push(' ');
                    current.push_str(line.trim());
                }
                None => problems.push(SchemaError {
                    definition: line.to_owned(),
                    reason: "a continuation line with nothing to continue".to_owned(),
                }),
            }
        } else {
            joined.push(line.trim().to_owned());
        }
    }
    let mut out = Vec::new();
    for definition in joined {
        let (keyword, rest) = definition
            .split_once(char::is_whitespace)
            .unwrap_or((definition.as_str(), ""));
        let keyword = if keyword.eq_ignore_ascii_case("attributetype") {
            "attributetype"
        } else if keyword.eq_ignore_ascii_case("objectclass") {
            "objectclass"
        } else {
            problems.push(SchemaError {
                definition: definition.clone(),
                reason: format!("unknown keyword {keyword:?}"),
            });
            continue;
        };
        out.push((keyword, rest.to_owned()));
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Dollar,
    Quoted(String),
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '$' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Dollar,
                });
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => s.push(c),
                        None => return Err("an unterminated quoted string".to_owned()),
                    }
                }
                tokens.push(Token::Quoted(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '$' | '\'') {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(s));
            }
        }
    }
    Ok(tokens)
}

/// A parsed description: its OID and each keyword with its values (none
/// for flags such as SINGLE-VALUE), keywords upper-cased.
struct Description {
    oid: String,
    terms: Vec<(String, Vec<String>)>,
    text: String,
}

impl Description {
    fn values(&self, keyword: &str) -> Vec<String> {
        self.terms
            .iter()
            .filter(|(k, _)| k == keyword)
            .flat_map(|(_, v)| v.iter().cloned())
            .collect()
    }
    fn value(&self, keyword: &str) -> Option<String> {
        self.values(keyword).into_iter().next()
    }
    fn has(&self, keyword: &str) -> bool {
        self.terms.iter().any(|(k, _)| k == keyword)
    }
}

/// Parses `( oid KEYWORD value ... )` (RFC 4512 section 4.1).
fn parse_description(text: &str) -> Result<Description, String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let tokens = tokenize(&text)?;
    let mut it = tokens.into_iter().peekable();
    if it.next() != Some(Token::Open) {
        return Err("does not start with '('".to_owned());
    }
    let Some(Token::Word(oid)) = it.next() else {
        return Err("no OID after '('".to_owned());
    };
    if !oid
        .split('.')
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("{oid:?} is not a numeric OID"));
    }
    let mut terms = Vec::new();
    loop {
        let keyword = match it.next() {
            Some(Token::Close) if it.peek().is_none() => break,
            Some(Token::Word(k)) => k.to_uppercase(),
            Some(other) => return Err(format!("unexpected {other:?}")),
            None => return Err("no closing ')'".to_owned()),
        };
        let values = match keyword.as_str() {
            "OBSOLETE"
            | "SINGLE-VALUE"
            | "COLLECTIVE"
            | "NO-USER-MODIFICATION"
            | "ABSTRACT"
            | "STRUCTURAL"
            | "AUXILIARY" => Vec::new(),
            "EQUALITY" | "ORDERING" | "SUBSTR" | "SYNTAX" | "USAGE" => match it.next() {
                Some(Token::Word(w)) => vec![w],
                _ => return Err(format!("{keyword} needs a value")),
            },
            "NAME" | "DESC" => quoted_list(&mut it, &keyword)?,
            k if k.starts_with("X-") => quoted_list(&mut it, &keyword)?,
            "SUP" | "MUST" | "MAY" => oid_list(&mut it, &keyword)?,
            _ => return Err(format!("unknown keyword {keyword}")),
        };
        terms.push((keyword, values));
    }
    Ok(Description { oid, terms, text })
}

/// `'a'` or `( 'a' 'b' )`.
fn quoted_list(it: &mut impl Iterator<Item = Token>, keyword: &str) -> Result<Vec<String>, String> {
    match it.next() {
        Some(Token::Quoted(s)) => Ok(vec![s]),
        Some(Token::Open) => {
            let mut out = Vec::new();
            loop {
                match it.next() {
                    Some(Token::Quoted(s)) => out.push(s),
                    Some(Token::Close) => return Ok(out),
                    _ => return Err(format!("bad list after {keyword}")),
                }
            }
        }
        _ => Err(format!("{keyword} needs a quoted value")),
    }
}

/// `a` or `( a $ b )`.
fn oid_list(it: &mut impl Iterator<Item = Token>, keyword: &str) -> Result<Vec<String>, String> {
    match it.next() {
        Some(Token::Word(w)) => Ok(vec![w]),
        Some(Token::Open) => {
            // Words alternate with `$`: a word is due first and after
            // each `$`, a `$` or `)` after each word.
            let mut out = Vec::new();
            let mut word_due = true;
            loop {
                match (it.next(), word_due) {
                    (Some(Token::Word(w)), true) => out.push(w),
                    (Some(Token::Dollar), false) => {}
                    (Some(Token::Close), false) => return Ok(out),
                    _ => return Err(format!("bad list after {keyword}")),
                }
                word_due = !word_due;
            }
        }
        _ => Err(format!("{keyword} needs a value")),
    }
}

fn attribute_type(d: Description) -> AttributeType {
    let usage = d.value("USAGE");
    AttributeType {
        names: d.values("NAME"),
        sup: d.value("SUP"),
        equality: d.value("EQUALITY"),
        ordering: d.value("ORDERING"),
        substr: d.value("SUBSTR"),
        // A length bound (`{256}`) is a hint, not part of the syntax.
        syntax: d
            .value("SYNTAX")
            .map(|s| s.split('{').next().unwrap_or_default().to_owned()),
        single_value: d.has("SINGLE-VALUE"),
        operational: usage.is_some_and(|u| !u.eq_ignore_ascii_case("userApplications")),
        oid: d.oid,
        definition: d.text,
    }
}

fn object_class(d: Description) -> ObjectClass {
    ObjectClass {
        names: d.values("NAME"),
        sup: d.values("SUP"),
        must: d.values("MUST"),
        may: d.values("MAY"),
        oid: d.oid,
        definition: d.text,
    }
}

/// `cn=Subschema`: every definition the gateway publishes.
pub fn subschema_entry(sel: &Selection) -> LdapSearchResultEntry {
    let s = schema();
    let mut b = EntryBuilder::new(sel);
    b.add(
        "objectClass",
        ["top", "subentry", "subschema", "extensibleObject"],
    );
    b.add("cn", ["Subschema"]);
    b.add("structuralObjectClass", ["subentry"]);
    b.add("entryDN", [SUBSCHEMA_DN]);
    b.add("subschemaSubentry", [SUBSCHEMA_DN]);
    b.add("ldapSyntaxes", s.ldap_syntaxes.iter().cloned());
    b.add("matchingRules", s.matching_rules.iter().cloned());
    b.add(
        "attributeTypes",
        s.attribute_types.iter().map(|a| a.definition.clone()),
    );
    b.add(
        "objectClasses",
        s.object_classes.iter().map(|c| c.definition.clone()),
    );
    b.finish(SUBSCHEMA_DN)
}

/// The root DSE: what this server is and supports. Its attributes are
/// operational, but clients expect them from a plain
/// `ldapsearch -s base -b ""`, so an empty selection, `*` and `+` all
/// return every one (`1.1` none), as well as each by name.
pub fn root_dse(layout: &Layout, sel: &Selection) -> LdapSearchResultEntry {
    let mut b = EntryBuilder::root_dse(sel);
    b.add("objectClass", ["top"]);
    b.add("namingContexts", [layout.base_dn()]);
    b.add("subschemaSubentry", [SUBSCHEMA_DN]);
    b.add("supportedLDAPVersion", ["3"]);
    b.add(
        "supportedExtension",
        [OID_STARTTLS, OID_WHO_AM_I, OID_PASSWORD_MODIFY],
    );
    b.add(
        "supportedControl",
        [OID_PAGED_RESULTS, OID_SERVER_SORT, OID_MANAGE_DSA_IT],
    );
    b.add(
        "supportedFeatures",
        [FEATURE_ALL_OPERATIONAL, FEATURE_CLASS_ATTRIBUTES],
    );
    b.add("vendorName", ["dirgate"]);
    b.add("vendorVersion", [env!("CARGO_PKG_VERSION")]);
    b.finish("")
}

/// `name` in lower case, copied only when it has capitals: lookups by
/// attribute name run for every attribute of every entry a search returns.
pub(super) fn lower(name: &str) -> std::borrow::Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) || !name.is_ascii() {
        std::borrow::Cow::Owned(name.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use jiff::Timestamp;
    use uuid::Uuid;

    use super::*;
    use crate::ldap::entry::tests::{names, values};
    use crate::ldap::entry::{group_entry, person_entry};
    use crate::model::query::Related;
    use crate::model::{Account, AccountType, AdminLevel, AuthMethod, Node, NodeKind, Status};

    fn all() -> Selection {
        Selection::all()
    }

    #[test]
    fn the_embedded_schema_has_no_problems() {
        assert_eq!(schema().problems, Vec::<SchemaError>::new());
    }

    #[test]
    fn every_dirgate_attribute_type_is_published_with_its_oid() {
        let published = subschema_entry(&all());
        let types = values(&published, "attributeTypes");
        // Read the file independently of the parser: each definition's OID
        // is the token after "attributetype (", its name the next quoted one.
        let mut count = 0;
        for chunk in DIRGATE_SCHEMA.split("\nattributetype").skip(1) {
            let oid = chunk.split_whitespace().nth(1).unwrap();
            let name = chunk.split('\'').nth(1).unwrap();
            let prefix = format!("( {oid} NAME '{name}' ");
            assert!(
                types.iter().any(|t| t.starts_with(&prefix)),
                "{prefix} is not published"
            );
            count += 1;
        }
        assert_eq!(count, 15);
        let classes = values(&published, "objectClasses");
        for (oid, name) in [
            (
                "2.25.59216482830441272361081519222269299042.2.1",
                "dirgatePerson",
            ),
            (
                "2.25.59216482830441272361081519222269299042.2.2",
                "dirgateNode",
            ),
        ] {
            let prefix = format!("( {oid} NAME '{name}' ");
            assert!(classes.iter().any(|c| c.starts_with(&prefix)), "{name}");
        }
        // Continuation lines are joined: the MAY list of dirgatePerson is whole.
        let person = schema().object_class("DIRGATEPERSON").unwrap();
        assert_eq!(person.may.len(), 13);
        assert_eq!(
            person.may.last().map(String::as_str),
            Some("dirgateDivision")
        );
    }

    #[test]
    fn standard_definitions_parse_as_written() {
        let s = schema();
        let cn = s.attribute("commonName").unwrap();
        assert_eq!(cn.oid, "2.5.4.3");
        assert_eq!(cn.names, ["cn", "commonName"]);
        assert_eq!(s.syntax_of("cn"), Some("1.3.6.1.4.1.1466.115.121.1.15"));
        assert_eq!(s.syntax_of("member"), Some(SYNTAX_DN));
        assert_eq!(
            s.attribute("mail").unwrap().syntax.as_deref(),
            Some("1.3.6.1.4.1.1466.115.121.1.26")
        );
        assert!(s.attribute("entryUUID").unwrap().operational);
        assert!(!s.attribute("memberOf").unwrap().operational);
        assert_eq!(
            s.attribute("1.2.840.113556.1.2.102").unwrap().name(),
            "memberOf"
        );
        assert_eq!(canonical_attribute("GIVENNAME"), Some("givenName"));
        assert_eq!(canonical_attribute("surname"), Some("sn"));
        assert_eq!(canonical_attribute("userPassword"), None);
        let inet = s.class_attributes("inetOrgPerson");
        for a in ["uid", "mail", "sn", "cn", "objectClass", "telephoneNumber"] {
            assert!(inet.iter().any(|x| x == a), "{a}");
        }
    }

    #[test]
    fn subschema_lists_the_syntaxes_and_rules_used() {
        let e = subschema_entry(&all());
        assert_eq!(e.dn, "cn=Subschema");
        assert_eq!(
            values(&e, "objectClass"),
            ["top", "subentry", "subschema", "extensibleObject"]
        );
        assert_eq!(values(&e, "cn"), ["Subschema"]);
        let syntaxes = values(&e, "ldapSyntaxes");
        assert!(syntaxes.contains(&"( 1.3.6.1.4.1.1466.115.121.1.12 DESC 'DN' )"));
        assert!(syntaxes.contains(&"( 1.3.6.1.4.1.1466.115.121.1.7 DESC 'Boolean' )"));
        assert!(syntaxes.contains(&"( 1.3.6.1.1.16.1 DESC 'UUID' )"));
        // Used by caseIgnoreSubstringsMatch only.
        assert!(syntaxes.contains(&"( 1.3.6.1.4.1.1466.115.121.1.58 DESC 'Substring Assertion' )"));
        let rules = values(&e, "matchingRules");
        assert!(rules
            .contains(&"( 2.5.13.2 NAME 'caseIgnoreMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )"));
        assert!(rules
            .contains(&"( 2.5.13.13 NAME 'booleanMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 )"));
        // Not used by any definition.
        assert!(!rules.iter().any(|r| r.contains("'caseExactMatch'")));
    }

    #[test]
    fn subschema_definitions_are_operational() {
        let user_only = subschema_entry(&Selection::new(&[], false));
        assert_eq!(names(&user_only), ["objectClass", "cn"]);
        let ops = subschema_entry(&Selection::new(&["+".into()], false));
        assert!(names(&ops).contains(&"attributeTypes"));
        assert!(!names(&ops).contains(&"cn"));
        let named = subschema_entry(&Selection::new(&["objectclasses".into()], false));
        assert_eq!(names(&named), ["objectClasses"]);
    }

    fn full_account() -> Account {
        Account {
            id: 1,
            uuid: Uuid::nil(),
            user_name: "alice".into(),
            login_name: None,
            given_name: "Alice".into(),
            family_name: "Smith".into(),
            email: Some("a@x".into()),
            mobile: Some("+1".into()),
            time_zone: "UTC".into(),
            account_type: AccountType::Administrator,
            auth_method: AuthMethod::Password,
            restricted_to: Some(10),
            manager: Some(2),
            admin_level: AdminLevel::AccountAdmin,
            admin_entity: Some(10),
            roles: vec!["user-management".into()],
            status: Status::Active,
            archived: false,
            reset_pending: false,
            has_password: true,
            totp_enrolled: true,
            external_id: Some("ext".into()),
            attributes: Default::default(),
            created: Timestamp::UNIX_EPOCH,
            modified: Timestamp::UNIX_EPOCH,
            version: 1,
        }
    }

    #[test]
    fn every_attribute_an_entry_emits_is_defined_with_the_right_usage() {
        let layout = Layout::new("dc=example,dc=com").unwrap();
        let node = Node {
            id: 10,
            uuid: Uuid::nil(),
            name: "Sales".into(),
            kind: NodeKind::Group,
            parent: Some(11),
            external_id: None,
            gid_number: None,
            created: Timestamp::UNIX_EPOCH,
            modified: Timestamp::UNIX_EPOCH,
            version: 1,
        };
        let rel = Related {
            account_names: HashMap::from([(1, "alice".into()), (2, "bob".into())]),
            node_names: HashMap::from([(10, "Sales".into()), (11, "Acme".into())]),
            groups_of: HashMap::from([(1, vec![10])]),
            members_of: HashMap::from([(10, vec![1])]),
            children_of: HashMap::from([(11, vec![10]), (10, vec![12])]),
            ..Related::default()
        };
        let user = Selection::new(&[], false);
        let op = Selection::new(&["+".into()], false);
        let s = schema();
        for (sel, operational) in [(&user, false), (&op, true)] {
            let entries = [
                person_entry(&full_account(), &rel, &layout, sel),
                group_entry(&node, &rel, &layout, sel),
                crate::ldap::entry::base_entry(&layout, sel),
                crate::ldap::entry::people_ou_entry(&layout, sel),
                crate::ldap::entry::groups_ou_entry(&layout, sel),
                subschema_entry(sel),
            ];
            for e in &entries {
                for name in names(e) {
                    let at = s
                        .attribute(name)
                        .unwrap_or_else(|| panic!("{name} of {} has no definition", e.dn));
                    assert_eq!(at.name(), name, "canonical spelling");
                    assert_eq!(at.operational, operational, "{name}");
                }
            }
        }
        let dse = root_dse(&layout, &all());
        for name in names(&dse) {
            assert!(s.attribute(name).is_some(), "{name}");
        }
        // Every attribute of the gateway's classes that entries emit is
        // allowed by one of the entry's classes.
        let person = person_entry(&full_account(), &rel, &layout, &user);
        let allowed: Vec<String> = values(&person, "objectClass")
            .iter()
            .flat_map(|c| s.class_attributes(c))
            .collect();
        for name in names(&person) {
            if name != "memberOf" {
                assert!(allowed.iter().any(|a| a == name), "{name} not allowed");
            }
        }
    }

    #[test]
    fn root_dse_describes_the_server() {
        let layout = Layout::new("dc=example,dc=com").unwrap();
        let e = root_dse(&layout, &Selection::new(&[], false));
        assert_eq!(e.dn, "");
        assert_eq!(values(&e, "objectClass"), ["top"]);
        assert_eq!(values(&e, "namingContexts"), ["dc=example,dc=com"]);
        assert_eq!(values(&e, "supportedLDAPVersion"), ["3"]);
        assert_eq!(
            values(&e, "supportedExtension"),
            [
                "1.3.6.1.4.1.1466.20037",
                "1.3.6.1.4.1.4203.1.11.3",
                "1.3.6.1.4.1.4203.1.11.1"
            ]
        );
        assert_eq!(
            values(&e, "supportedControl"),
            [
                "1.2.840.113556.1.4.319",
                "1.2.840.113556.1.4.473",
                "2.16.840.1.113730.3.4.2"
            ]
        );
        assert_eq!(
            values(&e, "supportedFeatures"),
            ["1.3.6.1.4.1.4203.1.5.1", "1.3.6.1.4.1.4203.1.5.2"]
        );
        assert_eq!(values(&e, "vendorName"), ["dirgate"]);
        assert_eq!(values(&e, "vendorVersion"), [env!("CARGO_PKG_VERSION")]);
        assert_eq!(values(&e, "subschemaSubentry"), ["cn=Subschema"]);

        for asked in [vec!["*".to_string()], vec!["+".to_string()]] {
            assert_eq!(
                names(&root_dse(&layout, &Selection::new(&asked, false))),
                names(&e)
            );
        }
        let one = root_dse(&layout, &Selection::new(&["NAMINGCONTEXTS".into()], false));
        assert_eq!(names(&one), ["namingContexts"]);
        let none = root_dse(&layout, &Selection::new(&["1.1".into()], false));
        assert!(none.attributes.is_empty());
        let types = root_dse(&layout, &Selection::new(&[], true));
        assert_eq!(names(&types), names(&e));
        assert!(types.attributes.iter().all(|a| a.vals.is_empty()));
    }

    #[test]
    fn description_parser_rejects_malformed_text() {
        for bad in [
            "2.5.4.3 NAME 'cn'",
            "( cn NAME 'cn' )",
            "( 2.5.4.3 NAME 'cn' ",
            "( 2.5.4.3 NAME 'cn )",
            "( 2.5.4.3 NAME cn )",
            "( 2.5.4.3 BOGUS x )",
            "( 2.5.4.3 MAY ( a $ ) )",
            "( 2.5.4.3 MAY ( a b ) )",
            "( 2.5.4.3 MAY ( ) )",
            "( 2.5.4.3 ) x",
        ] {
            assert!(parse_description(bad).is_err(), "{bad}");
        }
        let d = parse_description("( 1.2 NAME 'x' X-ORIGIN ( 'a' 'b' ) MAY ( a $ b ) )").unwrap();
        assert_eq!(d.values("MAY"), ["a", "b"]);
        assert_eq!(d.values("X-ORIGIN"), ["a", "b"]);
    }

    #[test]
    fn schema_file_reader_joins_continuations_and_reports_strays() {
        let mut problems = Vec::new();
        let defs = schema_file_definitions(
            "# c\n\tstray\nattributetype ( 1.1\n\tNAME 'a' )\nObjectClass ( 1.2\n  NAME 'b' )\nbogus ( 1.3 )\n",
            &mut problems,
        );
        assert_eq!(
            defs,
            [
                ("attributetype", "( 1.1 NAME 'a' )".to_string()),
                ("objectclass", "( 1.2 NAME 'b' )".to_string())
            ]
        );
        assert_eq!(problems.len(), 2);
    }
}
