//! The PUBLISH options that every builder sending one offers — publish,
//! request, call — written once. A builder using it has a private
//! `publish_mut(&mut self) -> &mut Publish`.

macro_rules! publish_setters {
    () => {
        /// The QoS (default 0).
        pub fn qos(mut self, qos: $crate::packet::QoS) -> Self {
            self.publish_mut().qos = qos;
            self
        }

        /// Message Expiry Interval in seconds.
        pub fn message_expiry_interval(mut self, seconds: u32) -> Self {
            self.publish_mut().properties.message_expiry_interval = Some(seconds);
            self
        }

        /// Content Type (a MIME type, by convention).
        pub fn content_type(mut self, content_type: impl Into<::bytestring::ByteString>) -> Self {
            self.publish_mut().properties.content_type = Some(content_type.into());
            self
        }

        /// Payload Format Indicator: the payload is UTF-8 text.
        pub fn utf8_payload(mut self, utf8: bool) -> Self {
            self.publish_mut().properties.payload_format_indicator = Some(utf8);
            self
        }

        /// Adds a User Property; repeats are kept, in order.
        pub fn user_property(
            mut self,
            key: impl Into<::bytestring::ByteString>,
            value: impl Into<::bytestring::ByteString>,
        ) -> Self {
            self.publish_mut()
                .properties
                .user_properties
                .push((key.into(), value.into()));
            self
        }
    };
}

pub(super) use publish_setters;
