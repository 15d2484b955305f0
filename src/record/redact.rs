//! Redaction for bundles attached to public issues: IPv4 addresses, the
//! hashes in pod and ReplicaSet names, and service-account principals are
//! replaced by tokens. The same input always gives the same token, in the
//! manifests and in the scrapes alike, so a redacted bundle still yields
//! the same graph (workload names, Services and namespaces are kept).

use std::collections::BTreeMap;

use serde_json::Value;

/// Replaces sensitive strings consistently.
#[derive(Debug, Default)]
pub struct Redactor {
    /// Literal replacements, longest first.
    literals: Vec<(String, String)>,
    ips: BTreeMap<String, String>,
    /// (namespace, service account) → token.
    accounts: BTreeMap<(String, String), String>,
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

impl Redactor {
    /// Learn the pod names, template hashes and service accounts of
    /// `objects` (the Pods among them).
    pub fn from_objects(objects: &[Value]) -> Self {
        let mut r = Redactor::default();
        let mut hashes: BTreeMap<String, String> = BTreeMap::new();
        let mut pods: BTreeMap<String, String> = BTreeMap::new();
        for o in objects.iter().filter(|o| s(o, &["kind"]) == Some("Pod")) {
            let (Some(ns), Some(name)) = (
                s(o, &["metadata", "namespace"]),
                s(o, &["metadata", "name"]),
            ) else {
                continue;
            };
            if let Some(h) = s(o, &["metadata", "labels", "pod-template-hash"])
                && h.len() >= 4
                && !hashes.contains_key(h)
            {
                let tok = format!("zzh{:04}", hashes.len() + 1);
                hashes.insert(h.to_string(), tok);
            }
            if let Some(gen_name) = s(o, &["metadata", "generateName"])
                && let Some(suffix) = name.strip_prefix(gen_name)
                && !suffix.is_empty()
                && !pods.contains_key(name)
            {
                let mut prefix = gen_name.to_string();
                for (h, t) in &hashes {
                    prefix = prefix.replace(h.as_str(), t);
                }
                let tok = format!("{prefix}zzp{:04}", pods.len() + 1);
                pods.insert(name.to_string(), tok);
            }
            let sa = s(o, &["spec", "serviceAccountName"]).or(s(o, &["spec", "serviceAccount"]));
            if let Some(sa) = sa {
                let n = r.accounts.len() + 1;
                r.accounts
                    .entry((ns.to_string(), sa.to_string()))
                    .or_insert_with(|| format!("principal-{n:04}"));
            }
        }
        for ((ns, sa), tok) in &r.accounts {
            r.literals
                .push((format!("ns/{ns}/sa/{sa}"), format!("ns/{ns}/sa/{tok}")));
            r.literals.push((
                format!("{sa}.{ns}.serviceaccount.identity"),
                format!("{tok}.{ns}.serviceaccount.identity"),
            ));
        }
        r.literals.extend(pods);
        r.literals.extend(hashes);
        r.literals
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        r
    }

    fn ip_token(&mut self, ip: &str) -> String {
        let n = self.ips.len();
        self.ips
            .entry(ip.to_string())
            .or_insert_with(|| format!("100.{}.{}.{}", 64 + n / 65_536, (n / 256) % 256, n % 256))
            .clone()
    }

    /// Redact every IPv4 address (but loopback, 0.0.0.0 and broadcast) in `text`.
    fn redact_ips(&mut self, text: &str) -> String {
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut last = 0;
        while i < b.len() {
            let boundary = i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.');
            if boundary
                && b[i].is_ascii_digit()
                && let Some(end) = ipv4_end(b, i)
            {
                let ip = &text[i..end];
                if !(ip.starts_with("127.") || ip == "0.0.0.0" || ip == "255.255.255.255") {
                    out.push_str(&text[last..i]);
                    let tok = self.ip_token(ip);
                    out.push_str(&tok);
                    last = end;
                }
                i = end;
                continue;
            }
            i += 1;
        }
        out.push_str(&text[last..]);
        out
    }

    /// Redact a piece of text (a scrape body, a name).
    pub fn redact_text(&mut self, text: &str) -> String {
        let mut t = self.redact_ips(text);
        for (from, to) in &self.literals {
            if t.contains(from.as_str()) {
                t = t.replace(from.as_str(), to);
            }
        }
        t
    }

    /// Redact an object: every string in it, plus service-account names
    /// in the fields that hold them.
    pub fn redact_value(&mut self, v: Value) -> Value {
        let ns = s(&v, &["metadata", "namespace"]).map(String::from);
        self.walk(v, ns.as_deref())
    }

    fn account(&self, ns: Option<&str>, sa: &str) -> Option<String> {
        let ns = ns?;
        self.accounts
            .get(&(ns.to_string(), sa.to_string()))
            .cloned()
    }

    fn walk(&mut self, v: Value, ns: Option<&str>) -> Value {
        match v {
            Value::String(st) => Value::String(self.redact_text(&st)),
            Value::Array(a) => Value::Array(a.into_iter().map(|x| self.walk(x, ns)).collect()),
            Value::Object(map) => {
                let is_sa_ref = map.get("kind").and_then(Value::as_str) == Some("ServiceAccount");
                let ref_ns = map
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .or(ns.map(String::from));
                let mut out = serde_json::Map::new();
                for (k, val) in map {
                    let sa_field = k == "serviceAccountName"
                        || k == "serviceAccount"
                        || (is_sa_ref && k == "name");
                    let new = match (&val, sa_field) {
                        (Value::String(sa), true) => match self.account(ref_ns.as_deref(), sa) {
                            Some(tok) => Value::String(tok),
                            None => self.walk(val, ns),
                        },
                        _ => self.walk(val, ns),
                    };
                    out.insert(k, new);
                }
                Value::Object(out)
            }
            other => other,
        }
    }
}

/// The end of an IPv4 address starting at `i`, if one does.
fn ipv4_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for part in 0..4 {
        let start = j;
        while j < b.len() && b[j].is_ascii_digit() && j - start < 3 {
            j += 1;
        }
        if j == start {
            return None;
        }
        let n: u32 = std::str::from_utf8(&b[start..j]).ok()?.parse().ok()?;
        if n > 255 {
            return None;
        }
        if part < 3 {
            if j >= b.len() || b[j] != b'.' {
                return None;
            }
            j += 1;
        }
    }
    // Not followed by more of a number (a version like 1.2.3.4.5).
    if j < b.len()
        && (b[j].is_ascii_digit() || (b[j] == b'.' && b.get(j + 1).is_some_and(u8::is_ascii_digit)))
    {
        return None;
    }
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "default", "name": "reviews-v3-7dbcdcbc56-xk2p9",
            "generateName": "reviews-v3-7dbcdcbc56-", "labels": {"pod-template-hash": "7dbcdcbc56"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "reviews-v3-7dbcdcbc56"}]},
            "spec": {"serviceAccountName": "bookinfo-reviews"}, "status": {"podIP": "10.244.1.17"}})
    }

    #[test]
    fn consistent_tokens() {
        let mut r = Redactor::from_objects(&[pod()]);
        let v = r.redact_value(pod());
        let text = v.to_string();
        assert!(
            !text.contains("7dbcdcbc56") && !text.contains("xk2p9"),
            "{text}"
        );
        assert!(
            !text.contains("10.244.1.17") && !text.contains("bookinfo-reviews"),
            "{text}"
        );
        assert_eq!(v["metadata"]["name"], "reviews-v3-zzh0001-zzp0001");
        assert_eq!(
            v["metadata"]["ownerReferences"][0]["name"],
            "reviews-v3-zzh0001"
        );
        let m = r.redact_text(
            "x{pod=\"reviews-v3-7dbcdcbc56-xk2p9\",ip=\"10.244.1.17\",p=\"spiffe://cluster.local/ns/default/sa/bookinfo-reviews\",v=\"1.2.3.4.5\",lo=\"127.0.0.6\"} 1\n",
        );
        assert!(m.contains("reviews-v3-zzh0001-zzp0001"), "{m}");
        assert!(
            m.contains(&format!(
                "ip=\"{}\"",
                v["status"]["podIP"].as_str().unwrap()
            )),
            "{m}"
        );
        assert!(m.contains("ns/default/sa/principal-0001"), "{m}");
        assert!(m.contains("1.2.3.4.5") && m.contains("127.0.0.6"), "{m}");
        // Same input, same token; another address, another token.
        assert_eq!(r.redact_text("10.244.1.17"), r.redact_text("10.244.1.17"));
        assert_ne!(r.redact_text("10.244.1.18"), r.redact_text("10.244.1.17"));
    }
}
