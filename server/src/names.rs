//! Friendly random display names for anonymous young people ("Calm Otter 42"): no personal
//! data, easy for a worker to use in conversation, unlikely to repeat in one queue.

use rand::seq::SliceRandom;
use rand::Rng;

const ADJECTIVES: &[&str] = &[
    "Brave", "Bright", "Calm", "Clever", "Cosy", "Gentle", "Happy", "Kind", "Lively", "Lucky", "Mellow", "Quiet",
    "Quick", "Steady", "Sunny", "Swift", "Warm", "Wise", "Bold", "Chilled",
];

const ANIMALS: &[&str] = &[
    "Otter", "Badger", "Fox", "Hedgehog", "Owl", "Robin", "Hare", "Squirrel", "Puffin", "Deer", "Kestrel", "Seal",
    "Swan", "Wren", "Heron", "Falcon", "Panda", "Koala", "Dolphin", "Lynx",
];

pub fn friendly_name() -> String {
    let mut rng = rand::thread_rng();
    let adjective = ADJECTIVES.choose(&mut rng).copied().unwrap_or("Calm");
    let animal = ANIMALS.choose(&mut rng).copied().unwrap_or("Otter");
    format!("{adjective} {animal} {}", rng.gen_range(10..100))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_have_three_parts() {
        let n = super::friendly_name();
        assert_eq!(n.split(' ').count(), 3, "{n}");
    }
}
