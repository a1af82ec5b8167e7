//! [`LazyBox`]: where packets keep their MQTT 5 properties.
//!
//! Most packets carry no properties at all, yet a property struct is large
//! (a `PublishProperties` is 160 bytes). Held inline it made every
//! `Publish` 232 bytes, copied each time a message moved between queues.
//! Boxed only when set, it costs one pointer, and reading an unset one
//! allocates nothing.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A property struct that is allocated only once something in it is set.
///
/// Reading goes through [`Deref`]: an unset value reads as the type's empty
/// (default) value. Writing through [`DerefMut`] allocates on first use, so
/// code that may have nothing to change should ask [`get_mut`](Self::get_mut)
/// first.
///
/// ```
/// use mqttx::packet::{LazyBox, PublishProperties};
///
/// let mut properties: LazyBox<PublishProperties> = LazyBox::default();
/// assert_eq!(properties.content_type, None); // reads the empty value
/// assert!(properties.get_mut().is_none()); // nothing allocated yet
///
/// properties.content_type = Some("text/plain".into());
/// assert_eq!(properties.content_type.as_deref(), Some("text/plain"));
/// ```
pub struct LazyBox<T>(Option<Box<T>>);

/// A type whose default value also exists as a `static`, so an unset
/// [`LazyBox`] can lend it out without allocating.
///
/// Implemented for every properties type; the value must equal
/// `T::default()`.
///
/// ```
/// use mqttx::packet::{AckProperties, StaticDefault};
///
/// assert_eq!(*AckProperties::static_default(), AckProperties::default());
/// ```
pub trait StaticDefault: Default + 'static {
    /// The default value, shared.
    fn static_default() -> &'static Self;
}

impl<T> LazyBox<T> {
    /// A box holding `value`.
    pub fn new(value: T) -> Self {
        LazyBox(Some(Box::new(value)))
    }

    /// The value, if one was ever set.
    pub fn get(&self) -> Option<&T> {
        self.0.as_deref()
    }

    /// The value for changing, if one was ever set; `None` leaves nothing
    /// allocated.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.0.as_deref_mut()
    }

    /// Takes the value out, leaving the box unset.
    pub fn take(&mut self) -> T
    where
        T: Default,
    {
        self.0.take().map(|b| *b).unwrap_or_default()
    }
}

impl<T: StaticDefault> Deref for LazyBox<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        match &self.0 {
            Some(value) => value,
            None => T::static_default(),
        }
    }
}

impl<T: StaticDefault> DerefMut for LazyBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T> Default for LazyBox<T> {
    #[inline]
    fn default() -> Self {
        LazyBox(None)
    }
}

impl<T> From<T> for LazyBox<T> {
    fn from(value: T) -> Self {
        LazyBox::new(value)
    }
}

impl<T: Clone> Clone for LazyBox<T> {
    fn clone(&self) -> Self {
        LazyBox(self.0.clone())
    }
}

/// Unset and set-to-empty compare equal: both say "no properties".
impl<T: StaticDefault + PartialEq> PartialEq for LazyBox<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: StaticDefault + Eq> Eq for LazyBox<T> {}

impl<T: StaticDefault + fmt::Debug> fmt::Debug for LazyBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// Implements [`StaticDefault`] for property structs whose fields are all `Option`s
/// or `Vec`s.
macro_rules! empty_properties {
    ($($name:ident { $($field:ident: $value:expr),* $(,)? })*) => {$(
        impl $crate::packet::lazy_box::StaticDefault for $name {
            fn static_default() -> &'static Self {
                static EMPTY: $name = $name { $($field: $value),* };
                &EMPTY
            }
        }
    )*};
}
pub(crate) use empty_properties;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::PublishProperties;

    #[test]
    fn the_empty_value_is_the_default() {
        assert_eq!(*PublishProperties::static_default(), PublishProperties::default());
    }

    #[test]
    fn reading_allocates_nothing_writing_does() {
        let mut b: LazyBox<PublishProperties> = LazyBox::default();
        assert!(b.user_properties.is_empty());
        assert!(b.get_mut().is_none());
        b.topic_alias = std::num::NonZeroU16::new(3);
        assert_eq!(
            b.get_mut().map(|p| p.topic_alias),
            Some(std::num::NonZeroU16::new(3))
        );
        assert_eq!(b.take().topic_alias, std::num::NonZeroU16::new(3));
        assert!(b.get_mut().is_none());
    }

    #[test]
    fn unset_equals_set_to_empty() {
        let unset: LazyBox<PublishProperties> = LazyBox::default();
        assert_eq!(unset, LazyBox::new(PublishProperties::default()));
        assert_ne!(
            unset,
            LazyBox::new(PublishProperties {
                message_expiry_interval: Some(1),
                ..Default::default()
            })
        );
    }
}
