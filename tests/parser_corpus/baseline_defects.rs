//! prometheus-parse 0.2.5 (our baseline) measured on the corpus: what it
//! loses or corrupts, and a differential test on the inputs it handles.

use super::*;

/// Lines with an empty label set (`name{} value`).
fn empty_brace_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.split([' ', '\t'])
                .next()
                .is_some_and(|t| t.ends_with("{}"))
        })
        .count()
}

#[test]
fn baseline_loses_empty_label_set_lines() {
    let root = corpus_or_skip!();
    let mut total_lost = 0;
    for path in metrics_files(&root) {
        let bytes = std::fs::read(&path).unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let (o, _) = ours(&bytes, &KeepAll);
        let (b, bst) = baseline(&bytes, &KeepAll);
        let empty = empty_brace_lines(text);
        let file = path.file_name().unwrap().to_string_lossy();
        println!(
            "DEFECT {file}: ours {} samples, prometheus-parse {} ({} lost; {} `{{}}` lines); issues reported by it: {}",
            o.samples.len(),
            b.samples.len(),
            o.samples.len() - b.samples.len(),
            empty,
            bst.issue_count
        );
        // Every loss on the corpus is an empty-label-set line, and it never says so.
        assert_eq!(o.samples.len() - b.samples.len(), empty, "{file}");
        assert!(b.samples.iter().all(|s| !s.series.ends_with("{}")));
        assert_eq!(bst.issue_count, 0);
        total_lost += empty;
        if file == "netdata-go.d.plugin__envoy.txt" {
            assert_eq!(count_sample_lines(text, &|_| true), 630);
            assert_eq!(empty, 92);
        }
    }
    println!("DEFECT total samples lost by prometheus-parse on the corpus: {total_lost}");
}

#[test]
fn baseline_types_sum_and_count_as_untyped() {
    let root = corpus_or_skip!();
    let mut untyped_sum_count = 0;
    let mut all_sum_count = 0;
    for path in metrics_files(&root) {
        let text = std::fs::read_to_string(&path).unwrap();
        // Families declared histogram or summary.
        let grouped: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter(|l| l.ends_with(" histogram") || l.ends_with(" summary"))
            .filter_map(|l| l.split(' ').next())
            .collect();
        let scrape =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
        for s in &scrape.samples {
            let family = s
                .metric
                .strip_suffix("_sum")
                .or(s.metric.strip_suffix("_count"));
            if family.is_some_and(|f| grouped.contains(&f)) {
                all_sum_count += 1;
                if matches!(s.value, prometheus_parse::Value::Untyped(_)) {
                    untyped_sum_count += 1;
                }
            }
        }
    }
    println!(
        "DEFECT _sum/_count samples of histogram/summary families typed Untyped by prometheus-parse: {untyped_sum_count} of {all_sum_count}"
    );
    assert!(untyped_sum_count > 0);
    assert_eq!(untyped_sum_count, all_sum_count);
}

fn one(parse: fn(&[u8], &dyn FamilyFilter) -> (Collect, ParseStats), line: &str) -> Vec<Owned> {
    parse(line.as_bytes(), &KeepAll).0.samples
}

#[test]
fn baseline_synthetic_defects() {
    // Escapes are not unescaped.
    let line = "m{a=\"x\\\"y\\\\z\\nw\"} 1\n";
    assert_eq!(one(ours, line)[0].labels[0].1, "x\"y\\z\nw");
    assert_ne!(
        one(baseline, line).first().map(|s| s.labels[0].1.clone()),
        Some("x\"y\\z\nw".to_owned())
    );
    // `}` inside a label value: the sample is dropped.
    let line = "m{a=\"x}y\"} 1\n";
    assert_eq!(one(ours, line)[0].labels[0].1, "x}y");
    assert!(one(baseline, line).is_empty());
    // `,` or `=` inside a label value: the value is corrupted.
    let line = "m{a=\"x,y\",b=\"p=q\"} 1\n";
    assert_eq!(one(ours, line)[0].labels.len(), 2);
    let b = one(baseline, line);
    assert!(!b[0].labels.contains(&("a".to_owned(), "x,y".to_owned())));
    assert!(!b[0].labels.contains(&("b".to_owned(), "p=q".to_owned())));
    // A name with `:` (recording-rule style) is dropped.
    let line = "job:rate5m{a=\"b\"} 1\n";
    assert_eq!(one(ours, line).len(), 1);
    assert!(one(baseline, line).is_empty());
    // Garbage is silently ignored: no issue.
    let (_, st) = baseline(b"m{a=\"b\" 1\n!!!\n", &KeepAll);
    assert_eq!(st.issue_count, 0);
    let (_, st) = ours(b"m{a=\"b\" 1\n!!!\n", &KeepAll);
    assert_eq!(st.issue_count, 2);
}

/// A sample reduced to what both parsers should agree on: name, labels
/// sorted (bounds normalised numerically), value bits (NaN canonical).
fn key(s: &Owned) -> String {
    let mut labels: Vec<(String, String)> = s
        .labels
        .iter()
        .map(|(k, v)| {
            let v = if k == "le" || k == "quantile" {
                format!("{:?}", v.parse::<f64>().unwrap())
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    labels.sort();
    let value = if s.value.is_nan() {
        "NaN".to_owned()
    } else {
        format!("{:?}", s.value)
    };
    format!("{}{labels:?} {value}", s.name)
}

/// Keeps comment lines and the sample lines prometheus-parse handles.
fn handled_subset(text: &str) -> String {
    let mut out = String::new();
    for l in text.lines() {
        let keep = l.starts_with('#') || {
            let (series, _) = l.split_once("} ").unwrap_or(("", ""));
            let labels = series.split_once('{').map_or("", |p| p.1);
            !labels.is_empty()
                && !l.contains('\\')
                && !series.split_once('{').is_some_and(|p| p.0.contains(':'))
                && labels.split("\",").all(|kv| {
                    let v = kv.split_once("=\"").map_or("", |p| p.1);
                    !v.contains([',', '=', '}'])
                })
        };
        if keep {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

#[test]
fn differential_against_baseline_on_handled_inputs() {
    let root = corpus_or_skip!();
    let mut compared = 0;
    for path in metrics_files(&root) {
        let text = std::fs::read_to_string(&path).unwrap();
        let subset = handled_subset(&text);
        let (o, _) = ours(subset.as_bytes(), &KeepAll);
        let (b, _) = baseline(subset.as_bytes(), &KeepAll);
        let mut ko: Vec<String> = o.samples.iter().map(key).collect();
        let mut kb: Vec<String> = b.samples.iter().map(key).collect();
        ko.sort();
        kb.sort();
        assert_eq!(ko, kb, "{}", path.display());
        compared += ko.len();
    }
    println!("differential: {compared} samples identical");
    assert!(compared > 3000);
}
