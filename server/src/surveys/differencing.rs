//! The differencing rules every released report obeys (docs/surveys.md rule 4, docs/reports.md):
//! two reports must not be subtractable into a group smaller than the threshold `k`. Survey
//! reports and service reports describe their populations differently (people by id; chats
//! counted by day), so each says how two of its populations differ and when they are nested
//! ([`Population`]); the rules themselves are here, once ([`differencing_refuses`]).

use std::collections::BTreeMap;

/// The numbers a report shows, by name. A total is named `x` and its cells `x/label`, so the
/// check knows which cells add up to which total.
pub(crate) type Cells = BTreeMap<String, i64>;

/// A released report's population, as the differencing rules see it.
pub(crate) trait Population {
    /// How many people are in one population and not the other (or in both but counted
    /// differently, e.g. responded in one only).
    fn people_differing(&self, other: &Self) -> i64;
    /// Which numbers shown in both reports may be compared cell by cell: those counting
    /// people of one population all among those of the other (nested), so that subtracting
    /// gives exactly the people in between.
    fn comparable<'a>(&'a self, other: &'a Self) -> Box<dyn Fn(&str) -> bool + 'a>;
}

/// Whether releasing `new` (population and cells) could reveal a group under `k` when set
/// against an earlier release `old`:
/// - the populations differ by 1 to `k - 1` people (rule 4a); or
/// - for a number that counts nested people ([`Population::comparable`]), each cell of the
///   larger minus the same cell of the smaller is exactly that cell for the people in between;
///   so every cell shown in both must differ by 0 or at least `k`, and so must (total
///   difference − cell difference), the people in between who are *not* in that cell (4b).
///
/// `old_cells` is `None` for releases recorded before cells were (population rule only); an
/// unreadable record refuses (fails closed).
pub(crate) fn differencing_refuses<P: Population>(
    new_pop: &P,
    new_cells: &Cells,
    old_pop: &P,
    old_cells: Option<&str>,
    k: i64,
) -> bool {
    let small = |d: i64| d != 0 && d.abs() < k;
    if small(new_pop.people_differing(old_pop)) {
        return true;
    }
    let Some(old_cells) = old_cells else {
        return false;
    };
    let Ok(old_cells) = serde_json::from_str::<Cells>(old_cells) else {
        // Our own record, unreadable: refuse rather than release blind.
        tracing::error!("report release log: unreadable cells; refusing the report");
        return true;
    };
    let comparable = new_pop.comparable(old_pop);
    for (key, new) in new_cells {
        let Some(old) = old_cells.get(key) else { continue };
        if !comparable(key) {
            continue;
        }
        let diff = new - old;
        if small(diff) {
            return true;
        }
        if let Some((total, _)) = key.rsplit_once('/') {
            if let (Some(nt), Some(ot)) = (new_cells.get(total), old_cells.get(total)) {
                if comparable(total) && small((nt - ot) - diff) {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A population that is simply a set of ids, all nested checks by set inclusion.
    struct Ids(std::collections::BTreeSet<u32>);

    impl Population for Ids {
        fn people_differing(&self, other: &Self) -> i64 {
            self.0.symmetric_difference(&other.0).count() as i64
        }
        fn comparable<'a>(&'a self, other: &'a Self) -> Box<dyn Fn(&str) -> bool + 'a> {
            let nested = self.0.is_subset(&other.0) || other.0.is_subset(&self.0);
            Box::new(move |_| nested)
        }
    }

    fn cells(pairs: &[(&str, i64)]) -> Cells {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn the_cell_rules_apply_to_any_population() {
        let old = Ids((0..5).collect());
        let old_cells = serde_json::to_string(&cells(&[("t", 5), ("t/a", 5)])).unwrap();
        let ten = Ids((0..10).collect());
        assert!(!differencing_refuses(&ten, &cells(&[("t", 10), ("t/a", 10)]), &old, Some(&old_cells), 5));
        assert!(differencing_refuses(&ten, &cells(&[("t", 10), ("t/a", 8)]), &old, Some(&old_cells), 5));
        let eleven = Ids((0..11).collect());
        assert!(differencing_refuses(&eleven, &cells(&[("t", 11), ("t/a", 10)]), &old, Some(&old_cells), 5));
        let overlapping = Ids((3..13).collect());
        assert!(!differencing_refuses(&overlapping, &cells(&[("t", 10), ("t/a", 8)]), &old, Some(&old_cells), 5));
        assert!(differencing_refuses(&Ids((0..7).collect()), &Cells::new(), &old, None, 5));
        assert!(differencing_refuses(&ten, &Cells::new(), &old, Some("not json"), 5));
    }
}
