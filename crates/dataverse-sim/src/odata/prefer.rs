//! The `Prefer` request header (`odata.maxpagesize`, `odata.include-annotations`,
//! `return=representation`) and what the service echoes in `Preference-Applied`.

use axum::http::HeaderMap;

/// Which instance annotations the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotations {
    /// The value as sent (quotes removed), echoed in `Preference-Applied`.
    pub raw: String,
    patterns: Vec<String>,
}

impl Annotations {
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim().trim_matches('"').to_string();
        let patterns = raw.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
        Annotations { raw, patterns }
    }

    /// Whether `name` (e.g. `OData.Community.Display.V1.FormattedValue`) was requested.
    pub fn wants(&self, name: &str) -> bool {
        let mut wanted = false;
        for p in &self.patterns {
            let (negate, p) = match p.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, p.as_str()),
            };
            let hit = p == "*" || p == name || p.strip_suffix(".*").is_some_and(|prefix| name.starts_with(&format!("{prefix}.")));
            if hit {
                if negate {
                    return false;
                }
                wanted = true;
            }
        }
        wanted
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefer {
    pub max_page_size: Option<usize>,
    pub annotations: Option<Annotations>,
    pub return_representation: bool,
    pub continue_on_error: bool,
}

/// Split on commas outside double quotes.
fn split_preferences(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in v.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

impl Prefer {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut p = Prefer::default();
        for value in headers.get_all("prefer") {
            let Ok(value) = value.to_str() else { continue };
            for pref in split_preferences(value) {
                let (name, val) = match pref.split_once('=') {
                    Some((n, v)) => (n.trim().to_ascii_lowercase(), v.trim().to_string()),
                    None => (pref.trim().to_ascii_lowercase(), String::new()),
                };
                match name.as_str() {
                    "odata.maxpagesize" => p.max_page_size = val.trim_matches('"').parse().ok(),
                    "odata.include-annotations" => p.annotations = Some(Annotations::parse(&val)),
                    "return" => p.return_representation = val.eq_ignore_ascii_case("representation"),
                    "odata.continue-on-error" => p.continue_on_error = true,
                    _ => {}
                }
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_combined_header() {
        let mut h = HeaderMap::new();
        h.insert("prefer", "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname\", odata.maxpagesize=10".parse().unwrap());
        h.append("Prefer", "return=representation".parse().unwrap());
        let p = Prefer::from_headers(&h);
        assert_eq!(p.max_page_size, Some(10));
        assert!(p.return_representation);
        let a = p.annotations.unwrap();
        assert!(a.wants("OData.Community.Display.V1.FormattedValue"));
        assert!(a.wants("Microsoft.Dynamics.CRM.lookuplogicalname"));
        assert!(!a.wants("Microsoft.Dynamics.CRM.associatednavigationproperty"));
        let star = Annotations::parse("\"*\"");
        assert!(star.wants("Microsoft.Dynamics.CRM.lookuplogicalname"));
        let ns = Annotations::parse("\"Microsoft.Dynamics.CRM.*\"");
        assert!(ns.wants("Microsoft.Dynamics.CRM.lookuplogicalname") && !ns.wants("OData.Community.Display.V1.FormattedValue"));
    }
}
