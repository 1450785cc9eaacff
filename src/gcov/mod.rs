//! GCC's coverage formats: the version word and what follows from it, the
//! tag/length record framing both files share, the
//! counter data (`.gcda`) and the notes (`.gcno`) of every GCC era.

pub mod gcda;
pub mod gcno;
pub mod kinds;
pub mod record;
pub mod tag;
pub mod version;
