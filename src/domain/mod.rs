//! Pure rules: no I/O, nothing of ours imported.

pub mod approval;
pub mod broadcast;
pub mod campaign;
pub mod cards;
pub mod clock;
pub mod commands;
pub mod delivery;
pub mod duration;
pub mod engagement;
pub mod hours;
pub mod ids;
pub mod ladder;
pub mod lang;
pub mod localtime;
pub mod pages;
pub mod presence;
pub mod problem;
pub mod progress;
pub mod repeat;
pub mod report_filter;
pub mod roster;
pub mod schedule;
pub mod size;
pub mod skype;
pub mod spread;
pub mod template;
pub mod text;
pub mod tracking;

pub use clock::{Clock, ManualClock, SystemClock};
pub use lang::Lang;
