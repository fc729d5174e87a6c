//! The conventions users expect from `kbc`'s command line: shell completions that load
//! and complete in bash, zsh and fish; man pages for every command that groff renders
//! without warnings; `--output json` documents that parse and state the same facts as the
//! text output; plain (uncolored) output when stdout is not a terminal.

use crate::common::{kbc, root};
use std::process::Command;

use serde_json::Value;

fn ok_stdout(args: &[&str]) -> String {
    let out = kbc(args);
    assert!(
        out.status.success(),
        "kbc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok_stdout(args)).expect("the JSON output parses")
}

/// Runs a shell snippet; returns its stdout, failing on a non-zero exit.
fn shell(program: &str, script: &str) -> String {
    let out = Command::new(program)
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn completion_script(shell: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), ok_stdout(&["completions", shell])).unwrap();
    file
}

#[test]
fn bash_completion_loads_and_completes_commands_and_flags() {
    let script = completion_script("bash");
    let path = script.path().display();
    // The function bash calls for `kbc <TAB>` (`complete -F FN kbc`), given the words so far.
    let complete = |words: &str, cword: usize| {
        shell(
            "bash",
            &format!(
                "set -e; source {path}; fn=$(complete -p kbc | sed -E 's/.* -F ([^ ]+) .*/\\1/'); \
                 COMP_WORDS=({words}); COMP_CWORD={cword}; \
                 \"$fn\" kbc \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\""
            ),
        )
    };
    let top = complete("kbc co", 1);
    for name in ["compile", "config", "completions"] {
        assert!(top.lines().any(|l| l == name), "{name} in {top:?}");
    }
    let flags = complete("kbc certs check-expiration --ou", 3);
    assert!(flags.lines().any(|l| l == "--output"), "{flags:?}");
    let init_flags = complete("kbc compile --pod-net", 2);
    assert!(
        init_flags.lines().any(|l| l == "--pod-network-cidr"),
        "{init_flags:?}"
    );
}

#[test]
fn fish_completion_loads_and_completes() {
    let script = completion_script("fish");
    let out = shell(
        "fish",
        &format!(
            "source {}; complete -C 'kbc co'; complete -C 'kbc compile --issued'",
            script.path().display()
        ),
    );
    for want in ["compile\t", "config\t", "completions\t", "--issued-at\t"] {
        assert!(out.lines().any(|l| l.starts_with(want)), "{want} in {out}");
    }
}

#[test]
fn zsh_completion_is_valid_zsh() {
    let script = completion_script("zsh");
    let text = std::fs::read_to_string(script.path()).unwrap();
    assert!(text.starts_with("#compdef kbc"), "{}", &text[..40]);
    assert!(text.contains("--pod-network-cidr"));
    // Parses without running (zsh -n), then loads under compinit and registers _kbc.
    shell("zsh", &format!("zsh -n {}", script.path().display()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(script.path(), dir.path().join("_kbc")).unwrap();
    let out = shell(
        "zsh",
        &format!(
            "fpath=({} $fpath); autoload -Uz compinit; compinit -u -D; print -r -- $_comps[kbc]",
            dir.path().display()
        ),
    );
    assert_eq!(out.trim(), "_kbc");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = kbc(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}

/// Every visible command path of the clap definition: `kbc`, `kbc-compile`, `kbc-config-view`…
fn command_pages(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
    let name = if prefix.is_empty() {
        cmd.get_name().to_string()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    out.push(format!("{name}.1"));
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        command_pages(sub, &name, out);
    }
}

#[test]
fn man_pages_cover_every_command_and_render_cleanly() {
    use clap::CommandFactory;
    let dir = tempfile::tempdir().unwrap();
    let out = ok_stdout(&["manpages", &dir.path().display().to_string()]);
    let mut want = Vec::new();
    command_pages(&kbc::cli::Cli::command(), "", &mut want);
    want.sort();
    let mut got: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, want);
    assert!(out.contains(&format!("wrote {} man pages", want.len())));
    for page in &got {
        let rendered = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww"])
            .arg(dir.path().join(page))
            .output()
            .unwrap();
        assert!(rendered.status.success(), "{page}");
        assert!(
            rendered.stderr.is_empty(),
            "{page}: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
    }
    let compile = std::fs::read_to_string(dir.path().join("kbc-compile.1")).unwrap();
    for flag in [
        r"\-\-issued\-at",
        r"\-\-pod\-network\-cidr",
        r"\-\-output\-format",
    ] {
        assert!(compile.contains(flag), "{flag} in kbc-compile.1");
    }
    // The pages are reproducible: no date, same bytes on a second run.
    let again = tempfile::tempdir().unwrap();
    ok_stdout(&["manpages", &again.path().display().to_string()]);
    for page in &got {
        assert_eq!(
            std::fs::read(dir.path().join(page)).unwrap(),
            std::fs::read(again.path().join(page)).unwrap(),
            "{page}"
        );
    }
}

const BUNDLE: &str = "fixtures/bundles/single-node.tgz";
const NOW: &str = "2026-12-01T00:00:00Z";

#[test]
fn check_expiration_json_is_kubeadms_document_with_the_tables_facts() {
    let text = ok_stdout(&[
        "certs",
        "check-expiration",
        "--bundle",
        BUNDLE,
        "--now",
        NOW,
    ]);
    let doc = json(&[
        "certs",
        "check-expiration",
        "--bundle",
        BUNDLE,
        "--now",
        NOW,
        "-o",
        "json",
    ]);
    assert_eq!(doc["kind"], "CertificateExpirationInfo");
    assert_eq!(doc["apiVersion"], "output.kubeadm.k8s.io/v1alpha3");
    let now =
        time::OffsetDateTime::parse(NOW, &time::format_description::well_known::Rfc3339).unwrap();
    let (certs, cas) = text.split_once("\n\n").unwrap();
    for (table, list, has_ca) in [
        (certs, &doc["certificates"], true),
        (cas, &doc["certificateAuthorities"], false),
    ] {
        let rows: Vec<Vec<&str>> = table
            .lines()
            .skip(1)
            .map(|l| {
                l.split("   ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .collect();
        let list = list.as_array().unwrap();
        assert_eq!(rows.len(), list.len());
        for (row, entry) in rows.iter().zip(list) {
            assert_eq!(entry["name"], row[0]);
            assert_eq!(entry["missing"], false);
            let expires = time::OffsetDateTime::parse(
                entry["expirationDate"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            assert_eq!(kbc::pki::expiration::format_expiry(expires), row[1]);
            let residual = entry["residualTime"].as_i64().unwrap();
            assert_eq!(residual, (expires - now).whole_seconds());
            assert_eq!(kbc::pki::expiration::short_human_duration(residual), row[2]);
            if has_ca {
                assert_eq!(entry["caName"], row[3]);
            } else {
                assert!(entry.get("caName").is_none());
            }
            assert_eq!(entry["externallyManaged"], false);
            assert_eq!(row.last(), Some(&"no"));
        }
    }
}

#[test]
fn check_expiration_json_marks_missing_files_as_kubeadm_does() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    let bundle = kbc_bundle::verify(&std::fs::read(root().join(BUNDLE)).unwrap(), None).unwrap();
    let ca = bundle
        .files
        .iter()
        .find(|f| f.path == "rootfs/etc/kubernetes/pki/ca.crt")
        .unwrap();
    std::fs::write(pki.join("ca.crt"), &ca.data).unwrap();
    let doc = json(&[
        "certs",
        "check-expiration",
        "--pki-dir",
        &pki.display().to_string(),
        "--now",
        NOW,
        "--output",
        "json",
    ]);
    let apiserver = doc["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "apiserver")
        .unwrap();
    assert_eq!(
        apiserver,
        &serde_json::json!({"name": "apiserver", "expirationDate": null,
            "residualTime": 0, "externallyManaged": false, "missing": true})
    );
    let ca = doc["certificateAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ca")
        .unwrap();
    assert_eq!(ca["missing"], false);
    // ca.key is absent: kubeadm calls such a CA externally managed.
    assert_eq!(ca["externallyManaged"], true);
}

#[test]
fn inspect_json_states_the_texts_facts() {
    let text = ok_stdout(&["inspect", BUNDLE]);
    let doc = json(&["inspect", BUNDLE, "--output", "json"]);
    assert_eq!(doc["apiVersion"], "kbc.output/v1");
    assert_eq!(doc["kind"], "BundleInspection");
    assert_eq!(doc["verification"], "ok");
    let digest = doc["digest"].as_str().unwrap();
    assert!(text.contains(&format!("digest: {digest}\n")));
    // The text quotes the time as YAML does (it holds colons).
    let issued_at = text
        .lines()
        .find_map(|l| l.strip_prefix("issuedAt: "))
        .unwrap();
    assert_eq!(
        issued_at.trim_matches('"'),
        doc["issuedAt"].as_str().unwrap()
    );
    let certs = doc["certificates"].as_array().unwrap();
    assert!(certs.len() >= 15, "{}", certs.len());
    for c in certs {
        let line = format!(
            "- {}: {} .. {} (serial {})\n",
            c["path"].as_str().unwrap(),
            c["notBefore"].as_str().unwrap(),
            c["notAfter"].as_str().unwrap(),
            c["serial"].as_str().unwrap()
        );
        assert!(text.contains(&line), "{line}");
    }
    let jws = doc["clusterInfoJWS"].as_object().unwrap();
    assert_eq!(jws.len(), 1);
    for (key, value) in jws {
        assert!(key.starts_with("jws-kubeconfig-"));
        assert!(text.contains(&format!("  {key}: {}\n", value.as_str().unwrap())));
    }
    // The review rendering is the text's tail, and what `kbc render` prints.
    let review = doc["review"].as_str().unwrap();
    assert!(text.ends_with(review));
    assert!(review.starts_with("# kbc review rendering"));
}

#[test]
fn inspect_json_reports_a_refusal_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.tgz");
    std::fs::write(&bad, b"\x1f\x8bnot really gzip").unwrap();
    let out = kbc(&["inspect", &bad.display().to_string(), "--output", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verification"], "refused");
    assert!(doc["error"].as_str().unwrap().contains("gzip"));
    assert!(doc.get("digest").is_none());
}

#[test]
fn compile_summary_json_states_the_texts_facts() {
    let dir = tempfile::tempdir().unwrap();
    let compile = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name).display().to_string();
        let mut args = vec![
            "compile",
            "fixtures/external-etcd.yaml",
            "--secrets",
            "fixtures/secrets/test-secrets.yaml",
            "--issued-at",
            "2026-11-25T12:00:00Z",
            "--upload-certs",
            "-o",
        ];
        args.push(&out);
        args.extend_from_slice(extra);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok_stdout(&args)
    };
    let text = compile("a.tgz", &[]);
    let doc: Value = serde_json::from_str(&compile("b.tgz", &["--output-format", "json"])).unwrap();
    assert_eq!(doc["kind"], "CompileSummary");
    assert_eq!(doc["apiVersion"], "kbc.output/v1");
    // Same inputs, same bundle: the digest is the text's first line.
    assert_eq!(text.lines().next(), doc["digest"].as_str());
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
            .unwrap_or_else(|| panic!("{key} in {text}"))
            .to_string()
    };
    assert_eq!(value("node "), doc["node"].as_str().unwrap());
    assert_eq!(value("endpoint "), doc["endpoint"].as_str().unwrap());
    assert_eq!(
        value("kubernetes "),
        doc["kubernetesVersion"].as_str().unwrap()
    );
    assert_eq!(
        value("certificates expire "),
        doc["certificatesExpire"].as_str().unwrap()
    );
    assert_eq!(value("CAs expire "), doc["casExpire"].as_str().unwrap());
    let c = &doc["contents"];
    assert_eq!(
        value("contents "),
        format!(
            "{} PKI files, {} kubeconfigs, {} static Pods, {} API files",
            c["pkiFiles"], c["kubeconfigs"], c["staticPods"], c["apiFiles"]
        )
    );
    let b = &doc["bundle"];
    assert!(value("bundle ").ends_with(&format!("({} bytes, {} files)", b["size"], b["files"])));
    let join = &doc["join"][0];
    assert_eq!(value("join (worker) "), join["worker"].as_str().unwrap());
    assert_eq!(
        value("join (control plane) "),
        join["controlPlane"].as_str().unwrap()
    );
    // Secrets stay masked in JSON too.
    assert!(join["controlPlane"]
        .as_str()
        .unwrap()
        .contains(&format!("--certificate-key {}", "*".repeat(64))));
}

#[test]
fn output_is_plain_when_not_a_terminal() {
    // stdout and stderr are pipes here; NO_COLOR is set too, as a user of NO_COLOR would.
    for args in [
        vec!["--help"],
        vec!["compile", "--help"],
        vec!["compile", "--no-such-flag"],
        vec!["config", "validate", "fixtures/invalid/several-errors.yaml"],
    ] {
        for no_color in [false, true] {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_kbc"));
            cmd.args(&args).current_dir(root());
            if no_color {
                cmd.env("NO_COLOR", "1");
            }
            let out = cmd.output().unwrap();
            assert!(!out.stdout.contains(&0x1b), "{args:?}: escape in stdout");
            assert!(!out.stderr.contains(&0x1b), "{args:?}: escape in stderr");
        }
    }
}
