//! `#[mqtt_handler]` misuse is a compile error at the fault, one file per
//! kind of mistake, with the expected messages in the `.stderr` files next
//! to them (regenerate with `TRYBUILD=overwrite` and review the diff).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/*.rs");
}
