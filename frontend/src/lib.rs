//! The browser entry point. The server renders every page; only its islands
//! (the parts that change in place) run here. Everything else lives in the
//! `app` crate, shared with the server.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Calling into `app` also links it, and with it the islands it exports.
    app::hydrate_islands();
}
