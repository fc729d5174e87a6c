//! kbc-apply: installs a kbc bundle on a node. Only the usage exists so far.
fn main() {
    eprintln!("usage: kbc-apply BUNDLE\n\nkbc-apply is not implemented yet; see issue 5.");
    std::process::exit(2);
}
