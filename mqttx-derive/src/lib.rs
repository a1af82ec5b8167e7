//! The `#[mqtt_handler]` attribute of [mqttx](https://docs.rs/mqttx). Use it
//! through `mqttx::mqtt_handler`; the generated code refers to `::mqttx`.
//!
//! The attribute reads the methods of an inherent `impl` block, checks them
//! (every misuse is a compile error at the fault), strips its helper
//! attributes and writes `impl ::mqttx::MqttHandler` for the type. The
//! routing and the extractors it calls live in `mqttx` itself, since a
//! proc-macro crate cannot export them.

mod expand;
mod filter;
// The codec's grammar, compiled here too so a route is checked by the rules
// the client applies; the macro runs its checks one at a time, not the
// codec's whole-filter entry points.
#[allow(dead_code, reason = "check_filter and levels_of serve the codec")]
mod filter_grammar;
mod kind;
mod model;
mod params;

use proc_macro::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

/// Turns an inherent `impl` block into an `mqttx::MqttHandler`.
///
/// The documentation, with every attribute and parameter type, is on the
/// re-export `mqttx::mqtt_handler` and in the guide's handlers chapter.
#[proc_macro_attribute]
pub fn mqtt_handler(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let input = proc_macro2::TokenStream::from(input);
    let mut item: syn::ItemImpl = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new(
                first_span(&input),
                "#[mqtt_handler] goes on an inherent impl block: `#[mqtt_handler] impl MyHandler { .. }`",
            )
            .into_compile_error();
            return quote!(#error #input).into();
        }
    };
    let mut errors: Vec<syn::Error> = Vec::new();
    if !args.is_empty() {
        errors.push(syn::Error::new(args.span(), "#[mqtt_handler] takes no arguments"));
    }
    if let Some((_, path, _)) = &item.trait_ {
        errors.push(syn::Error::new(
            path.span(),
            "#[mqtt_handler] goes on an inherent impl block (`impl MyHandler { .. }`), not on a trait impl",
        ));
        let errors = combine(errors);
        return quote!(#errors #item).into();
    }
    let mut generics_ok = true;
    for lifetime in item.generics.lifetimes() {
        errors.push(syn::Error::new(
            lifetime.span(),
            "a handler cannot borrow: it lives as long as its connection (`MqttHandler: 'static`), so #[mqtt_handler] does not take lifetime parameters",
        ));
        generics_ok = false;
    }
    let handler = model::read(&mut item, &mut errors);
    let generated = match (errors.is_empty(), generics_ok) {
        (true, _) => expand::handler_impl(&item, &handler),
        (false, true) => expand::placeholder_impl(&item),
        (false, false) => proc_macro2::TokenStream::new(),
    };
    let errors = combine(errors);
    quote!(#item #generated #errors).into()
}

fn first_span(tokens: &proc_macro2::TokenStream) -> proc_macro2::Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(proc_macro2::Span::call_site, |t| t.span())
}

fn combine(errors: Vec<syn::Error>) -> proc_macro2::TokenStream {
    let mut errors = errors.into_iter();
    let Some(mut first) = errors.next() else {
        return proc_macro2::TokenStream::new();
    };
    for error in errors {
        first.combine(error);
    }
    first.into_compile_error()
}
