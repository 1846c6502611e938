//! How server functions called from the browser send their answers (and
//! every server function its errors): JSON, read back as text.
//!
//! server_fn's own `JsonEncoding` reads answers from bytes, while islands read
//! their props, and the socket its frames, from text. serde_json compiles a
//! decoder per type and per kind of input, so two readers meant two copies
//! of every shared type's decoder (messages, errors) in the browser bundle.
//! The bytes on the wire are the same JSON either way.

use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType, codec::Post};
use serde::{Serialize, de::DeserializeOwned};

/// JSON, decoded with `serde_json::from_str` like island props.
pub struct JsonText;

/// A server function's answer as [`JsonText`]: `#[server(output = JsonAnswer)]`.
pub type JsonAnswer = Post<JsonText>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(<serde_json::Error as serde::de::Error>::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_back_and_broken_text_is_an_error() {
        let bytes = <JsonText as Encodes<Vec<String>>>::encode(&vec!["café".to_owned()]).unwrap();
        let back: Vec<String> = <JsonText as Decodes<Vec<String>>>::decode(bytes).unwrap();
        assert_eq!(back, ["café"]);
        // Not UTF-8, or not JSON: an error, never a panic.
        assert!(<JsonText as Decodes<String>>::decode(Bytes::from_static(b"\"caf\xe9\"")).is_err());
        assert!(<JsonText as Decodes<String>>::decode(Bytes::from_static(b"caf")).is_err());
    }
}
