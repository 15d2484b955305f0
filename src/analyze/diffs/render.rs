//! Rendering: a normalized object as YAML in manifest order, and a
//! unified diff between two renderings.

use serde_json::Value;
use similar::TextDiff;

use super::normalize::{ordered, single};

/// YAML of a (normalized) object: `apiVersion`, `kind`, `metadata`, `spec`
/// first, then the other keys sorted; nested keys sorted. Falls back to
/// pretty JSON (valid YAML) should the YAML writer refuse a value.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    for (k, x) in ordered(v) {
        let one = single(k, x);
        match serde_saphyr::to_string(&one) {
            Ok(s) => out.push_str(&s),
            Err(_) => {
                out.push_str(&serde_json::to_string_pretty(&one).unwrap_or_default());
                out.push('\n');
            }
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// A unified diff (3 lines of context) from `old` to `new`, with
/// `--- old_label` / `+++ new_label` headers; empty when equal.
pub fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn manifest_order_and_diff() {
        let v = json!({"spec": {"b": 1, "a": [1, 2]}, "kind": "K", "apiVersion": "g/v1",
            "metadata": {"name": "n"}});
        let y = to_yaml(&v);
        let ka = y.find("apiVersion").unwrap_or(usize::MAX);
        let kk = y.find("kind").unwrap_or(usize::MAX);
        let ks = y.find("spec").unwrap_or(usize::MAX);
        assert!(ka < kk && kk < ks, "{y}");
        let w = json!({"spec": {"b": 2, "a": [1, 2]}, "kind": "K", "apiVersion": "g/v1",
            "metadata": {"name": "n"}});
        let d = unified(&y, &to_yaml(&w), "declared", "live");
        assert!(d.starts_with("--- declared\n+++ live\n@@"), "{d}");
        assert!(
            d.contains("\n-  b: 1\n") && d.contains("\n+  b: 2\n"),
            "{d}"
        );
        assert_eq!(unified(&y, &y, "a", "b"), "");
    }
}
