//! Every I/O source lives here and converts foreign types into ours at the edge.

pub mod bundle;
pub mod feed;
pub mod http;
pub mod k8s;
pub mod kube;
pub mod live;
pub mod manifests;
pub mod portforward;
pub mod prom_api;
pub mod scrape;
pub mod session;
pub mod timings;
pub mod traces;
pub mod watch;
