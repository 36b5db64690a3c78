//! The `[api]` table of a pipeline file: arbitrary text → `ApiConfig` (TOML) → `validate`.
//! Must never panic. `resolve` is not called: it reads environment variables and files named
//! by the input, which a fuzzer must not steer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_http::ApiConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = toml::from_str::<ApiConfig>(text) else {
        return;
    };
    if let Err(e) = cfg.validate() {
        let _ = e.to_string();
    }
});
