//! Parameters by type: what each one takes from the event.

use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Pat, PathArguments, Signature, Type};

use crate::filter::Segment;
use crate::kind::Kind;

/// Where a parameter's value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `&Publish`
    Publish,
    /// `&mut HandlerContext` (or `&HandlerContext`)
    Context { mutable: bool },
    /// `&Client`
    ClientRef,
    /// `Client`
    Client,
    /// `Responder`, or `Option<Responder>`
    Responder { optional: bool },
    /// A named segment as `&str`, `String`, or parsed with `FromStr`.
    Segment { segment: Segment, how: SegmentAs },
    /// The payload as `Bytes`, `&[u8]`, `&str` or `String`.
    Payload(PayloadAs),
    /// `Json<T>`
    Json,
    /// The event's own data: `&ConnAck`, `&DisconnectReason`, `&PublishError`,
    /// `&Auth`, `&ExtractError`.
    Event,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentAs {
    Str,
    String,
    Parse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadAs {
    Bytes,
    Slice,
    Str,
    String,
}

/// One parameter.
#[derive(Debug, Clone)]
pub struct Arg {
    pub name: String,
    pub ty: Type,
    pub source: Source,
}

impl Arg {
    pub fn segment(&self) -> Option<&Segment> {
        match &self.source {
            Source::Segment { segment, .. } => Some(segment),
            _ => None,
        }
    }

    /// Whether taking it can fail (and send the message to the error path).
    pub fn fallible(&self) -> bool {
        matches!(
            self.source,
            Source::Responder { optional: false }
                | Source::Json
                | Source::Payload(PayloadAs::Str | PayloadAs::String)
                | Source::Segment {
                    how: SegmentAs::Parse,
                    ..
                }
        )
    }
}

/// The event type a lifecycle method takes by reference.
fn event_type(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Connected => "ConnAck",
        Kind::Disconnected => "DisconnectReason",
        Kind::PublishError => "PublishError",
        Kind::Auth => "Auth",
        Kind::ExtractError => "ExtractError",
        Kind::Route | Kind::Message => return None,
    })
}

fn expected(kind: Kind) -> String {
    match kind {
        Kind::Route => "`&Publish`, a named segment (`&str`, `String` or a `FromStr` type named like the segment), the payload (`Bytes`, `&[u8]`, `&str`, `String`, `Json<T>`), `&mut HandlerContext`, `Client`, `&Client`, `Responder` or `Option<Responder>`".into(),
        Kind::Message => "`&Publish`, the payload (`Bytes`, `&[u8]`, `&str`, `String`, `Json<T>`), `&mut HandlerContext`, `Client`, `&Client`, `Responder` or `Option<Responder>`".into(),
        Kind::ExtractError => "`&ExtractError`, `&Publish`, `Client` or `&Client`".into(),
        other => format!(
            "`&{}`, `&mut HandlerContext`, `Client` or `&Client`",
            event_type(other).unwrap_or_default()
        ),
    }
}

/// The last segment's name of a path type, and its generic arguments.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

fn named(ty: &Type) -> Option<String> {
    last_segment(ty).map(|s| s.ident.to_string())
}

/// `Option<Responder>`
fn is_optional_responder(ty: &Type) -> bool {
    let Some(segment) = last_segment(ty) else {
        return false;
    };
    if segment.ident != "Option" {
        return false;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return false;
    };
    matches!(args.args.first(), Some(GenericArgument::Type(inner)) if named(inner).as_deref() == Some("Responder"))
}

/// Classifies every parameter after the receiver; `None` if one is wrong
/// (each mistake is in `errors`).
pub fn classify(
    kind: Kind,
    is_async: bool,
    sig: &Signature,
    segments: &[Segment],
    errors: &mut Vec<syn::Error>,
) -> Option<Vec<Arg>> {
    let mut args = Vec::new();
    let mut ok = true;
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(typed) = input else { continue };
        let name = pattern_name(&typed.pat).unwrap_or_default();
        match classify_one(kind, is_async, (&name, typed.pat.span()), &typed.ty, segments) {
            Ok(source) => {
                if let Source::Segment { segment, .. } = &source {
                    let twice = args
                        .iter()
                        .any(|a: &Arg| a.segment().is_some_and(|s| s.name == segment.name));
                    if twice {
                        errors.push(syn::Error::new(
                            typed.pat.span(),
                            format!("the named segment `{{{name}}}` is already taken by another parameter"),
                        ));
                        ok = false;
                        continue;
                    }
                }
                args.push(Arg {
                    name,
                    ty: (*typed.ty).clone(),
                    source,
                });
            }
            Err(err) => {
                errors.push(err);
                ok = false;
            }
        }
    }
    ok.then_some(args)
}

fn classify_one(
    kind: Kind,
    is_async: bool,
    (name, name_span): (&str, proc_macro2::Span),
    ty: &Type,
    segments: &[Segment],
) -> syn::Result<Source> {
    let payload = matches!(kind, Kind::Route | Kind::Message);
    let segment = segments.iter().find(|s| s.name == name);
    let unsupported = || {
        syn::Error::new_spanned(
            ty,
            format!(
                "unsupported parameter type for a {} method; expected {}",
                kind.attribute(),
                expected(kind)
            ),
        )
    };
    if let Type::Reference(reference) = ty {
        let elem = &*reference.elem;
        let mutable = reference.mutability.is_some();
        if let Type::Slice(slice) = elem {
            return match (named(&slice.elem).as_deref(), payload, mutable) {
                (Some("u8"), true, false) => Ok(Source::Payload(PayloadAs::Slice)),
                _ => Err(unsupported()),
            };
        }
        let Some(ident) = named(elem) else {
            return Err(unsupported());
        };
        let source = match ident.as_str() {
            "HandlerContext" if is_async => {
                return Err(syn::Error::new_spanned(
                    ty,
                    "`HandlerContext` is for `fn` methods: an `async fn` takes `Client` (or `Responder`) to publish",
                ))
            }
            "HandlerContext" if kind != Kind::ExtractError => Source::Context { mutable },
            _ if mutable => return Err(unsupported()),
            "Client" => Source::ClientRef,
            "Publish" if payload || kind == Kind::ExtractError => Source::Publish,
            "str" if kind == Kind::Route && segment.is_some() => Source::Segment {
                segment: segment.cloned().unwrap_or_default(),
                how: SegmentAs::Str,
            },
            "str" if payload => Source::Payload(PayloadAs::Str),
            other if event_type(kind) == Some(other) => Source::Event,
            _ => return Err(unsupported()),
        };
        return Ok(source);
    }
    if is_optional_responder(ty) && payload {
        return Ok(Source::Responder { optional: true });
    }
    let Some(ident) = named(ty) else {
        return Err(unsupported());
    };
    if let (Some(segment), Kind::Route) = (segment, kind) {
        let how = if ident == "String" {
            SegmentAs::String
        } else {
            SegmentAs::Parse
        };
        return Ok(Source::Segment {
            segment: segment.clone(),
            how,
        });
    }
    Ok(match ident.as_str() {
        "Client" => Source::Client,
        "Bytes" if payload => Source::Payload(PayloadAs::Bytes),
        "String" if payload => Source::Payload(PayloadAs::String),
        "Json" if payload => Source::Json,
        "Responder" if payload => Source::Responder { optional: false },
        _ if kind == Kind::Route && !name.is_empty() => {
            let names: Vec<String> = segments.iter().map(|s| format!("`{{{}}}`", s.name)).collect();
            let have = if names.is_empty() {
                "the filter has no named segments".to_owned()
            } else {
                format!("its named segments are {}", names.join(", "))
            };
            return Err(syn::Error::new(
                name_span,
                format!(
                    "parameter `{name}` has no segment `{{{name}}}` in the filter ({have}); a `{ident}` parameter is a named segment, or use one of {}",
                    expected(kind)
                ),
            ));
        }
        _ => return Err(unsupported()),
    })
}

/// The name a parameter goes by: its identifier, or the first one inside a
/// destructuring pattern (`Json(reading)` is "reading").
fn pattern_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) => Some(ident.ident.to_string()),
        Pat::TupleStruct(tuple) => tuple.elems.iter().find_map(pattern_name),
        Pat::Tuple(tuple) => tuple.elems.iter().find_map(pattern_name),
        Pat::Reference(reference) => pattern_name(&reference.pat),
        Pat::Paren(paren) => pattern_name(&paren.pat),
        Pat::Type(typed) => pattern_name(&typed.pat),
        _ => None,
    }
}
