//! What the HTTP API clients (Prometheus, tracing backends) share: the base
//! URL a user gives, checked and made joinable, and errors in full.

use reqwest::Url;

/// An error with its whole `source()` chain, `outer: inner: root`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// A user's base URL (`http://host:9090`, `https://host/prefix`): http or
/// https only, with a trailing `/` so that relative API paths join under
/// any path prefix. The error says what is wrong with it.
pub fn base_url(url: &str) -> Result<Url, String> {
    let mut base = Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", base.scheme()));
    }
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_joinable() {
        let b = base_url("http://host/prometheus").unwrap();
        assert_eq!(
            b.join("api/v1/query").unwrap().as_str(),
            "http://host/prometheus/api/v1/query"
        );
        assert!(base_url("ftp://host").unwrap_err().contains("\"ftp\""));
        assert!(base_url("not a url").is_err());
    }
}
