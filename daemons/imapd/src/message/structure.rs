//! BODY and BODYSTRUCTURE (RFC 3501 section 7.4.2), built from the MIME tree
//! that mail-parser finds.
//!
//! Sizes are octets of the part body as stored (still transfer-encoded),
//! line counts are LF characters in it. Nesting deeper than
//! [`MAX_DEPTH`] is shown as an opaque application/octet-stream part, so
//! that a hostile message cannot make the response, or the recursion that
//! builds it, unbounded.

use imap_codec::imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData, SinglePartExtensionData,
    SpecificFields,
};
use imap_codec::imap_types::core::{IString, NString, NonEmptyVec};
use mail_parser::{ContentType, HeaderName, HeaderValue, Message, MessagePart, PartType};

use super::envelope::envelope;
use super::strings::{istring, nstring, unfold};

/// Deepest MIME nesting described part by part.
pub const MAX_DEPTH: usize = 24;

/// Builds the BODYSTRUCTURE (`extended`) or BODY of `message`.
pub fn body_structure(message: &Message<'_>, extended: bool) -> BodyStructure<'static> {
    part_structure(message, 0, extended, 0)
}

fn part_structure(owner: &Message<'_>, id: usize, extended: bool, depth: usize) -> BodyStructure<'static> {
    let Some(node) = owner.parts.get(id) else {
        return empty_text();
    };
    let content_type = content_type(node);

    if let PartType::Multipart(children) = &node.body {
        let bodies: Vec<BodyStructure<'static>> = if depth < MAX_DEPTH {
            children
                .iter()
                .map(|&child| part_structure(owner, child as usize, extended, depth + 1))
                .collect()
        } else {
            Vec::new()
        };
        if let Ok(bodies) = NonEmptyVec::try_from(bodies) {
            let subtype = content_type.and_then(|ct| ct.c_subtype.as_deref()).unwrap_or("mixed");
            let extension_data = extended.then(|| MultiPartExtensionData {
                parameter_list: parameters(content_type),
                tail: Some(disposition_tail(owner, node)),
            });
            return BodyStructure::Multi {
                bodies,
                subtype: istring(subtype),
                extension_data,
            };
        }
        return single(owner, node, None, ("application", "octet-stream"), extended, depth);
    }
    let (kind, subtype) = match content_type {
        Some(ct) => (ct.c_type.as_ref(), ct.c_subtype.as_deref().unwrap_or("")),
        None => ("text", "plain"),
    };
    single(owner, node, content_type, (kind, subtype), extended, depth)
}

fn single(
    owner: &Message<'_>,
    node: &MessagePart<'_>,
    content_type: Option<&ContentType<'_>>,
    (kind, subtype): (&str, &str),
    extended: bool,
    depth: usize,
) -> BodyStructure<'static> {
    let body_bytes = owner
        .raw_message
        .get(node.offset_body as usize..node.offset_end as usize)
        .unwrap_or_default();
    let lines = u32::try_from(body_bytes.iter().filter(|&&b| b == b'\n').count()).unwrap_or(u32::MAX);
    let mut parameter_list = parameters(content_type);
    if content_type.is_none() {
        parameter_list.push((istring("charset"), istring("us-ascii")));
    }

    let basic = BasicFields {
        parameter_list,
        id: raw_header(owner, node, HeaderName::ContentId),
        description: raw_header(owner, node, HeaderName::ContentDescription),
        content_transfer_encoding: istring(&transfer_encoding(owner, node)),
        size: u32::try_from(body_bytes.len()).unwrap_or(u32::MAX),
    };

    let specific = match &node.body {
        PartType::Message(nested) if depth < MAX_DEPTH && kind.eq_ignore_ascii_case("message") => {
            SpecificFields::Message {
                envelope: Box::new(envelope(nested)),
                body_structure: Box::new(part_structure(nested, 0, extended, depth + 1)),
                number_of_lines: lines,
            }
        }
        _ if kind.eq_ignore_ascii_case("text") => SpecificFields::Text {
            subtype: istring(subtype),
            number_of_lines: lines,
        },
        _ => SpecificFields::Basic {
            r#type: istring(kind),
            subtype: istring(subtype),
        },
    };

    let extension_data = extended.then(|| SinglePartExtensionData {
        md5: raw_header(owner, node, HeaderName::Other("Content-MD5".into())),
        tail: Some(disposition_tail(owner, node)),
    });
    BodyStructure::Single {
        body: Body { basic, specific },
        extension_data,
    }
}

/// Builds the extension fields after MD5 or the multipart parameters:
/// disposition, language, location.
fn disposition_tail(owner: &Message<'_>, node: &MessagePart<'_>) -> Disposition<'static> {
    let disposition = header_value(node, &HeaderName::ContentDisposition)
        .and_then(HeaderValue::as_content_type)
        .map(|ct| (istring(&ct.c_type), parameters(Some(ct))));
    let language = match header_value(node, &HeaderName::ContentLanguage) {
        Some(HeaderValue::Text(text)) => vec![istring(text)],
        Some(HeaderValue::TextList(list)) => list.iter().map(|text| istring(text)).collect(),
        _ => Vec::new(),
    };
    Disposition {
        disposition,
        tail: Some(Language {
            language,
            tail: Some(Location {
                location: raw_header(owner, node, HeaderName::ContentLocation),
                extensions: Vec::new(),
            }),
        }),
    }
}

fn content_type<'p>(node: &'p MessagePart<'_>) -> Option<&'p ContentType<'p>> {
    header_value(node, &HeaderName::ContentType).and_then(HeaderValue::as_content_type)
}

fn header_value<'p>(node: &'p MessagePart<'_>, name: &HeaderName<'_>) -> Option<&'p HeaderValue<'p>> {
    node.headers
        .iter()
        .rev()
        .find(|header| header.name == *name)
        .map(|header| &header.value)
}

fn parameters(content_type: Option<&ContentType<'_>>) -> Vec<(IString<'static>, IString<'static>)> {
    let Some(attributes) = content_type.and_then(|ct| ct.attributes.as_ref()) else {
        return Vec::new();
    };
    attributes
        .iter()
        .map(|attribute| (istring(&attribute.name), istring(&attribute.value)))
        .collect()
}

/// Returns a header of the part as written, unfolded, or NIL.
fn raw_header(owner: &Message<'_>, node: &MessagePart<'_>, name: HeaderName<'_>) -> NString<'static> {
    let header = node.headers.iter().rev().find(|header| header.name == name);
    let raw = header.and_then(|h| owner.raw_message.get(h.offset_start as usize..h.offset_end as usize));
    let text = raw.map(|bytes| unfold(&String::from_utf8_lossy(bytes)));
    nstring(text.as_deref())
}

fn transfer_encoding(owner: &Message<'_>, node: &MessagePart<'_>) -> String {
    match raw_header(owner, node, HeaderName::ContentTransferEncoding).0 {
        Some(value) => String::from_utf8_lossy(value.as_ref()).to_ascii_uppercase(),
        None => "7BIT".to_owned(),
    }
}

fn empty_text() -> BodyStructure<'static> {
    BodyStructure::Single {
        body: Body {
            basic: BasicFields {
                parameter_list: Vec::new(),
                id: NString(None),
                description: NString(None),
                content_transfer_encoding: istring("7BIT"),
                size: 0,
            },
            specific: SpecificFields::Text {
                subtype: istring("plain"),
                number_of_lines: 0,
            },
        },
        extension_data: None,
    }
}
