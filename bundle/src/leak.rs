//! Error text about files that hold key material (kubeconfigs, keys, the secrets file).
//!
//! Such a message may say where and what kind of problem, never what the file says there.
//! Third-party parsers quote their input (`invalid type: string "…"`, source snippets), so
//! their messages pass through [`without_source`]: a message that shares any run of
//! [`RUN`] characters with the file is replaced by a fixed text. kbc's own messages about
//! these files are written without quoting in the first place (the compiler's
//! `secrets/decode.rs`). Shared by `kbc` and `kbc-apply`, which both read kubeconfigs.

/// The shortest run of characters that counts as quoting the file.
pub(crate) const RUN: usize = 8;

/// True when `message` holds a run of [`RUN`] characters that also occurs in `source`.
pub(crate) fn quotes(message: &str, source: &str) -> bool {
    let chars: Vec<char> = message.chars().collect();
    chars.windows(RUN).any(|w| {
        let run: String = w.iter().collect();
        source.contains(&run)
    })
}

/// `message`, or `fallback` when the message quotes `source`.
pub(crate) fn without_source(message: String, source: &str, fallback: &str) -> String {
    if quotes(&message, source) {
        fallback.to_string()
    } else {
        message
    }
}

/// A parser's error about `source` (a file that holds key material), told without quoting
/// it: the parser's `message` when it quotes nothing, else "not a valid `what`" with the
/// position `at` (line, column).
pub fn parse_error(message: String, at: Option<(u64, u64)>, source: &str, what: &str) -> String {
    let at = at
        .map(|(line, column)| format!(" at line {line} column {column}"))
        .unwrap_or_default();
    without_source(message, source, &format!("not a valid {what}{at}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_quoting_the_source_is_replaced() {
        let src = "user:\n  token: abcdefghijkl\n";
        assert!(quotes("invalid value \"abcdefgh\"", src));
        assert!(!quotes("expected a mapping at 2:3", src));
        assert_eq!(
            without_source("bad \"cdefghij\"".into(), src, "not valid"),
            "not valid"
        );
    }
}
