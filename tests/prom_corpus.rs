#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Real Prometheus API answers (published test data of Grafana and Jaeger,
//! see corpus/SOURCES.md) through the response parser.

mod common;

use meshscope::collect::prom_api::response::{ResponseError, parse_query_response};

fn read(name: &str) -> Option<Vec<u8>> {
    let dir = common::corpus()?.join("prometheus-api");
    Some(std::fs::read(dir.join(name)).unwrap())
}

#[test]
fn matrix_answers_give_the_last_point_of_each_series() {
    let Some(body) = read("grafana__range_missing.result.json") else {
        return;
    };
    let r = parse_query_response(&body).unwrap();
    assert_eq!(r.series.len(), 1);
    assert_eq!(r.series[0].labels["__name__"], "go_goroutines");
    assert_eq!(r.series[0].labels["job"], "prometheus");
    assert_eq!(r.series[0].value, 43.0);
    assert_eq!(r.series[0].at_ms, 1_641_889_537_000);
    assert!(r.warnings.is_empty());

    let body = read("jaeger__service_span_name_datapoint_response.json").unwrap();
    let r = parse_query_response(&body).unwrap();
    assert_eq!(r.series[0].labels["span_name"], "/OrderResult");
    assert_eq!(r.series[0].value, 9_223_372_036_854.0);
}

#[test]
fn empty_and_warning_answers() {
    let Some(body) = read("jaeger__empty_response.json") else {
        return;
    };
    let r = parse_query_response(&body).unwrap();
    assert!(r.series.is_empty() && r.warnings.is_empty());
    let body = read("jaeger__warning_response.json").unwrap();
    let r = parse_query_response(&body).unwrap();
    assert!(r.series.is_empty());
    assert_eq!(r.warnings, vec!["warning0", "warning1"]);
}

#[test]
fn a_non_query_answer_is_malformed_not_a_panic() {
    // `/api/v1/label/__name__/values`: `data` is a list of names.
    let Some(body) = read("trino__prometheus-metrics.json") else {
        return;
    };
    let e = parse_query_response(&body).unwrap_err();
    assert!(matches!(e, ResponseError::Malformed(_)), "{e:?}");
}
