//! Health: the checks `gomig doctor` and `gomig audit` report.

pub mod audit;
pub mod surroundings;
