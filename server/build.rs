//! `sqlx::migrate!` embeds the migration files at compile time; this makes Cargo rebuild the
//! crate when one is added or changed (otherwise a new migration is silently left out).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
