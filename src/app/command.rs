//! The `:` command line.

use super::action::View;

/// A parsed `:` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCommand {
    /// `:ns NAME` (`:ns all` or `:ns` alone: every namespace).
    Namespace(Option<String>),
    /// `:ctx NAME`.
    Context(String),
    /// `:graph`, `:workloads`, `:edges`, `:gaps`, `:rules`, `:help`.
    Show(View),
    /// `:q`, `:quit`.
    Quit,
}

/// Parses a command line (without the `:`); the error names the bad input.
pub fn parse(line: &str) -> Result<LineCommand, String> {
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else {
        return Err("empty command".into());
    };
    let arg = words.next();
    if let Some(extra) = words.next() {
        return Err(format!("unexpected '{extra}' after ':{cmd}'"));
    }
    let view = |v: View| match arg {
        None => Ok(LineCommand::Show(v)),
        Some(a) => Err(format!("':{cmd}' takes no argument, got '{a}'")),
    };
    match cmd {
        "ns" | "namespace" => Ok(LineCommand::Namespace(
            arg.filter(|a| *a != "all" && *a != "-A")
                .map(str::to_string),
        )),
        "ctx" | "context" => arg
            .map(|a| LineCommand::Context(a.to_string()))
            .ok_or_else(|| "':ctx' needs a context name".to_string()),
        "graph" | "g" => view(View::Graph),
        "workloads" | "wl" | "stat" => view(View::Workloads),
        "edges" | "e" => view(View::Edges),
        "gaps" => view(View::Gaps),
        "rules" => view(View::Rules),
        "help" | "h" => view(View::Help),
        "q" | "q!" | "quit" => Ok(LineCommand::Quit),
        other => Err(format!(
            "unknown command ':{other}' (try :ns, :ctx, :graph, :workloads, :edges, :gaps, :rules, :q)"
        )),
    }
}
