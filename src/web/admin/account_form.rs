//! An account's fields as the console shows and reads them, with the
//! manual's labels: the Add form and the entry's edit form share them.
//! A refusal of the core is shown beside the field it concerns.

use crate::core::access::{self, Actor, Scope};
use crate::core::CoreError;
use crate::model::{Account, AccountType, AdminLevel, AuthMethod, Node, NodeKind, Status};
use crate::web::account::time_zone_names;
use crate::web::form::Form;
use crate::web::page::escape;

/// What the form holds, as typed (never a password).
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub user_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub mobile: String,
    pub auth_method: String,
    pub time_zone: String,
    pub account_type: String,
    /// A node's uuid, or "" for none.
    pub restricted_to: String,
    /// A user name, or "".
    pub manager: String,
    pub roles: Vec<String>,
    pub admin_level: String,
    /// A business entity's uuid, or "".
    pub admin_entity: String,
    pub status: String,
}

impl Values {
    /// What a browser posted over `base` (what the account holds, or the
    /// Add form's defaults): a field the post leaves out stays as it is,
    /// and the roles only change when the post carries the roles part of
    /// the form (`roles-shown`).
    pub fn from_form(f: &Form, base: &Values) -> Values {
        let get = |n: &str, now: &str| {
            if f.has(n) {
                f.get(n).trim().to_owned()
            } else {
                now.to_owned()
            }
        };
        let roles = if f.has("roles-shown") {
            f.names_after("role-")
                .filter(|r| f.get(&format!("role-{r}")) == "on")
                .map(str::to_owned)
                .collect()
        } else {
            base.roles.clone()
        };
        Values {
            user_name: get("user_name", &base.user_name),
            first_name: get("first_name", &base.first_name),
            last_name: get("last_name", &base.last_name),
            email: get("email", &base.email),
            mobile: get("mobile", &base.mobile),
            auth_method: get("auth_method", &base.auth_method),
            time_zone: get("time_zone", &base.time_zone),
            account_type: get("account_type", &base.account_type),
            restricted_to: get("restricted_to", &base.restricted_to),
            manager: get("manager", &base.manager),
            roles,
            admin_level: get("admin_level", &base.admin_level),
            admin_entity: get("admin_entity", &base.admin_entity),
            status: get("status", &base.status),
        }
    }

    /// An account as it is; `node_uuid` and `manager` name its references.
    pub fn of(
        a: &Account,
        restricted_to: Option<&Node>,
        admin_entity: Option<&Node>,
        manager: Option<&str>,
    ) -> Values {
        Values {
            user_name: a.user_name.clone(),
            first_name: a.given_name.clone(),
            last_name: a.family_name.clone(),
            email: a.email.clone().unwrap_or_default(),
            mobile: a.mobile.clone().unwrap_or_default(),
            auth_method: a.auth_method.as_str().into(),
            time_zone: a.time_zone.clone(),
            account_type: a.account_type.as_str().into(),
            restricted_to: restricted_to
                .map(|n| n.uuid.to_string())
                .unwrap_or_default(),
            manager: manager.unwrap_or_default().to_owned(),
            roles: a.roles.clone(),
            admin_level: a.admin_level.as_str().into(),
            admin_entity: admin_entity.map(|n| n.uuid.to_string()).unwrap_or_default(),
            status: a.status.as_str().into(),
        }
    }
}

/// Problems found, each beside its field ("" is the form as a whole).
#[derive(Debug, Default)]
pub struct Errors(Vec<(&'static str, String)>);

impl Errors {
    pub fn add(&mut self, field: &'static str, text: impl Into<String>) {
        self.0.push((field, text.into()));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn of(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, t)| t.as_str())
            .collect()
    }
    /// A summary for the top of the form, linking to each field.
    pub fn summary(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let items: String = self
            .0
            .iter()
            .map(|(f, t)| {
                if f.is_empty() {
                    format!("<li>{}</li>", escape(t))
                } else {
                    format!("<li><a href=\"#{f}\">{}</a></li>", escape(t))
                }
            })
            .collect();
        format!(
            "<div class=\"error\" role=\"alert\"><p>Nothing was saved:</p><ul>{items}</ul></div>"
        )
    }
}

/// The field a refusal of the core concerns, so that it is shown there.
pub fn field_of(e: &CoreError) -> &'static str {
    match e {
        CoreError::InvalidUserName { .. } => "user_name",
        CoreError::Conflict(what) if what.contains("user name") => "user_name",
        CoreError::PasswordPolicy(_) => "password",
        CoreError::InvalidTimeZone(_) => "time_zone",
        CoreError::UnknownRole(_) => "roles",
        CoreError::InvalidValue { field, .. } => match *field {
            "email" => "email",
            "mobile phone" => "mobile",
            "first name" => "first_name",
            "last name" => "last_name",
            "authentication method" => "auth_method",
            "manager" => "manager",
            "business entity" => "admin_entity",
            _ => "",
        },
        CoreError::NotFound("group") => "restricted_to",
        CoreError::NotFound("account") => "manager",
        CoreError::Forbidden(reason) => {
            if reason.contains("account type") {
                "account_type"
            } else if reason.contains("security role") {
                "roles"
            } else if reason.contains("restrict") {
                "restricted_to"
            } else if reason.contains("manager") || reason.contains("branch") {
                "manager"
            } else if reason.contains("super admin") {
                "admin_level"
            } else {
                ""
            }
        }
        _ => "",
    }
}

/// What the form offers the signed-in account.
pub struct Choices {
    /// Groups and business entities it may restrict an account to.
    pub nodes: Vec<Node>,
    /// Whether "none" is a restriction it may choose.
    pub unrestricted: bool,
    /// Security roles it may grant.
    pub roles: Vec<String>,
    /// Whether it may set the admin level (super admins).
    pub admin_levels: bool,
}

impl Choices {
    pub fn for_actor(actor: &Actor, nodes: Vec<Node>, roles: Vec<String>) -> Choices {
        Choices {
            nodes,
            unrestricted: access::scope(actor) == Scope::Everywhere,
            roles,
            admin_levels: actor.is_super(),
        }
    }
}

/// Which form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Add,
    Edit,
}

fn errors_html(id: &str, errors: &Errors) -> (String, String) {
    let list = errors.of(id);
    if list.is_empty() {
        return (String::new(), String::new());
    }
    let text = list.iter().map(|t| escape(t)).collect::<Vec<_>>().join(" ");
    (
        format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\""),
        format!("<p class=\"field-error\" id=\"{id}-error\">{text}</p>"),
    )
}

fn input(id: &str, label: &str, value: &str, errors: &Errors, extra: &str) -> String {
    let (aria, error) = errors_html(id, errors);
    format!(
        "<label for=\"{id}\">{label}</label>\
         <input id=\"{id}\" name=\"{id}\" value=\"{value}\"{aria}{extra}>{error}",
        value = escape(value),
    )
}

fn select(
    id: &str,
    label: &str,
    options: &[(String, String)],
    current: &str,
    errors: &Errors,
) -> String {
    let (aria, error) = errors_html(id, errors);
    let options: String = options
        .iter()
        .map(|(v, l)| {
            let selected = if v == current { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                escape(v),
                escape(l)
            )
        })
        .collect();
    format!(
        "<label for=\"{id}\">{label}</label>\
         <select id=\"{id}\" name=\"{id}\"{aria}>{options}</select>{error}"
    )
}

fn node_label(n: &Node) -> String {
    format!("{} ({})", n.name, n.kind.display_name())
}

/// The fields, in the manual's order and with its labels.
pub fn fields(mode: Mode, v: &Values, e: &Errors, c: &Choices) -> String {
    let mut out = String::new();
    out.push_str(&input(
        "user_name",
        "User Name",
        &v.user_name,
        e,
        " required autocapitalize=\"none\" autocomplete=\"off\" pattern=\"[A-Za-z0-9]+\"",
    ));
    if mode == Mode::Add {
        let (aria, error) = errors_html("password", e);
        out.push_str(&format!(
            "<label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\"{aria}>{error}\
             <label for=\"password2\">Repeat Password</label>\
             <input id=\"password2\" name=\"password2\" type=\"password\" autocomplete=\"new-password\">"
        ));
    }
    out.push_str(&input("first_name", "First Name", &v.first_name, e, ""));
    out.push_str(&input("last_name", "Last Name", &v.last_name, e, ""));
    out.push_str(&input(
        "email",
        "Email Address",
        &v.email,
        e,
        " type=\"email\" autocomplete=\"off\"",
    ));
    out.push_str(&input(
        "mobile",
        "Mobile Phone",
        &v.mobile,
        e,
        " type=\"tel\" autocomplete=\"off\"",
    ));
    let methods: Vec<(String, String)> = AuthMethod::ALL
        .iter()
        .map(|m| (m.as_str().to_owned(), m.display_name().to_owned()))
        .collect();
    out.push_str(&select(
        "auth_method",
        "Authentication Method",
        &methods,
        &v.auth_method,
        e,
    ));
    out.push_str(&input(
        "time_zone",
        "Time Zone",
        &v.time_zone,
        e,
        " list=\"time-zones\" autocomplete=\"off\"",
    ));
    out.push_str("<datalist id=\"time-zones\">");
    for name in time_zone_names() {
        out.push_str(&format!("<option value=\"{}\">", escape(name)));
    }
    out.push_str("</datalist>");
    let types: Vec<(String, String)> = AccountType::ALL
        .iter()
        .map(|t| (t.as_str().to_owned(), t.display_name().to_owned()))
        .collect();
    out.push_str(&select(
        "account_type",
        "Account Type",
        &types,
        &v.account_type,
        e,
    ));
    let mut nodes: Vec<(String, String)> = Vec::new();
    if c.unrestricted {
        nodes.push((String::new(), "(none)".into()));
    }
    nodes.extend(c.nodes.iter().map(|n| (n.uuid.to_string(), node_label(n))));
    out.push_str(&select(
        "restricted_to",
        "Restrict Access To",
        &nodes,
        &v.restricted_to,
        e,
    ));
    out.push_str(&input(
        "manager",
        "Manager (user name; empty: you)",
        &v.manager,
        e,
        " autocapitalize=\"none\" autocomplete=\"off\"",
    ));
    if !c.roles.is_empty() {
        let (_, error) = errors_html("roles", e);
        out.push_str("<fieldset id=\"roles\"><legend>Security Roles</legend><input type=\"hidden\" name=\"roles-shown\" value=\"1\">");
        for role in &c.roles {
            let checked = if v.roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
                " checked"
            } else {
                ""
            };
            out.push_str(&format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"role-{r}\"{checked}> {r}</label>",
                r = escape(role)
            ));
        }
        out.push_str(&error);
        out.push_str("</fieldset>");
    }
    if c.admin_levels {
        let levels: Vec<(String, String)> = AdminLevel::ALL
            .iter()
            .map(|l| (l.as_str().to_owned(), l.display_name().to_owned()))
            .collect();
        out.push_str(&select(
            "admin_level",
            "Admin Level",
            &levels,
            &v.admin_level,
            e,
        ));
        let mut entities = vec![(String::new(), "(none)".to_owned())];
        entities.extend(
            c.nodes
                .iter()
                .filter(|n| n.kind == NodeKind::BusinessEntity)
                .map(|n| (n.uuid.to_string(), n.name.clone())),
        );
        out.push_str(&select(
            "admin_entity",
            "Business Entity (for an Account Admin)",
            &entities,
            &v.admin_entity,
            e,
        ));
    }
    if mode == Mode::Edit {
        let statuses: Vec<(String, String)> = Status::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), s.display_name().to_owned()))
            .collect();
        out.push_str(&select("status", "Status", &statuses, &v.status, e));
    }
    out
}

/// The form's references and choices as the core knows them.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub account_type: AccountType,
    pub auth_method: AuthMethod,
    pub restricted_to: Option<crate::model::NodeId>,
    pub manager: Option<crate::model::AccountId>,
    pub admin_level: AdminLevel,
    pub admin_entity: Option<crate::model::NodeId>,
    pub status: Status,
}

fn parsed<T: std::str::FromStr>(
    value: &str,
    field: &'static str,
    default: T,
    errors: &mut Errors,
) -> T
where
    T::Err: std::fmt::Display,
{
    if value.is_empty() {
        return default;
    }
    value.parse().unwrap_or_else(|e: T::Err| {
        errors.add(field, crate::web::capitalise(&e.to_string()) + ".");
        default
    })
}

/// Checks each field with the core's own rules, so that every problem is
/// named at once beside its field, and resolves the references as `actor`
/// sees them (a group or manager it cannot see is "no such"). Blocking:
/// run on the store pool.
pub fn check(
    d: &crate::core::Directory,
    actor: &Actor,
    v: &Values,
    mode: Mode,
) -> crate::core::CoreResult<(Resolved, Errors)> {
    use crate::core::validate;
    let mut errors = Errors::default();
    let field =
        |errors: &mut Errors, r: crate::core::CoreResult<()>| -> crate::core::CoreResult<()> {
            match r {
                Ok(()) => Ok(()),
                Err(e @ (CoreError::Store(_) | CoreError::ShuttingDown)) => Err(e),
                Err(e) => {
                    let f = field_of(&e);
                    errors.add(f, crate::web::capitalise(&e.to_string()) + ".");
                    Ok(())
                }
            }
        };
    field(&mut errors, validate::user_name(&v.user_name))?;
    if !v.email.is_empty() {
        field(&mut errors, validate::email(&v.email).map(|_| ()))?;
    }
    if !v.mobile.is_empty() {
        field(&mut errors, validate::mobile(&v.mobile).map(|_| ()))?;
    }
    if !v.time_zone.is_empty() || mode == Mode::Edit {
        field(&mut errors, validate::time_zone(&v.time_zone))?;
    }
    let account_type = parsed(
        &v.account_type,
        "account_type",
        AccountType::ReportReader,
        &mut errors,
    );
    let auth_method = parsed(
        &v.auth_method,
        "auth_method",
        AuthMethod::Password,
        &mut errors,
    );
    let admin_level = parsed(&v.admin_level, "admin_level", AdminLevel::None, &mut errors);
    let status = parsed(&v.status, "status", Status::Active, &mut errors);
    let node = |uuid: &str,
                what: &'static str,
                errors: &mut Errors|
     -> crate::core::CoreResult<Option<crate::model::NodeId>> {
        if uuid.is_empty() {
            return Ok(None);
        }
        let found = match uuid.parse::<uuid::Uuid>() {
            Ok(u) => d.node_by_uuid(actor, u),
            Err(_) => Err(CoreError::NotFound("group")),
        };
        match found {
            Ok(n) => Ok(Some(n.id)),
            Err(CoreError::NotFound(_)) => {
                errors.add(what, "There is no such group or business entity.");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    };
    let restricted_to = node(&v.restricted_to, "restricted_to", &mut errors)?;
    let admin_entity = node(&v.admin_entity, "admin_entity", &mut errors)?;
    let manager = if v.manager.is_empty() {
        None
    } else {
        match d.account_by_user_name(actor, &v.manager) {
            Ok(a) => Some(a.id),
            Err(CoreError::NotFound(_)) => {
                errors.add(
                    "manager",
                    format!("There is no account {} to be the manager.", v.manager),
                );
                None
            }
            Err(e) => return Err(e),
        }
    };
    Ok((
        Resolved {
            account_type,
            auth_method,
            restricted_to,
            manager,
            admin_level,
            admin_entity,
            status,
        },
        errors,
    ))
}

/// Empty text is no value.
pub fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_land_beside_their_field() {
        let cases = [
            (
                CoreError::InvalidUserName {
                    name: "a b".into(),
                    reason: "letters and digits only",
                },
                "user_name",
            ),
            (CoreError::Conflict("user name"), "user_name"),
            (CoreError::InvalidTimeZone("Mars/Base".into()), "time_zone"),
            (
                CoreError::InvalidValue {
                    field: "mobile phone",
                    reason: "x".into(),
                },
                "mobile",
            ),
            (
                CoreError::Forbidden("you cannot give the account type Administrator".into()),
                "account_type",
            ),
            (
                CoreError::Forbidden("you cannot grant the security role x".into()),
                "roles",
            ),
            (
                CoreError::Forbidden("you cannot restrict an account to a group outside".into()),
                "restricted_to",
            ),
            (CoreError::NotFound("group"), "restricted_to"),
            (
                CoreError::Forbidden("a Report Reader account is read only".into()),
                "",
            ),
        ];
        for (e, field) in cases {
            assert_eq!(field_of(&e), field, "{e}");
        }
    }

    #[test]
    fn a_post_changes_only_the_fields_it_carries() {
        let base = Values {
            user_name: "jo".into(),
            last_name: "Young".into(),
            roles: vec!["user-management".into()],
            ..Values::default()
        };
        let v = Values::from_form(&Form::parse(b"last_name=Old"), &base);
        assert_eq!((v.user_name.as_str(), v.last_name.as_str()), ("jo", "Old"));
        assert_eq!(v.roles, ["user-management"]);
        let v = Values::from_form(&Form::parse(b"roles-shown=1"), &base);
        assert!(v.roles.is_empty());
        let v = Values::from_form(
            &Form::parse(b"roles-shown=1&role-remote-assistance=on&role-x=off"),
            &base,
        );
        assert_eq!(v.roles, ["remote-assistance"]);
    }

    #[test]
    fn field_values_are_escaped() {
        let v = Values {
            first_name: "<script>\"x\"".into(),
            ..Values::default()
        };
        let c = Choices {
            nodes: Vec::new(),
            unrestricted: true,
            roles: vec!["a\"b".into()],
            admin_levels: false,
        };
        let html = fields(Mode::Add, &v, &Errors::default(), &c);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;&quot;x&quot;"));
        assert!(html.contains("role-a&quot;b"));
    }
}
