//! Object metadata helpers: deterministic uids, resource versions, RFC 3339
//! timestamps and small `managedFields` entries.

use serde_json::{Map, Value, json};

use crate::sim::rng;
use crate::sim::scenario::Scenario;

/// RFC 3339 UTC timestamp (`2026-01-05T09:00:00Z`) of unix seconds.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Builds `metadata` blocks for one scenario.
pub struct Meta<'a> {
    pub s: &'a Scenario,
}

impl Meta<'_> {
    /// The uid of object `kind/namespace/name`.
    pub fn uid(&self, kind: &str, ns: &str, name: &str) -> String {
        rng::uuid(rng::hash(self.s.seed, &[kind, ns, name]))
    }

    /// Creation time: some days to hours before the scenario epoch.
    pub fn created(&self, kind: &str, ns: &str, name: &str, min_age_s: u64) -> String {
        let h = rng::hash(self.s.seed, &[kind, ns, name, "t"]);
        rfc3339(self.s.epoch_ms / 1000 - min_age_s - h % 3600)
    }

    /// A complete metadata object.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        &self,
        kind: &str,
        api_version: &str,
        ns: Option<&str>,
        name: &str,
        labels: &[(String, String)],
        annotations: &[(String, String)],
        generation: bool,
        manager: &str,
    ) -> Value {
        let nsv = ns.unwrap_or("");
        let age = match kind {
            "Namespace" | "CustomResourceDefinition" | "ServiceAccount" => 30 * 86_400,
            "Pod" | "EndpointSlice" => 2 * 86_400,
            _ => 7 * 86_400,
        };
        let created = self.created(kind, nsv, name, age);
        let h = rng::hash(self.s.seed, &[kind, nsv, name, "rv"]);
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        if let Some(ns) = ns {
            m.insert("namespace".into(), json!(ns));
        }
        m.insert("uid".into(), json!(self.uid(kind, nsv, name)));
        m.insert(
            "resourceVersion".into(),
            json!((10_000 + h % 9_000_000).to_string()),
        );
        if generation {
            m.insert("generation".into(), json!(1 + h % 3));
        }
        m.insert("creationTimestamp".into(), json!(created));
        if !labels.is_empty() {
            m.insert("labels".into(), to_map(labels));
        }
        if !annotations.is_empty() {
            m.insert("annotations".into(), to_map(annotations));
        }
        let mut fields = Map::new();
        if !labels.is_empty() {
            let f: Map<String, Value> = labels
                .iter()
                .map(|(k, _)| (format!("f:{k}"), json!({})))
                .collect();
            fields.insert("f:labels".into(), Value::Object(f));
        }
        m.insert(
            "managedFields".into(),
            json!([{
                "manager": manager,
                "operation": "Update",
                "apiVersion": api_version,
                "time": created,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": Value::Object(fields)}
            }]),
        );
        Value::Object(m)
    }
}

/// `[(k, v)]` → a JSON object.
pub fn to_map(pairs: &[(String, String)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// `[(&str, &str)]` → owned pairs.
pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_603_600), "2026-01-05T09:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
