//! Optional diagnostics (feature `tracing`): `tracing` events at the points
//! an integrator debugs (which session state took a message, why a message
//! was refused, a one-time prekey consumed, a sender key rotated). Events
//! carry ids, counts and error descriptions, never key material or
//! plaintext. Without the feature the macro expands to nothing that runs,
//! and the crate does not depend on `tracing`.

/// `event!(LEVEL, "message", field = value, ...)`: a `tracing` event with
/// the feature, otherwise nothing (the values are not evaluated).
macro_rules! event {
    ($level:ident, $message:literal $(, $field:ident = $value:expr)* $(,)?) => {{
        #[cfg(feature = "tracing")]
        ::tracing::event!(target: "sealpost", ::tracing::Level::$level, $($field = %$value,)* $message);
        #[cfg(not(feature = "tracing"))]
        if false {
            $(let _ = &$value;)*
        }
    }};
}
pub(crate) use event;
