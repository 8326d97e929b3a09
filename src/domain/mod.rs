//! Pure rules: no I/O, nothing of ours imported.

pub mod clock;
pub mod delivery;
pub mod lang;
pub mod text;

pub use clock::{Clock, SystemClock};
pub use lang::Lang;
