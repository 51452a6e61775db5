//! `include/corral.h` is what cbindgen (the pinned version) makes of the
//! source: this test fails when they drift. Regenerate with
//! `CORRAL_BLESS_HEADER=1 cargo test -p corral-c --test header`.

use std::path::Path;

#[test]
fn header_matches_the_source() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not read the crate")
        .write(&mut generated);
    let header = crate_dir.join("include/corral.h");
    if std::env::var_os("CORRAL_BLESS_HEADER").is_some() {
        std::fs::write(&header, &generated).expect("writing include/corral.h");
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "bindings-c/include/corral.h is out of date with the Rust source: regenerate it with \
         CORRAL_BLESS_HEADER=1 cargo test -p corral-c --test header"
    );
}
