//! Command lines from `(name, value)` lists, as kubeadm 1.31 builds them.
//!
//! Mirrors `cmd/kubeadm/app/apis/kubeadm/argument.go` (`GetArgValue`, `SetArgValues`) and
//! `ArgumentsToCommand` in `cmd/kubeadm/app/util/arguments.go` of the v1.31 line. The same
//! merge serves the static Pods and `kubeadm-flags.env`.
//!
//! The 1.31 merge sorts the whole result by name, then value. Later kubeadm lines sort only
//! kubeadm's base list and append the user's entries in their written order; kbc emulates 1.31.

use crate::config::wire::v1beta4::Arg;

/// Shorthand for a base entry.
pub(crate) fn arg(name: &str, value: impl Into<String>) -> Arg {
    Arg {
        name: name.to_string(),
        value: value.into(),
    }
}

/// `GetArgValue(args, name, -1)`: the value of the *last* entry called `name`.
pub(crate) fn last_value<'a>(args: &'a [Arg], name: &str) -> Option<&'a str> {
    args.iter()
        .rev()
        .find(|a| a.name == name)
        .map(|a| a.value.as_str())
}

/// `SetArgValues(args, name, value, 1)`: sets the last entry called `name`, or appends one.
pub(crate) fn set_value(args: &mut Vec<Arg>, name: &str, value: impl Into<String>) {
    match args.iter_mut().rev().find(|a| a.name == name) {
        Some(a) => a.value = value.into(),
        None => args.push(arg(name, value)),
    }
}

/// `ArgumentsToCommand(base, overrides)`: every override entry (repeats kept) plus every base
/// entry whose name no override uses; sorted by name, then value (byte order); each entry one
/// `--name=value` element, with no quoting.
pub(crate) fn to_command(base: &[Arg], overrides: &[Arg]) -> Vec<String> {
    let mut args: Vec<&Arg> = overrides.iter().collect();
    args.extend(
        base.iter()
            .filter(|b| !overrides.iter().any(|o| o.name == b.name)),
    );
    args.sort_by(|a, b| (&a.name, &a.value).cmp(&(&b.name, &b.value)));
    args.into_iter()
        .map(|a| format!("--{}={}", a.name, a.value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_every_base_entry_and_keep_their_repeats() {
        let base = vec![arg("b", "1"), arg("a", "x"), arg("a", "y"), arg("c", "")];
        let overrides = vec![arg("a", "z"), arg("d", "2"), arg("a", "m")];
        assert_eq!(
            to_command(&base, &overrides),
            ["--a=m", "--a=z", "--b=1", "--c=", "--d=2"]
        );
    }

    #[test]
    fn set_changes_the_last_entry_or_appends() {
        let mut args = vec![arg("a", "1"), arg("a", "2")];
        set_value(&mut args, "a", "3");
        set_value(&mut args, "b", "4");
        assert_eq!(args, [arg("a", "1"), arg("a", "3"), arg("b", "4")]);
        assert_eq!(last_value(&args, "a"), Some("3"));
        assert_eq!(last_value(&args, "c"), None);
    }
}
