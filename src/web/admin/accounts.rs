//! Server Settings › User Accounts: the accounts the signed-in account may
//! see (its scope and branch, as the core decides), searchable by name,
//! email and status, a page at a time.

use hyper::{Response, StatusCode};

use super::chrome::{page, Nav};
use super::SignedIn;
use crate::http::{Body, HttpFace};
use crate::model::query::{AccountField, Filter, Slice, Sort, Test, Value};
use crate::model::Status;
use crate::web::form::Form;
use crate::web::page::escape;
use crate::web::WebError;

/// Rows on one page.
pub const PAGE_SIZE: u64 = 50;

fn contains(field: AccountField, text: &str) -> Filter<AccountField> {
    Filter::Test(
        field,
        Test::Substring {
            initial: None,
            any: vec![text.to_owned()],
            last: None,
        },
    )
}

/// The search as a filter of the core's query language.
pub fn filter(q: &str, status: Option<Status>) -> Filter<AccountField> {
    let mut parts = Vec::new();
    if !q.is_empty() {
        parts.push(Filter::Or(vec![
            contains(AccountField::UserName, q),
            contains(AccountField::FullName, q),
            contains(AccountField::Email, q),
        ]));
    }
    if let Some(s) = status {
        parts.push(Filter::Test(
            AccountField::Status,
            Test::Equals(Value::Text(s.as_str().into())),
        ));
    }
    if parts.is_empty() {
        Filter::True
    } else {
        Filter::And(parts)
    }
}

fn page_link(q: &str, status: &str, n: u64, label: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .append_pair("status", status)
        .append_pair("page", &n.to_string())
        .finish();
    format!("<a href=\"/admin/accounts?{}\">{label}</a>", escape(&query))
}

pub async fn show(face: &HttpFace, s: &SignedIn, query: &Form) -> Result<Response<Body>, WebError> {
    let q = query.get("q").trim().to_owned();
    let status_text = query.get("status").trim().to_owned();
    let status: Option<Status> = status_text.parse().ok();
    let number: u64 = query.get("page").parse().unwrap_or(1).max(1);
    let f = filter(&q, status);
    let slice = Slice {
        after: None,
        offset: (number - 1).saturating_mul(PAGE_SIZE),
        limit: PAGE_SIZE,
    };
    let (rows, total, related, may_add) = face
        .web_service
        .run_as(&s.actor, move |d, actor| {
            let sort = Sort {
                field: AccountField::UserName,
                descending: false,
            };
            let rows = d.search_accounts(actor, &f, Some(sort), slice)?;
            let total = d.count_accounts(actor, &f)?;
            let refs: Vec<_> = rows.iter().collect();
            let related = d.related(actor, &refs, &[])?;
            Ok((rows, total, related, d.may_create_accounts(actor)))
        })
        .await?;
    let mut body = String::new();
    if may_add {
        body.push_str("<p><a href=\"/admin/accounts/new\">Add</a> an account.</p>");
    }
    let selected = |v: &str| if v == status_text { " selected" } else { "" };
    body.push_str(&format!(
        "<form class=\"filters\" method=\"get\" action=\"/admin/accounts\" role=\"search\">\
         <div><label for=\"q\">Name or email contains</label><input id=\"q\" name=\"q\" value=\"{q}\"></div>\
         <div><label for=\"status\">Status</label><select id=\"status\" name=\"status\">\
         <option value=\"\"{any}>Any</option><option value=\"active\"{act}>Active</option>\
         <option value=\"inactive\"{inact}>Inactive</option></select></div>\
         <div><button type=\"submit\">Search</button></div></form>",
        q = escape(&q),
        any = selected(""),
        act = selected("active"),
        inact = selected("inactive"),
    ));
    let first = if total == 0 { 0 } else { slice.offset + 1 };
    let last = slice.offset + rows.len() as u64;
    body.push_str(&format!(
        "<p>{first}–{last} of {total} accounts.</p><div class=\"wrap\"><table><thead><tr>\
         <th scope=\"col\">User Name</th><th scope=\"col\">Name</th><th scope=\"col\">Account Type</th>\
         <th scope=\"col\">Authentication Method</th><th scope=\"col\">Restricted To</th>\
         <th scope=\"col\">Manager</th><th scope=\"col\">Status</th></tr></thead><tbody>"
    ));
    for a in &rows {
        let name_of = |id: Option<i64>, names: &std::collections::HashMap<i64, String>| {
            id.and_then(|i| names.get(&i).cloned()).unwrap_or_default()
        };
        body.push_str(&format!(
            "<tr><td><a href=\"/admin/accounts/{u}\">{u}</a></td><td>{name}</td><td>{t}</td><td>{m}</td>\
             <td>{r}</td><td>{mgr}</td><td>{st}</td></tr>",
            u = escape(&a.user_name),
            name = escape(format!("{} {}", a.given_name, a.family_name).trim()),
            t = escape(a.account_type.display_name()),
            m = escape(a.auth_method.display_name()),
            r = escape(&name_of(a.restricted_to, &related.node_names)),
            mgr = escape(&name_of(a.manager, &related.account_names)),
            st = escape(a.status.display_name()),
        ));
    }
    body.push_str("</tbody></table></div><p>");
    if number > 1 {
        body.push_str(&page_link(&q, &status_text, number - 1, "Previous page"));
        body.push(' ');
    }
    if last < total {
        body.push_str(&page_link(&q, &status_text, number + 1, "Next page"));
    }
    body.push_str("</p>");
    Ok(page(
        StatusCode::OK,
        s,
        "User Accounts",
        Nav::Accounts,
        &body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_is_a_filter_of_the_core() {
        assert_eq!(filter("", None), Filter::True);
        let Filter::And(parts) = filter("jo", Some(Status::Inactive)) else {
            panic!("an And");
        };
        assert_eq!(parts.len(), 2);
        let Filter::Or(names) = &parts[0] else {
            panic!("an Or of the name fields");
        };
        let fields: Vec<AccountField> = names
            .iter()
            .filter_map(|f| match f {
                Filter::Test(field, _) => Some(*field),
                _ => None,
            })
            .collect();
        assert_eq!(
            fields,
            [
                AccountField::UserName,
                AccountField::FullName,
                AccountField::Email
            ]
        );
        assert_eq!(
            parts[1],
            Filter::Test(
                AccountField::Status,
                Test::Equals(Value::Text("inactive".into()))
            )
        );
    }
}
