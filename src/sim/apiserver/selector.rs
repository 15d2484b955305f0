//! Label and field selectors (`labelSelector=`, `fieldSelector=`), parsed
//! from query parameters and evaluated against JSON objects.

use serde_json::Value;

/// Why a selector was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {param} {selector:?}: {reason}")]
pub struct SelectorError {
    /// `labelSelector` or `fieldSelector`.
    pub param: &'static str,
    /// The selector as received.
    pub selector: String,
    /// What is wrong with it.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

/// A conjunction of requirements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    reqs: Vec<Requirement>,
}

/// Split at commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn set_values(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

fn parse_requirement(part: &str, allow_sets: bool) -> Result<Requirement, String> {
    let part = part.trim();
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement {
            key: k.trim().into(),
            op: Op::NotEq(v.trim().into()),
        });
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement {
            key: k.trim().into(),
            op: Op::Eq(v.trim().into()),
        });
    }
    if allow_sets {
        for (word, negate) in [(" notin ", true), (" in ", false)] {
            if let Some((k, rest)) = part.split_once(word) {
                let values = set_values(rest).ok_or_else(|| {
                    format!("`{part}`: expected `({{values}})` after `{}`", word.trim())
                })?;
                let op = if negate {
                    Op::NotIn(values)
                } else {
                    Op::In(values)
                };
                return Ok(Requirement {
                    key: k.trim().into(),
                    op,
                });
            }
        }
        if let Some(k) = part.strip_prefix('!') {
            return Ok(Requirement {
                key: k.trim().into(),
                op: Op::NotExists,
            });
        }
        if !part.is_empty() && !part.contains([' ', '(', ')']) {
            return Ok(Requirement {
                key: part.into(),
                op: Op::Exists,
            });
        }
    }
    Err(format!("`{part}` is not a valid requirement"))
}

fn parse(param: &'static str, selector: &str, allow_sets: bool) -> Result<Selector, SelectorError> {
    if selector.trim().is_empty() {
        return Ok(Selector::default());
    }
    let reqs = split_top(selector)
        .into_iter()
        .map(|p| parse_requirement(p, allow_sets))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| SelectorError {
            param,
            selector: selector.to_string(),
            reason,
        })?;
    if let Some(r) = reqs.iter().find(|r| r.key.is_empty()) {
        return Err(SelectorError {
            param,
            selector: selector.to_string(),
            reason: format!("empty key in {r:?}"),
        });
    }
    Ok(Selector { reqs })
}

impl Selector {
    /// Parse a `labelSelector` (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`).
    pub fn labels(selector: &str) -> Result<Selector, SelectorError> {
        parse("labelSelector", selector, true)
    }

    /// Parse a `fieldSelector` (`metadata.name=x`, `metadata.namespace!=y`, any dotted path).
    pub fn fields(selector: &str) -> Result<Selector, SelectorError> {
        parse("fieldSelector", selector, false)
    }

    fn eval(&self, lookup: impl Fn(&str) -> Option<String>) -> bool {
        self.reqs.iter().all(|r| {
            let v = lookup(&r.key);
            match &r.op {
                Op::Eq(x) => v.as_deref() == Some(x.as_str()),
                Op::NotEq(x) => v.as_deref() != Some(x.as_str()),
                Op::In(xs) => v.is_some_and(|v| xs.contains(&v)),
                Op::NotIn(xs) => v.is_none_or(|v| !xs.contains(&v)),
                Op::Exists => v.is_some(),
                Op::NotExists => v.is_none(),
            }
        })
    }

    /// Evaluate as a label selector against `metadata.labels`.
    pub fn matches_labels(&self, obj: &Value) -> bool {
        let labels = obj.get("metadata").and_then(|m| m.get("labels"));
        self.eval(|k| labels?.get(k)?.as_str().map(str::to_string))
    }

    /// Evaluate as a field selector against dotted paths of the object
    /// (a missing field compares as the empty string, as the real server does).
    pub fn matches_fields(&self, obj: &Value) -> bool {
        self.eval(|path| {
            let mut cur = obj;
            for seg in path.split('.') {
                match cur.get(seg) {
                    Some(v) => cur = v,
                    None => return Some(String::new()),
                }
            }
            Some(match cur {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
        })
    }
}

/// Both selectors of a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub labels: Selector,
    pub fields: Selector,
    pub namespace: Option<String>,
}

impl Filter {
    /// Whether an object passes the namespace scope and both selectors.
    pub fn matches(&self, obj: &Value) -> bool {
        let ns_ok = self.namespace.as_deref().is_none_or(|ns| {
            obj.get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                == Some(ns)
        });
        ns_ok && self.labels.matches_labels(obj) && self.fields.matches_fields(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() -> Result<(), SelectorError> {
        let obj = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
        assert!(Selector::labels("app=web")?.matches_labels(&obj));
        assert!(Selector::labels("app==web,tier!=back")?.matches_labels(&obj));
        assert!(Selector::labels("app in (api, web),tier")?.matches_labels(&obj));
        assert!(!Selector::labels("app notin (web)")?.matches_labels(&obj));
        assert!(!Selector::labels("!app")?.matches_labels(&obj));
        assert!(Selector::labels("!version")?.matches_labels(&obj));
        assert!(!Selector::labels("app=api")?.matches_labels(&obj));
        assert!(Selector::labels("app in web").is_err());
        Ok(())
    }

    #[test]
    fn field_selectors() -> Result<(), SelectorError> {
        let obj =
            json!({"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Running"}});
        assert!(Selector::fields("metadata.name=a,metadata.namespace=ns")?.matches_fields(&obj));
        assert!(Selector::fields("status.phase!=Failed")?.matches_fields(&obj));
        assert!(!Selector::fields("metadata.name=b")?.matches_fields(&obj));
        let err = Selector::fields("metadata.name").err();
        assert!(err.is_some_and(|e| e.to_string().contains("metadata.name")));
        Ok(())
    }
}
