//! Host spec loading: any bytes give a spec or a list of problems, never a
//! panic. Specs are local files, not network input, but they come from
//! operators' editors and from Nix, so they get the same treatment.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Err(errors) = mailroom_spec::load_slice(input) {
        assert!(!errors.problems.is_empty());
    }
});
