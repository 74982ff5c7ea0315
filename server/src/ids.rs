//! Identifiers. Every id the API shows is 128 random bits (printed as 26 Crockford base32
//! characters): not sequential and not time-ordered, so an id tells nothing about others.

pub fn random_id() -> String {
    ulid::Ulid::from(rand::random::<u128>()).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_random_and_unrelated() {
        let a = super::random_id();
        let b = super::random_id();
        assert_eq!(a.len(), 26);
        assert_ne!(a[..10], b[..10], "no shared time prefix");
    }
}
