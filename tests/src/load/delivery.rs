//! What one receiver saw of one conversation: the set of `seq`s delivered, from which
//! duplicates, order, the resume point and (at the end) lost messages follow.

/// The `seq`s seen, as a bitmap (`seq` is dense from 1 in every conversation).
#[derive(Debug, Default, Clone)]
pub struct SeqSet {
    bits: Vec<u64>,
    /// Highest `seq` such that every `seq` from 1 to it has been seen.
    contiguous: i64,
    max: i64,
}

/// How a newly received `seq` fits what was seen before.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Next in order (or later: a gap that a following message may fill).
    InOrder,
    /// Seen before.
    Duplicate,
    /// New, but below a `seq` already delivered.
    OutOfOrder,
}

impl SeqSet {
    pub fn insert(&mut self, seq: i64) -> Arrival {
        if seq < 1 {
            return Arrival::OutOfOrder;
        }
        if self.contains(seq) {
            return Arrival::Duplicate;
        }
        let (word, bit) = Self::slot(seq);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= bit;
        let arrival = if seq < self.max { Arrival::OutOfOrder } else { Arrival::InOrder };
        self.max = self.max.max(seq);
        while self.contains(self.contiguous + 1) {
            self.contiguous += 1;
        }
        arrival
    }

    pub fn contains(&self, seq: i64) -> bool {
        if seq < 1 {
            return false;
        }
        let (word, bit) = Self::slot(seq);
        self.bits.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Where to resume after a reconnect: `subscribe` with this `after_seq` re-sends any gap.
    pub fn contiguous(&self) -> i64 {
        self.contiguous
    }

    fn slot(seq: i64) -> (usize, u64) {
        let i = (seq - 1) as usize;
        (i / 64, 1u64 << (i % 64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_arrivals() {
        let mut s = SeqSet::default();
        assert_eq!(s.insert(1), Arrival::InOrder);
        assert_eq!(s.insert(3), Arrival::InOrder);
        assert_eq!(s.contiguous(), 1);
        assert_eq!(s.insert(2), Arrival::OutOfOrder);
        assert_eq!(s.contiguous(), 3);
        assert_eq!(s.insert(3), Arrival::Duplicate);
        assert_eq!(s.insert(200), Arrival::InOrder);
        assert!(s.contains(200) && !s.contains(199) && !s.contains(0));
    }
}
