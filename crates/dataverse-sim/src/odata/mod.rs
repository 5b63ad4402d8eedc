//! OData mechanics shared by every entity set: `$filter`, query options and paging, the
//! `Prefer` header, and row formatting (annotations, etags).

pub mod filter;
pub mod format;
pub mod prefer;
pub mod query;
