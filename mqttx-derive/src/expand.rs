//! Writing `impl ::mqttx::MqttHandler` from the model.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemImpl;

use crate::kind::Kind;
use crate::model::{Handler, Method};
use crate::params::{Arg, PayloadAs, SegmentAs, Source};

/// Whether the method body runs in `handle` (the handler at hand, a
/// `HandlerContext`) or in `handle_async` (the handler owned by a future).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Sync,
    Async,
}

impl Place {
    fn this(self) -> TokenStream {
        match self {
            Place::Sync => quote!(self),
            Place::Async => quote!(&mut __this),
        }
    }

    /// Leaves the current event, as handled.
    fn bail(self) -> TokenStream {
        match self {
            Place::Sync => quote!(return ::mqttx::Handled::Done),
            Place::Async => quote!(return (__this, ::std::option::Option::None)),
        }
    }
}

pub fn handler_impl(item: &ItemImpl, handler: &Handler) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let subscriptions = subscriptions(handler);
    let handle = handle(handler);
    let handle_async = handle_async(handler);
    quote! {
        impl #impl_generics ::mqttx::MqttHandler for #self_ty #where_clause {
            #subscriptions
            #handle
            #handle_async
        }
    }
}

/// The placeholder emitted next to errors, so code using the handler still
/// type-checks and only the real mistakes are reported.
pub fn placeholder_impl(item: &ItemImpl) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    quote! {
        impl #impl_generics ::mqttx::MqttHandler for #self_ty #where_clause {}
    }
}

fn subscriptions(handler: &Handler) -> TokenStream {
    let items = handler.routes().enumerate().filter_map(|(index, method)| {
        let route = method.route.as_ref()?;
        let filter = &route.pattern.filter;
        let (qos, no_local, rap, rh) = (
            route.qos,
            route.no_local,
            route.retain_as_published,
            route.retain_handling,
        );
        let identifier = u32::try_from(index + 1).unwrap_or(u32::MAX);
        Some(quote! {
            ::mqttx::__private::subscription(#filter, #qos, #no_local, #rap, #rh, #identifier)
        })
    });
    if handler.routes().next().is_none() {
        return TokenStream::new();
    }
    quote! {
        fn subscriptions(&self) -> ::std::vec::Vec<::mqttx::Subscription> {
            ::std::vec![#(#items),*]
        }
    }
}

/// Tokens for async methods: routes by index, then the others after them.
fn token(handler: &Handler, method: &Method) -> u32 {
    let position = handler
        .methods
        .iter()
        .filter(|m| m.kind == Kind::Route)
        .position(|m| std::ptr::eq(m, method));
    let index = position.unwrap_or_else(|| {
        let routes = handler.routes().count();
        routes + 1 + method.kind as usize
    });
    u32::try_from(index).unwrap_or(u32::MAX)
}

fn handle(handler: &Handler) -> TokenStream {
    let message = message_arm(handler, Place::Sync);
    let lifecycle = [
        (Kind::Connected, quote!(Connected(__data))),
        (Kind::Disconnected, quote!(Disconnected(__data))),
        (Kind::PublishError, quote!(PublishError(__data))),
    ]
    .into_iter()
    .filter_map(|(kind, pattern)| {
        let method = handler.one(kind)?;
        let body = if method.is_async {
            let token = token(handler, method);
            quote!(return ::mqttx::Handled::Async(#token);)
        } else {
            call(handler, method, Place::Sync)
        };
        Some(quote! {
            ::mqttx::HandlerEvent::#pattern => {
                #body
                ::mqttx::Handled::Done
            }
        })
    });
    let auth = match handler.one(Kind::Auth) {
        Some(method) if method.is_async => {
            let token = token(handler, method);
            quote!(::mqttx::HandlerEvent::Auth(__data) => ::mqttx::Handled::Async(#token),)
        }
        Some(method) => {
            let answer = call(handler, method, Place::Sync);
            quote!(::mqttx::HandlerEvent::Auth(__data) => ::mqttx::Handled::Auth(#answer),)
        }
        None => quote!(
            ::mqttx::HandlerEvent::Auth(_) => ::mqttx::Handled::Auth(::mqttx::AuthResponse::Done),
        ),
    };
    quote! {
        #[allow(unused_variables, unreachable_code, clippy::needless_return)]
        fn handle(
            &mut self,
            __event: &::mqttx::HandlerEvent,
            __ctx: &mut ::mqttx::HandlerContext<'_>,
        ) -> ::mqttx::Handled {
            let __client: &::mqttx::Client = ::mqttx::HandlerContext::client(__ctx);
            match __event {
                #message
                #(#lifecycle)*
                #auth
                _ => ::mqttx::Handled::Done,
            }
        }
    }
}

/// The `Message` arm: the route, then its method (or the catch-all).
fn message_arm(handler: &Handler, place: Place) -> TokenStream {
    let filters: Vec<&str> = handler
        .routes()
        .filter_map(|m| Some(m.route.as_ref()?.pattern.filter.as_str()))
        .collect();
    let arms = handler.routes().enumerate().map(|(index, method)| {
        let body = if method.is_async {
            let token = token(handler, method);
            quote!(return ::mqttx::Handled::Async(#token);)
        } else {
            call(handler, method, place)
        };
        quote!(::std::option::Option::Some(#index) => { #body })
    });
    let catch_all = match handler.one(Kind::Message) {
        Some(method) if method.is_async => {
            let token = token(handler, method);
            quote!(return ::mqttx::Handled::Async(#token);)
        }
        Some(method) => call(handler, method, place),
        None => TokenStream::new(),
    };
    let dispatch = if filters.is_empty() {
        catch_all
    } else {
        quote! {
            static __ROUTER: ::mqttx::__private::LazyLock<::mqttx::router::Router> =
                ::mqttx::__private::LazyLock::new(|| ::mqttx::router::Router::new([#(#filters),*]));
            match __ROUTER.route(__msg) {
                #(#arms)*
                _ => { #catch_all }
            }
        }
    };
    quote! {
        ::mqttx::HandlerEvent::Message(__msg) => {
            let __topic: &str = &__msg.topic;
            #dispatch
            ::mqttx::Handled::Done
        }
    }
}

/// Takes the parameters and calls `method`; for `#[auth]` the expression
/// is the answer.
fn call(handler: &Handler, method: &Method, place: Place) -> TokenStream {
    let route = method.name.to_string();
    let name = &method.name;
    let this = place.this();
    let mut lets = Vec::new();
    let mut names = Vec::new();
    for (index, arg) in method.args.iter().enumerate() {
        let var = format_ident!("__arg{}", index);
        let ty = &arg.ty;
        let span = ty.span();
        let value = value(arg, &route, span);
        let binding = if arg.fallible() {
            let on_error = on_error(handler, place);
            let bail = place.bail();
            quote_spanned! {span=>
                let #var: #ty = match #value {
                    ::std::result::Result::Ok(value) => value,
                    ::std::result::Result::Err(__error) => {
                        #on_error
                        #bail;
                    }
                };
            }
        } else {
            quote_spanned!(span=> let #var: #ty = #value;)
        };
        lets.push(binding);
        names.push(var);
    }
    let invoke = quote!(Self::#name(#this, #(#names),*));
    let output_span = method_output_span(method);
    let finish = match (method.kind, place, method.is_async) {
        (Kind::Auth, Place::Sync, _) => quote_spanned!(output_span=> #invoke),
        (Kind::Auth, Place::Async, _) => quote_spanned! {output_span=>
            {
                let __future = ::std::pin::pin!(#invoke);
                ::std::option::Option::Some(
                    ::mqttx::__private::catch_unwind(__future, #route)
                        .await
                        .unwrap_or(::mqttx::AuthResponse::Done),
                )
            }
        },
        (_, Place::Async, true) => quote_spanned! {output_span=>
            {
                let __future = ::std::pin::pin!(#invoke);
                if let ::std::option::Option::Some(__out) = ::mqttx::__private::catch_unwind(__future, #route).await {
                    ::mqttx::__private::Outcome::report(__out, #route);
                }
            }
        },
        _ => quote_spanned!(output_span=> ::mqttx::__private::Outcome::report(#invoke, #route);),
    };
    quote! {{
        #(#lets)*
        #finish
    }}
}

fn method_output_span(method: &Method) -> proc_macro2::Span {
    method.name.span()
}

/// What the handler does with a parameter that could not be taken.
fn on_error(handler: &Handler, place: Place) -> TokenStream {
    let Some(method) = handler.one(Kind::ExtractError) else {
        return quote!(::mqttx::__private::extract_failed(::std::any::type_name::<Self>(), &__error););
    };
    let name = &method.name;
    let route = name.to_string();
    let this = place.this();
    let args = method.args.iter().map(|arg| match &arg.source {
        Source::Event => quote!(&__error),
        Source::Publish => quote!(__msg),
        Source::ClientRef => quote!(__client),
        _ => quote!(::std::clone::Clone::clone(__client)),
    });
    quote!(::mqttx::__private::Outcome::report(Self::#name(#this, #(#args),*), #route);)
}

/// The expression for one parameter (a `Result` when it can fail).
/// Calls that can fail to compile for the parameter's type (`FromStr`,
/// `DeserializeOwned`) carry its span, so the error points at the type.
fn value(arg: &Arg, route: &str, span: proc_macro2::Span) -> TokenStream {
    let parameter = arg.name.as_str();
    match &arg.source {
        Source::Publish => quote!(__msg),
        Source::Context { mutable: true } => quote!(&mut *__ctx),
        Source::Context { mutable: false } => quote!(&*__ctx),
        Source::ClientRef => quote!(__client),
        Source::Client => quote!(::std::clone::Clone::clone(__client)),
        Source::Event => quote!(__data),
        Source::Responder { optional: false } => {
            quote!(::mqttx::__private::responder(__client, __msg, #route, #parameter))
        }
        Source::Responder { optional: true } => {
            quote!(::mqttx::Responder::new(
                ::std::clone::Clone::clone(__client),
                __msg
            ))
        }
        Source::Segment { segment, how } => {
            let level = segment.level;
            let text = if segment.tail {
                quote!(::mqttx::__private::tail(__topic, #level))
            } else {
                quote!(::mqttx::__private::level(__topic, #level))
            };
            match how {
                SegmentAs::Str => text,
                SegmentAs::String => quote!(::std::borrow::ToOwned::to_owned(#text)),
                SegmentAs::Parse => {
                    quote_spanned!(span=> ::mqttx::__private::parse(#text, #route, #parameter))
                }
            }
        }
        Source::Payload(PayloadAs::Bytes) => quote!(::std::clone::Clone::clone(&__msg.payload)),
        Source::Payload(PayloadAs::Slice) => quote!(::std::convert::AsRef::<[u8]>::as_ref(&__msg.payload)),
        Source::Payload(PayloadAs::Str) => quote!(::mqttx::__private::payload_str(__msg, #route, #parameter)),
        Source::Payload(PayloadAs::String) => quote!(
            ::mqttx::__private::payload_str(__msg, #route, #parameter).map(::std::borrow::ToOwned::to_owned)
        ),
        Source::Json => quote_spanned!(span=> ::mqttx::__private::json(__msg, #route, #parameter)),
    }
}

fn handle_async(handler: &Handler) -> TokenStream {
    let asyncs: Vec<&Method> = handler.methods.iter().filter(|m| m.is_async).collect();
    if asyncs.is_empty() {
        return TokenStream::new();
    }
    let arms = asyncs.iter().map(|method| {
        let token = token(handler, method);
        let body = call(handler, method, Place::Async);
        match method.kind {
            Kind::Route | Kind::Message => quote! {
                (#token, ::mqttx::HandlerEvent::Message(__msg)) => {
                    let __topic: &str = &__msg.topic;
                    #body
                    ::std::option::Option::None
                }
            },
            Kind::Auth => quote! {
                (#token, ::mqttx::HandlerEvent::Auth(__data)) => #body,
            },
            kind => {
                let variant = match kind {
                    Kind::Connected => quote!(Connected),
                    Kind::Disconnected => quote!(Disconnected),
                    _ => quote!(PublishError),
                };
                quote! {
                    (#token, ::mqttx::HandlerEvent::#variant(__data)) => {
                        #body
                        ::std::option::Option::None
                    }
                }
            }
        }
    });
    quote! {
        #[allow(unused_variables, unreachable_code, clippy::needless_return)]
        fn handle_async(
            self,
            __token: u32,
            __event: ::mqttx::HandlerEvent,
            __client: ::mqttx::Client,
        ) -> ::mqttx::HandlerTask<Self> {
            ::std::boxed::Box::pin(async move {
                let mut __this = self;
                let __client: &::mqttx::Client = &__client;
                let __answer: ::std::option::Option<::mqttx::AuthResponse> = match (__token, &__event) {
                    #(#arms)*
                    _ => ::std::option::Option::None,
                };
                (__this, __answer)
            })
        }
    }
}
