//! Reading the annotated `impl` block: which methods are routes and
//! lifecycle handlers, with what options and parameters. Every problem is
//! collected as a spanned error; reading goes on so one mistake does not
//! hide the next.

use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, Token};

use crate::filter::{self, Pattern};
use crate::kind::{Kind, ATTRIBUTES};
use crate::params::{self, Arg};

/// The options of `#[subscribe(..)]`.
#[derive(Debug, Clone)]
pub struct Route {
    pub literal: LitStr,
    pub pattern: Pattern,
    pub qos: u8,
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: u8,
}

/// One annotated method.
pub struct Method {
    pub kind: Kind,
    pub name: Ident,
    pub is_async: bool,
    pub args: Vec<Arg>,
    pub route: Option<Route>,
}

/// The whole handler.
pub struct Handler {
    pub methods: Vec<Method>,
}

impl Handler {
    pub fn routes(&self) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(|m| m.kind == Kind::Route)
    }

    pub fn one(&self, kind: Kind) -> Option<&Method> {
        self.methods.iter().find(|m| m.kind == kind)
    }
}

/// Reads `item`, stripping this macro's attributes from it.
pub fn read(item: &mut ItemImpl, errors: &mut Vec<syn::Error>) -> Handler {
    let mut methods: Vec<Method> = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let ours = take_attributes(method, errors);
        let mut ours = ours.into_iter();
        let Some((kind, attr)) = ours.next() else {
            continue;
        };
        for (_, extra) in ours {
            errors.push(syn::Error::new_spanned(
                &extra,
                format!(
                    "`{}` already has {}: a method has one handler attribute",
                    method.sig.ident,
                    kind.attribute()
                ),
            ));
        }
        if kind != Kind::Route {
            if let Some(first) = methods.iter().find(|m| m.kind == kind) {
                errors.push(syn::Error::new_spanned(
                    &attr,
                    format!(
                        "a second {} method: `{}` is already the handler's {} method",
                        kind.attribute(),
                        first.name,
                        kind.attribute()
                    ),
                ));
                continue;
            }
        }
        if let Some(m) = read_method(kind, &attr, method, errors) {
            if let Some(route) = &m.route {
                let same = methods
                    .iter()
                    .filter_map(|other| Some((other, other.route.as_ref()?)))
                    .find(|(_, other)| other.pattern.filter == route.pattern.filter);
                if let Some((other, _)) = same {
                    errors.push(syn::Error::new(
                        route.literal.span(),
                        format!(
                            "this filter is `{}`'s filter again (`{}`): the first match wins, so this route could never be chosen",
                            other.name, route.pattern.filter
                        ),
                    ));
                }
            }
            methods.push(m);
        }
    }
    Handler { methods }
}

/// Removes this macro's attributes from `method`, and reports near misses
/// such as `#[conected]`.
fn take_attributes(method: &mut ImplItemFn, errors: &mut Vec<syn::Error>) -> Vec<(Kind, Attribute)> {
    let mut ours = Vec::new();
    let mut kept = Vec::new();
    for attr in std::mem::take(&mut method.attrs) {
        let name = attr.path().get_ident().map(ToString::to_string);
        match name.as_deref().map(|n| (n, Kind::from_name(n))) {
            Some((_, Some(kind))) => ours.push((kind, attr)),
            Some((name, None)) => {
                if let Some(meant) = near_miss(name) {
                    errors.push(syn::Error::new_spanned(
                        attr.path(),
                        format!(
                            "unknown attribute `#[{name}]`; did you mean `#[{meant}]`? (#[mqtt_handler] methods take {})",
                            ATTRIBUTES.map(|a| format!("#[{a}]")).join(", ")
                        ),
                    ));
                } else {
                    kept.push(attr);
                }
            }
            None => kept.push(attr),
        }
    }
    method.attrs = kept;
    ours
}

/// The attribute of ours that `name` is probably a typo of.
fn near_miss(name: &str) -> Option<&'static str> {
    ATTRIBUTES
        .iter()
        .copied()
        .find(|ours| distance(name, ours) <= 2.min(ours.len() / 3 + 1))
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (previous + cost).min(row[j + 1] + 1).min(row[j] + 1);
            previous = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn read_method(
    kind: Kind,
    attr: &Attribute,
    method: &ImplItemFn,
    errors: &mut Vec<syn::Error>,
) -> Option<Method> {
    let sig = &method.sig;
    let route = match kind {
        Kind::Route => match attr.parse_args_with(|input: ParseStream| parse_route(input, errors)) {
            Ok(route) => route,
            Err(err) => {
                errors.push(if attr.meta.require_list().is_err() {
                    syn::Error::new(
                        attr.span(),
                        "#[subscribe] needs a topic filter: #[subscribe(\"sensors/{room}/temp\", qos = 1)]",
                    )
                } else {
                    err
                });
                None
            }
        },
        _ => {
            if let Err(err) = attr.meta.require_path_only() {
                errors.push(syn::Error::new(
                    err.span(),
                    format!("{} takes no arguments", kind.attribute()),
                ));
            }
            None
        }
    };
    let mut ok = true;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "handler methods cannot be generic: the macro must know every parameter's type",
        ));
        ok = false;
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) if receiver.reference.is_some() => {}
        Some(FnArg::Receiver(receiver)) => {
            errors.push(syn::Error::new(
                receiver.span(),
                "handler methods take `&mut self` (or `&self`): the connection keeps the handler",
            ));
            ok = false;
        }
        _ => {
            errors.push(syn::Error::new(
                sig.ident.span(),
                "handler methods take `&mut self` (or `&self`) first",
            ));
            ok = false;
        }
    }
    let is_async = sig.asyncness.is_some();
    if kind == Kind::ExtractError && is_async {
        errors.push(syn::Error::new(
            sig.asyncness.span(),
            "the #[extract_error] method is a plain `fn`",
        ));
        ok = false;
    }
    if kind == Kind::Auth && matches!(sig.output, syn::ReturnType::Default) {
        errors.push(syn::Error::new(
            sig.ident.span(),
            "an #[auth] method returns `AuthResponse`: `Continue(data)` or `Done`",
        ));
        ok = false;
    }
    let segments = route
        .as_ref()
        .map(|r| r.pattern.segments.as_slice())
        .unwrap_or_default();
    let args = params::classify(kind, is_async, sig, segments, errors);
    if let (Some(route), Some(args)) = (&route, &args) {
        for segment in &route.pattern.segments {
            let bound = args
                .iter()
                .any(|arg| arg.segment().is_some_and(|s| s.name == segment.name));
            if !bound {
                errors.push(syn::Error::new(
                    route.literal.span(),
                    format!(
                        "the named segment `{{{}}}` has no parameter: add `{}: &str` (or any `FromStr` type) to `{}`, or write `+` for a level you ignore",
                        segment.name, segment.name, sig.ident
                    ),
                ));
            }
        }
    }
    if kind == Kind::Route && route.is_none() {
        ok = false;
    }
    let args = args?;
    ok.then(|| Method {
        kind,
        name: sig.ident.clone(),
        is_async,
        args,
        route,
    })
}

/// `"filter", qos = 1, no_local, retain_as_published = true, retain_handling = 2`
fn parse_route(input: ParseStream, errors: &mut Vec<syn::Error>) -> syn::Result<Option<Route>> {
    if input.is_empty() {
        return Err(
            input.error("#[subscribe] needs a topic filter: #[subscribe(\"sensors/{room}/temp\", qos = 1)]")
        );
    }
    let literal: LitStr = input.parse().map_err(|err| {
        syn::Error::new(
            err.span(),
            "#[subscribe] starts with the topic filter, a string: #[subscribe(\"sensors/{room}/temp\")]",
        )
    })?;
    let mut route_ok = true;
    let pattern = match filter::parse(&literal.value()) {
        Ok(pattern) => Some(pattern),
        Err(message) => {
            errors.push(syn::Error::new(
                literal.span(),
                format!("invalid topic filter: {message}"),
            ));
            route_ok = false;
            None
        }
    };
    let mut qos = 1;
    let mut no_local = false;
    let mut retain_as_published = false;
    let mut retain_handling = 0;
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let key: Ident = input.parse()?;
        let value: Option<syn::Expr> = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        let result = match key.to_string().as_str() {
            "qos" => int(&key, value.as_ref(), 2).map(|v| qos = v),
            "no_local" => flag(value.as_ref()).map(|v| no_local = v),
            "retain_as_published" => flag(value.as_ref()).map(|v| retain_as_published = v),
            "retain_handling" => retain(&key, value.as_ref()).map(|v| retain_handling = v),
            other => Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown #[subscribe] option `{other}`; expected `qos`, `no_local`, `retain_as_published` or `retain_handling`"
                ),
            )),
        };
        if let Err(err) = result {
            errors.push(err);
            route_ok = false;
        }
    }
    Ok(pattern.filter(|_| route_ok).map(|pattern| Route {
        literal,
        pattern,
        qos,
        no_local,
        retain_as_published,
        retain_handling,
    }))
}

fn int(key: &Ident, value: Option<&syn::Expr>, max: u8) -> syn::Result<u8> {
    let parsed = match value {
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(lit),
            ..
        })) => lit.base10_parse::<u8>().ok().filter(|v| *v <= max),
        _ => None,
    };
    parsed.ok_or_else(|| {
        let span = value.map_or(key.span(), |v| v.span());
        syn::Error::new(span, format!("`{key}` is a number from 0 to {max}"))
    })
}

fn flag(value: Option<&syn::Expr>) -> syn::Result<bool> {
    match value {
        None => Ok(true),
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(b),
            ..
        })) => Ok(b.value),
        Some(other) => Err(syn::Error::new(other.span(), "expected `true` or `false`")),
    }
}

fn retain(key: &Ident, value: Option<&syn::Expr>) -> syn::Result<u8> {
    if let Some(syn::Expr::Path(path)) = value {
        let name = path.path.segments.last().map(|s| s.ident.to_string());
        return match name.as_deref() {
            Some("SendAtSubscribe") => Ok(0),
            Some("SendAtSubscribeIfNew") => Ok(1),
            Some("DoNotSend") => Ok(2),
            _ => Err(syn::Error::new(
                path.span(),
                "expected `SendAtSubscribe`, `SendAtSubscribeIfNew` or `DoNotSend` (or 0, 1, 2)",
            )),
        };
    }
    int(key, value, 2)
}

#[cfg(test)]
mod tests {
    use super::{distance, near_miss};

    #[test]
    fn typos_of_our_attributes_are_caught() {
        assert_eq!(distance("conected", "connected"), 1);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(near_miss("conected"), Some("connected"));
        assert_eq!(near_miss("mesage"), Some("message"));
        assert_eq!(near_miss("subscibe"), Some("subscribe"));
        assert_eq!(near_miss("inline"), None);
        assert_eq!(near_miss("allow"), None);
        assert_eq!(near_miss("doc"), None);
    }
}
